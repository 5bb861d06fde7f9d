"""The audit form: the web page's fields (and the API's multipart upload, which takes the
same fields) as the audit request, every field `ombud audit run` takes (but --no-hash:
a run on record keeps the data's sha256). What the form cannot read (a number, a
COLUMN=VALUE line, the population's YAML) is named by its field here; everything else
is checked by the request itself (AuditRequest.problems), the same rules and messages
as the CLI's."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ombud.audits.analysis import parse_intersections, parse_population, parse_references
from ombud.audits.domain.metrics import (
    DEFAULT_CONFIDENCE,
    DEFAULT_MIN_GROUP_SIZE,
    DEFAULT_REPLICATES,
)
from ombud.audits.domain.runs import Purpose, RunRequest
from ombud.kernel.errors import Invalid

# The form's inputs; a multipart upload to the API sends the same names.
REQUEST_FIELDS = (
    "label", "prediction", "score", "threshold", "groups", "intersect", "intersections",
    "references", "filter", "min_group_size", "population", "proxies", "bootstrap",
    "confidence", "seed", "purpose", "time_column", "window", "alerts",
)  # fmt: skip
LABELS = {
    "threshold": "Threshold",
    "min_group_size": "Smallest reported group",
    "proxies": "Proxies per attribute",
    "bootstrap": "Bootstrap replicates",
    "confidence": "Confidence level",
    "seed": "Seed of the bootstrap",
    "population": "Population shares",
    "references": "Reference group",
}
# The request names its problems as the CLI's options do; the form's inputs (and the
# API's fields, unchanged since clients use them) are named otherwise for three of them.
INPUT_OF_PROBLEM = {"group": "groups", "reference": "references", "intersect": "intersections"}
DEFAULTS = {
    "min_group_size": str(DEFAULT_MIN_GROUP_SIZE),
    "bootstrap": str(DEFAULT_REPLICATES),
    "confidence": str(DEFAULT_CONFIDENCE),
    "seed": "0",
    "proxies": "0",
    "purpose": Purpose.PRE_DEPLOYMENT.value,
}


def lines(text: str | None) -> list[str]:
    """A text field of one item per line: its lines that are not blank."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _number(raw: str, name: str, errors: dict[str, str]) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        errors[name] = f"{LABELS[name]}: a number, e.g. {DEFAULTS.get(name, '0.5')}."
        return None
    if not math.isfinite(value):
        errors[name] = f"{LABELS[name]}: a finite number."
        return None
    return value


def _whole(raw: str, name: str, default: int, errors: dict[str, str]) -> int:
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        errors[name] = f"{LABELS[name]}: a whole number, e.g. {DEFAULTS[name]}."
        return default


def references(text: str | None, errors: dict[str, str]) -> dict[str, str]:
    """The reference groups field: one COLUMN=VALUE per line."""
    try:
        return parse_references(lines(text), LABELS["references"], strip=True)
    except Invalid as exc:
        errors["references"] = exc.message
        return {}


def population(text: str | None, errors: dict[str, str]) -> dict[str, dict[str, float]]:
    """The population field: the YAML (or JSON) of a --population file."""
    if not text or not text.strip():
        return {}
    from ombud.kernel.safe_load import load_yaml  # bounded: no aliases, capped size

    try:
        return parse_population(load_yaml(LABELS["population"], text)[0])
    except Invalid as exc:
        errors["population"] = exc.message
        return {}


def run_request(fields: Mapping[str, str]) -> RunRequest:
    """The audit asked for in the form (fields as text). Invalid names each field that
    cannot be read, and then also what the request's own checks find."""

    def get(key: str) -> str:
        value = fields.get(key)
        return "" if value is None else str(value).strip()

    errors: dict[str, str] = {}
    threshold = _number(get("threshold"), "threshold", errors) if get("threshold") else None
    confidence = _number(get("confidence"), "confidence", errors) if get("confidence") else None
    try:
        purpose = Purpose(get("purpose") or Purpose.PRE_DEPLOYMENT.value)
    except ValueError:
        errors["purpose"] = "Choose pre-deployment testing or monitoring."
        purpose = Purpose.PRE_DEPLOYMENT
    request = RunRequest(
        label=get("label"),
        groups=tuple(g.strip() for g in get("groups").split(",") if g.strip()),
        prediction=get("prediction") or None,
        score=get("score") or None,
        threshold=threshold,
        intersect=get("intersect") in ("1", "on", "true", "True", "yes"),
        intersections=parse_intersections(lines(get("intersections"))),
        references=references(get("references"), errors),
        filter=get("filter") or None,
        min_group_size=_whole(
            get("min_group_size"), "min_group_size", DEFAULT_MIN_GROUP_SIZE, errors
        ),
        confidence=DEFAULT_CONFIDENCE if confidence is None else confidence,
        replicates=_whole(get("bootstrap"), "bootstrap", DEFAULT_REPLICATES, errors),
        seed=_whole(get("seed"), "seed", 0, errors),
        population=population(get("population"), errors),
        proxies=_whole(get("proxies"), "proxies", 0, errors),
        purpose=purpose,
        time_column=get("time_column") or None,
        window=get("window") or None,
        alerts=tuple(lines(get("alerts"))),
    )
    if errors:  # with the request's own problems, so that every field is named at once
        problems = {k: v for k, v in request.problems().items() if k not in errors}
        raise Invalid.from_fields({**problems, **errors})
    return request


def input_errors(exc: Invalid) -> dict[str, str]:
    """The error's messages by the form input they belong next to."""
    return {INPUT_OF_PROBLEM.get(k, k): v for k, v in exc.field_messages().items()}
