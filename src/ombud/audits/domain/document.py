"""The audit's JSON document (docs/audit-json-schema.md): what is stored, exported and
rendered, one field per decision of the report."""

from __future__ import annotations

import math
from typing import Any

from ombud.audits.domain.metrics import MISSING, SCHEMA_VERSION, Criterion, Metric, Value
from ombud.audits.domain.report import AuditReport, GroupResult

# -- the JSON document (docs/audit-json-schema.md) -----------------------------------


def _json_value(value: Value) -> Value:
    if value is None:
        return MISSING
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _pair(interval: tuple[float, float] | None) -> list[float] | None:
    return list(interval) if interval is not None else None


def group_json(g: GroupResult, has_score: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "attributes": {a: _json_value(v) for a, v in zip(g.grouping, g.values, strict=True)},
        "missing": [a for a, v in zip(g.grouping, g.values, strict=True) if v is None],
        "count": g.count,
        "share": g.share,
        "suppressed": g.suppressed,
        "reference": g.reference,
    }
    for m in Metric:
        doc[m.value] = g.metrics[m]
    if has_score:
        doc["mean_score"] = g.mean_score
        doc["auc"] = g.auc
        doc["auc_error_bound"] = g.auc_error_bound
    doc["confusion"] = (
        {"tp": g.confusion.tp, "fp": g.confusion.fp, "fn": g.confusion.fn, "tn": g.confusion.tn}
        if g.confusion is not None
        else None
    )
    doc["intervals"] = {"share": _pair(g.share_interval)} | {
        m.value: _pair(g.intervals[m]) for m in Metric
    }
    return doc


def report_json(report: AuditReport) -> dict[str, Any]:
    """The audit as the versioned JSON document described in docs/audit-json-schema.md."""
    tab = report.tabulation
    has_score = report.request.score is not None
    groupings = []
    for gr in report.groupings:
        criteria = {}
        for c in Criterion:
            diff, ratio = gr.criterion(c)
            criteria[c.value] = {"difference": diff, "ratio": ratio}
        groupings.append(
            {
                "attributes": list(gr.attributes),
                "reference": (
                    {a: _json_value(v) for a, v in zip(gr.attributes, gr.reference, strict=True)}
                    if gr.reference is not None
                    else None
                ),
                "reference_rule": gr.reference_rule.value,
                "groups": sum(1 for g in report.groups if g.grouping == gr.attributes),
                "criteria": criteria,
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "data": {
            "format": tab.format,
            "files": [{"path": f.path, "bytes": f.bytes, "sha256": f.sha256} for f in tab.files],
            "rows_scanned": tab.rows_scanned,
        },
        "rows": tab.rows,
        "parameters": report.request.parameters()
        | {"score_bins": tab.score_bins, "score_range": _pair(tab.score_range)},
        "engine": {
            "name": tab.engine.name,
            "version": tab.engine.version,
            "libraries": dict(tab.engine.libraries),
            "seconds": tab.seconds,
        },
        "overall": group_json(report.overall, has_score),
        "groupings": groupings,
        "groups": [
            group_json(g, has_score) | {"grouping": list(g.grouping)} for g in report.groups
        ],
        "disparities": [
            {
                "grouping": list(d.grouping),
                "attributes": {
                    a: _json_value(v) for a, v in zip(d.grouping, d.values, strict=True)
                },
                "reference": {
                    a: _json_value(v) for a, v in zip(d.grouping, d.reference, strict=True)
                },
                "metric": d.metric.value,
                "criteria": [c.value for c in d.criteria],
                "value": d.value,
                "reference_value": d.reference_value,
                "difference": d.difference,
                "difference_interval": _pair(d.difference_interval),
                "ratio": d.ratio,
                "ratio_interval": _pair(d.ratio_interval),
                "flagged": d.flagged,
                "suppressed": d.suppressed,
            }
            for d in report.disparities
        ],
        "representation": [
            {
                "attribute": r.attribute,
                "value": r.value,
                "count": r.count,
                "observed": r.observed,
                "observed_interval": _pair(r.observed_interval),
                "expected": r.expected,
                "ratio": r.ratio,
            }
            for r in report.representation
        ],
        "proxies": [
            {
                "column": p.column,
                "attribute": p.attribute,
                "cramers_v": p.cramers_v,
                "method": p.method,
                "categories": p.categories,
            }
            for p in report.proxies
        ],
        "warnings": list(report.warnings),
    }
