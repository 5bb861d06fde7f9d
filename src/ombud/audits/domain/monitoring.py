"""Monitoring a system's decisions over time (coe-fc:16.2.e: "monitoring for risks and
adverse impacts"; coe-fc:10): the same audit per time window, the drift of each
metric, and alert rules such as "FPR ratio leaves [0.8, 1.25]" whose breaches open
findings on the system.

Works on the audit document (docs/audit-json-schema.md): the engine counts each
attribute per window in the same pass (the pseudo-attribute WINDOW); this module
moves those groups out of the main lists into a ``windows`` section and compares,
within each window, every group with its attribute's reference group.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ombud.audits.domain.metrics import (
    CHART_METRICS,
    DISPARITY_METRICS,
    MISSING,
    WINDOW,
    Confusion,
    Criterion,
    Metric,
)

# What a rule can watch, and what every window reports: the rates compared with the
# reference group.
MONITORED = DISPARITY_METRICS


class Comparison(enum.StrEnum):
    """How a group is compared with its reference group in a window."""

    RATIO = "ratio"
    DIFFERENCE = "difference"


def _aliases() -> dict[str, Metric]:
    """How a rule may name a metric: its name ("selection_rate", "selection rate"), what
    it is called ("false positive rate"), its short name ("FPR"), or the criterion that
    compares it alone ("demographic parity")."""
    found: dict[str, Metric] = {}
    for m in MONITORED:
        for name in (m.value, m.value.replace("_", " "), m.label, m.short):
            found[name.lower()] = m
    for c in Criterion:
        if len(c.metrics) == 1 and c.metrics[0] in MONITORED:
            found[c.value] = found[c.value.replace("_", " ")] = c.metrics[0]
    return found


ALIASES = _aliases()
_KNOWN = "selection rate, TPR, FPR, PPV"
_NUM = r"-?\d+(?:\.\d+)?"
_RULE = re.compile(
    rf"^\s*(?P<metric>[a-z_ ]+?)\s+(?P<kind>ratio|difference)\s+"
    rf"(?:(?:outside|leaves)\s*\[\s*(?P<lo>{_NUM})\s*,\s*(?P<hi>{_NUM})\s*\]"
    rf"|(?P<dir>below|above)\s+(?P<x>{_NUM}))\s*$",
    re.IGNORECASE,
)


class RuleError(ValueError):
    """The message names the part of the rule at fault."""


@dataclass(frozen=True)
class AlertRule:
    text: str
    metric: Metric
    kind: Comparison
    low: float | None  # breach below this
    high: float | None  # breach above this

    def breached(self, value: float) -> bool:
        return (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        )


def parse_rule(text: str) -> AlertRule:
    """'FPR ratio leaves [0.8, 1.25]', 'selection rate difference above 0.1',
    'tpr ratio below 0.8' (metrics: selection rate, TPR, FPR, PPV, or the criteria
    demographic parity, equal opportunity, predictive parity)."""
    match = _RULE.match(text)
    if match is None:
        head = text.strip().lower().split()
        if not head:
            raise RuleError("An alert rule is empty.")
        words = " ".join(head)
        if not any(words.startswith(a) for a in ALIASES):
            raise RuleError(f"Alert rule {text.strip()!r}: unknown metric; use one of {_KNOWN}.")
        if " ratio " not in f" {words} " and " difference " not in f" {words} ":
            raise RuleError(f"Alert rule {text.strip()!r}: say 'ratio' or 'difference'.")
        raise RuleError(
            f"Alert rule {text.strip()!r}: end with 'outside [LOW, HIGH]', 'below X' or "
            "'above X', e.g. 'FPR ratio outside [0.8, 1.25]'."
        )
    metric = ALIASES.get(" ".join(match["metric"].lower().split()))
    if metric is None:
        raise RuleError(
            f"Alert rule {text.strip()!r}: unknown metric {match['metric']!r}; use one of {_KNOWN}."
        )
    if match["lo"] is not None:
        low, high = float(match["lo"]), float(match["hi"])
        if low >= high:
            raise RuleError(f"Alert rule {text.strip()!r}: [{low}, {high}] is empty.")
    elif match["dir"].lower() == "below":
        low, high = float(match["x"]), None
    else:
        low, high = None, float(match["x"])
    kind = Comparison(match["kind"].lower())
    return AlertRule(" ".join(text.split()), metric, kind, low, high)


def rule_problem(texts: Iterable[str]) -> str | None:
    """What is wrong with alert rules, in the words of the first broken one; else None."""
    try:
        for text in texts:
            parse_rule(text)
    except RuleError as exc:
        return str(exc)
    return None


def _rate(confusion: Mapping[str, int] | None, metric: Metric) -> float | None:
    """A metric of a group of the JSON document, from its confusion counts."""
    if not confusion:
        return None
    return Confusion(**{k: confusion[k] for k in ("tp", "fp", "fn", "tn")}).rate(metric)


def _window_key(label: str) -> tuple[int, str]:
    return (1, label) if label == MISSING else (0, label)


def split_windows(doc: dict[str, Any], window: str, time_column: str) -> dict[str, Any]:
    """The document without the per-window groupings, plus its ``windows`` section."""
    per_window = [g for g in doc["groups"] if WINDOW in g["grouping"]]
    out = {
        **doc,
        "groupings": [g for g in doc["groupings"] if WINDOW not in g["attributes"]],
        "groups": [g for g in doc["groups"] if WINDOW not in g["grouping"]],
        "disparities": [d for d in doc["disparities"] if WINDOW not in d["grouping"]],
    }
    references = {
        g["attributes"][0]: (g.get("reference") or {}).get(g["attributes"][0])
        for g in out["groupings"]
        if len(g["attributes"]) == 1
    }
    labels = sorted({str(g["attributes"][WINDOW]) for g in per_window}, key=_window_key)
    series: list[dict[str, Any]] = []
    by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
    for g in per_window:
        attrs = [a for a in g["grouping"] if a != WINDOW]
        attribute = attrs[0] if attrs else ""
        value = g["attributes"].get(attribute) if attribute else None
        label = str(g["attributes"][WINDOW])
        item = {
            "window": label,
            "attribute": attribute or None,
            "value": value,
            "count": g["count"],
            "suppressed": g["suppressed"],
            "metrics": {m.value: _rate(g.get("confusion"), m) for m in MONITORED},
        }
        series.append(item)
        by_key[(attribute, str(value), label)] = item
    for item in series:
        attribute = item["attribute"]
        if not attribute:
            continue
        ref_value = references.get(attribute)
        ref = by_key.get((attribute, str(ref_value), item["window"]))
        item["reference"] = ref_value
        item[Comparison.RATIO.value] = {}
        item[Comparison.DIFFERENCE.value] = {}
        for m in MONITORED:
            v = item["metrics"][m]
            r = ref["metrics"][m] if ref and not ref["suppressed"] else None
            ok = v is not None and r is not None and not item["suppressed"]
            item[Comparison.DIFFERENCE.value][m.value] = v - r if ok else None
            item[Comparison.RATIO.value][m.value] = v / r if ok and r else None
    out["windows"] = {
        "window": window,
        "time": time_column,
        "labels": labels,
        "series": series,
        "drift": drift(series),
    }
    out.setdefault("warnings", [])
    missing = sum(i["count"] for i in series if i["attribute"] is None and i["window"] == MISSING)
    if missing:
        out["warnings"] = [
            *out["warnings"],
            f"{missing:,} rows have no readable time in {time_column}: counted in the "
            f"window {MISSING}.",
        ]
    return out


def drift(series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per attribute value and metric: first and last value over the windows, the range."""
    found: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
    for item in series:
        if item["window"] != MISSING and not item["suppressed"]:
            found.setdefault((item["attribute"], str(item["value"])), []).append(item)
    out = []
    for (attribute, _value), items in found.items():
        items.sort(key=lambda i: i["window"])
        for m in MONITORED:
            values = [i["metrics"][m] for i in items if i["metrics"][m] is not None]
            if len(values) < 2:
                continue
            out.append(
                {
                    "attribute": attribute,
                    "value": items[0]["value"],
                    "metric": m.value,
                    "first": values[0],
                    "last": values[-1],
                    "change": values[-1] - values[0],
                    "min": min(values),
                    "max": max(values),
                }
            )
    return out


