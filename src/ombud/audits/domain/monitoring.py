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

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ombud.audits.domain.metrics import WINDOW

METRICS = ("selection_rate", "tpr", "fpr", "ppv")
MISSING = "(missing)"
ALIASES = {
    "selection_rate": "selection_rate",
    "selection rate": "selection_rate",
    "demographic parity": "selection_rate",
    "demographic_parity": "selection_rate",
    "tpr": "tpr",
    "equal opportunity": "tpr",
    "equal_opportunity": "tpr",
    "fpr": "fpr",
    "ppv": "ppv",
    "predictive parity": "ppv",
    "predictive_parity": "ppv",
}
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
    metric: str
    kind: str  # ratio or difference
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
            raise RuleError(
                f"Alert rule {text.strip()!r}: unknown metric; use one of "
                "selection rate, TPR, FPR, PPV."
            )
        if " ratio " not in f" {words} " and " difference " not in f" {words} ":
            raise RuleError(f"Alert rule {text.strip()!r}: say 'ratio' or 'difference'.")
        raise RuleError(
            f"Alert rule {text.strip()!r}: end with 'outside [LOW, HIGH]', 'below X' or "
            "'above X', e.g. 'FPR ratio outside [0.8, 1.25]'."
        )
    metric = ALIASES.get(" ".join(match["metric"].lower().split()))
    if metric is None:
        raise RuleError(
            f"Alert rule {text.strip()!r}: unknown metric {match['metric']!r}; use one of "
            "selection rate, TPR, FPR, PPV."
        )
    if match["lo"] is not None:
        low, high = float(match["lo"]), float(match["hi"])
        if low >= high:
            raise RuleError(f"Alert rule {text.strip()!r}: [{low}, {high}] is empty.")
    elif match["dir"].lower() == "below":
        low, high = float(match["x"]), None
    else:
        low, high = None, float(match["x"])
    return AlertRule(" ".join(text.split()), metric, match["kind"].lower(), low, high)


def _rate(confusion: Mapping[str, int] | None, metric: str) -> float | None:
    if not confusion:
        return None
    tp, fp, fn, tn = (confusion[k] for k in ("tp", "fp", "fn", "tn"))
    num, den = {
        "selection_rate": (tp + fp, tp + fp + fn + tn),
        "tpr": (tp, tp + fn),
        "fpr": (fp, fp + tn),
        "ppv": (tp, tp + fp),
    }[metric]
    return num / den if den else None


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
            "metrics": {m: _rate(g.get("confusion"), m) for m in METRICS},
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
        item["ratio"] = {}
        item["difference"] = {}
        for m in METRICS:
            v = item["metrics"][m]
            r = ref["metrics"][m] if ref and not ref["suppressed"] else None
            ok = v is not None and r is not None and not item["suppressed"]
            item["difference"][m] = v - r if ok else None
            item["ratio"][m] = v / r if ok and r else None
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
        for m in METRICS:
            values = [i["metrics"][m] for i in items if i["metrics"][m] is not None]
            if len(values) < 2:
                continue
            out.append(
                {
                    "attribute": attribute,
                    "value": items[0]["value"],
                    "metric": m,
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
    metric: str
    kind: str
    measured: float

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "window": self.window,
            "attribute": self.attribute,
            "value": self.value,
            "reference": self.reference,
            "metric": self.metric,
            "kind": self.kind,
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


def over_time(
    windows: Mapping[str, Any],
    metric: str,
    kind: str = "ratio",
    breaches: list[Mapping[str, Any]] | tuple[()] = (),
) -> list[OverTimeRow]:
    """Each attribute value's ratio (or difference) to its reference group per window,
    one row per value in the order of the series; "—" where the window has no such group,
    "n/a" where there is no number (e.g. no negatives for an FPR)."""
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
                f"{number:.2f}" if kind == "ratio" else f"{number:+.3f}"
            )  # fmt: skip
            is_number = text[-1].isdigit()
            cells.append(Cell(text, is_number, (label, attribute, value) in breached))
        out.append(OverTimeRow(attribute, value, tuple(cells)))
    return out
