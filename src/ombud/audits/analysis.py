"""Bias and discrimination audits (coe-fc:10, unga-78-265:op6.h): run one, render it.

The engine (a port: ombud.audits.ports.AuditEngine) reads the data once and
counts; the domain turns the counts into the report. This service checks the
request, ties the two together and renders the result as JSON or HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ombud.audits.domain.document import report_json
from ombud.audits.domain.metrics import AuditInputError
from ombud.audits.domain.monitoring import evaluate, parse_rule, split_windows
from ombud.audits.domain.report import AuditReport, assemble_report
from ombud.audits.domain.request import AuditRequest
from ombud.audits.ports import AuditEngine, AuditReportRenderer, ProgressFn
from ombud.kernel.errors import FieldProblem, Invalid


def parse_references(
    items: Iterable[str], name: str = "--reference", strip: bool = False
) -> dict[str, str]:
    """``COL=VALUE`` items (--reference, or the lines of the web form's field) as
    {column: value}; Invalid on a malformed one, naming it as ``name``. The CLI takes
    the value as typed; a form line is stripped (``strip``)."""
    found: dict[str, str] = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise Invalid(f"{name} {item!r}: write it as COLUMN=VALUE, e.g. sex=female.")
        if column.strip() in found:
            raise Invalid(f"{name} names {column.strip()} twice.")
        found[column.strip()] = value.strip() if strip else value
    return found


def parse_intersections(items: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """``COL,COL[,...]`` items (--intersection, or the lines of the web form's field)."""
    return tuple(
        combo for item in items if (combo := tuple(c.strip() for c in item.split(",") if c.strip()))
    )


def parse_population(document: Any) -> dict[str, dict[str, float]]:
    """A population distribution, {column: {value: share}}, from parsed JSON or YAML."""
    if not isinstance(document, Mapping):
        raise Invalid("The population file must map each column to {value: share}.")
    found: dict[str, dict[str, float]] = {}
    for column, shares in document.items():
        if not isinstance(shares, Mapping):
            raise Invalid(f"The population of {column} must map each value to its share.")
        found[str(column)] = {}
        for value, share in shares.items():
            if isinstance(share, bool) or not isinstance(share, int | float):
                raise Invalid(f"The population share of {column}={value} is not a number.")
            name = "true" if value is True else "false" if value is False else str(value)
            found[str(column)][name] = float(share)
    return found


class AuditService:
    def __init__(self, engine: AuditEngine, renderer: AuditReportRenderer) -> None:
        self.engine = engine
        self.renderer = renderer

    def run(self, request: AuditRequest, progress: ProgressFn | None = None) -> AuditReport:
        """Audit the data as requested. Invalid names the option, column or expression at fault."""
        problems = request.problems()
        if problems:
            first = next(iter(problems.values()))
            raise Invalid(
                first if len(problems) == 1 else f"{first} (and {len(problems) - 1} more)",
                [FieldProblem(("option", name), msg) for name, msg in problems.items()][1:],
            )
        tabulation = self.engine.tabulate(request, progress)
        try:
            return assemble_report(request, tabulation, self.engine.bootstrap)
        except AuditInputError as exc:
            raise Invalid(str(exc)) from None

    def json(self, report: AuditReport, alerts: Iterable[str] | None = None) -> dict[str, Any]:
        """The report as the versioned document of docs/audit-json-schema.md; with a
        window, its ``windows`` section, and the breaches of the alert rules (the
        request's, or ``alerts`` instead)."""
        doc = report_json(report)
        request = report.request
        if alerts is not None:
            request = replace(request, alerts=tuple(alerts))
        problem = request.alert_problem()
        if problem:
            raise Invalid(problem)
        if request.window and request.time_column:
            doc = split_windows(doc, request.window, request.time_column)
            rules = [parse_rule(t) for t in request.alerts]
            doc["alerts"] = {
                "rules": [r.text for r in rules],
                "breaches": [b.as_json() for b in evaluate(rules, doc["windows"])],
            }
        return doc

    def html(self, report: AuditReport, doc: Mapping[str, Any] | None = None) -> str:
        """The report as one self-contained HTML page, its charts drawn from ``doc``, the
        report's JSON document (made here if not given); with a window, its over-time
        tables and alerts."""
        return self.renderer.html(report, doc if doc is not None else self.json(report))