@dataclass(frozen=True)
class Breach:
    rule: str
    window: str
    attribute: str
    value: Any
    reference: Any
    metric: Metric
    kind: Comparison
    measured: float

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "window": self.window,
            "attribute": self.attribute,
            "value": self.value,
            "reference": self.reference,
            "metric": self.metric.value,
            "kind": self.kind.value,
            "measured": self.measured,
        }


def finding_title(breach: Mapping[str, Any]) -> str:
    """What a finding is about, from a breach in the JSON document: the rule, the
    attribute and the group, not the window (later windows add to the same finding)."""
    return f"{breach['rule']} | {breach['attribute']}={breach['value']}"


def evaluate(rules: list[AlertRule], windows: Mapping[str, Any]) -> list[Breach]:
    """Every window and group where a rule is breached. Suppressed groups and groups
    whose reference is suppressed in a window never trigger (no number to judge)."""
    found = []
    for rule in rules:
        for item in windows.get("series", []):
            if not item.get("attribute") or item["window"] == MISSING or item["suppressed"]:
                continue
            if item["value"] == item.get("reference"):
                continue
            measured = item[rule.kind][rule.metric]
            if measured is None or not math.isfinite(measured):
                continue
            if rule.breached(measured):
                found.append(
                    Breach(
                        rule.text,
                        item["window"],
                        item["attribute"],
                        item["value"],
                        item.get("reference"),
                        rule.metric,
                        rule.kind,
                        measured,
                    )
                )
    return found


# -- the over-time table, as the CLI, the web page and the HTML report show it ---------


@dataclass(frozen=True)
class Cell:
    text: str  # "0.93" (ratio), "+0.012" (difference), "reference", "suppressed", "n/a", "—"
    number: bool  # False for the words: shown muted
    breached: bool


@dataclass(frozen=True)
class OverTimeRow:
    attribute: str
    value: str
    cells: tuple[Cell, ...]  # one per window label, in order


def over_time_views(alerts: Mapping[str, Any] | None) -> list[tuple[Metric, Comparison]]:
    """The over-time tables a report shows (the web page, the HTML report): what each
    alert rule watches, then the ratio of each charted rate. ``alerts``: the document's
    ``alerts`` section."""
    rules = [(r.metric, r.kind) for r in map(parse_rule, (alerts or {}).get("rules", []))]
    return list(dict.fromkeys([*rules, *((m, Comparison.RATIO) for m in CHART_METRICS)]))


def watched(rules: Iterable[str]) -> list[tuple[Metric, Comparison]]:
    """What the rules watch, each once; without rules, the FPR ratio (the terminal's
    one over-time table)."""
    found = [(r.metric, r.kind) for r in map(parse_rule, rules)]
    return list(dict.fromkeys(found or [(Metric.FPR, Comparison.RATIO)]))


def over_time(
    windows: Mapping[str, Any],
    metric: Metric | str,
    kind: Comparison | str = Comparison.RATIO,
    breaches: list[Mapping[str, Any]] | tuple[()] = (),
) -> list[OverTimeRow]:
    """Each attribute value's ratio (or difference) to its reference group per window,
    one row per value in the order of the series; "—" where the window has no such group,
    "n/a" where there is no number (e.g. no negatives for an FPR)."""
    metric, kind = Metric(metric), Comparison(kind)
    breached = {
        (b["window"], b["attribute"], str(b["value"]))
        for b in breaches
        if (b["metric"], b["kind"]) == (metric, kind)
    }
    rows: dict[tuple[str, str], dict[str, Mapping[str, Any]]] = {}
    for item in windows.get("series", []):
        if item.get("attribute"):
            rows.setdefault((item["attribute"], str(item["value"])), {})[item["window"]] = item
    out = []
    for (attribute, value), by_window in rows.items():
        cells = []
        for label in windows.get("labels", []):
            item = by_window.get(label)
            number = None if item is None else item.get(kind, {}).get(metric)
            text = (
                "—" if item is None else
                "reference" if value == str(item.get("reference")) else
                "suppressed" if item["suppressed"] else
                "n/a" if number is None else
                f"{number:.2f}" if kind is Comparison.RATIO else f"{number:+.3f}"
            )  # fmt: skip
            is_number = text[-1].isdigit()
            cells.append(Cell(text, is_number, (label, attribute, value) in breached))
        out.append(OverTimeRow(attribute, value, tuple(cells)))
    return out
