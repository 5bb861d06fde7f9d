"""HTML form parsing: turn submitted fields into domain values, or field-level messages."""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from starlette.datastructures import FormData

from ombud.domain.systems import (
    DETAIL_FIELDS,
    FIELD_LABELS,
    LIST_MAX,
    DataRole,
    DataSource,
    DecisionRole,
    ScopeExemption,
    Sector,
    Sourcing,
    SystemDetails,
)
from ombud.errors import Invalid

E = TypeVar("E", bound=enum.Enum)

BOOL_FIELDS = (
    "affects_children",
    "affects_persons_with_disabilities",
    "military_use",
    "autonomy_in_critical_functions",
)
ENUM_FIELDS: dict[str, type[enum.Enum]] = {
    "sector": Sector,
    "decision_role": DecisionRole,
    "sourcing": Sourcing,
    "scope_exemption": ScopeExemption,
}
DATA_SOURCE_ROWS_MAX = LIST_MAX


def text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def choice(form: FormData, name: str, enum_type: type[E], errors: dict[str, str]) -> E | None:
    raw = text(form, name)
    try:
        return enum_type(raw)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum_type)
        label = FIELD_LABELS.get(name, name)
        errors[name] = f"'{raw}' is not a valid choice for {label}: use one of {allowed}."
        return None


def data_source_rows(form: FormData) -> list[dict[str, Any]]:
    """The data-source rows as submitted (ds-N-field), blank rows dropped."""
    rows = []
    for i in range(DATA_SOURCE_ROWS_MAX + 5):
        name = text(form, f"ds-{i}-name")
        prov = text(form, f"ds-{i}-provenance")
        desc = text(form, f"ds-{i}-description")
        if f"ds-{i}-role" not in form:
            continue
        if not (name or prov or desc):
            continue
        rows.append(
            {
                "name": name,
                "role": text(form, f"ds-{i}-role"),
                "provenance": prov,
                "description": desc,
                "personal_data": f"ds-{i}-personal_data" in form,
                "special_categories": f"ds-{i}-special_categories" in form,
            }
        )
    return rows


def details_from_form(
    form: FormData,
) -> tuple[dict[str, Any], SystemDetails | None, dict[str, str]]:
    """(values to re-show, details or None, {field: message})."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in DETAIL_FIELDS:
        if name in BOOL_FIELDS:
            values[name] = name in form
        elif name == "affected_groups":
            values[name] = [g.strip() for g in text(form, name).split("\n") if g.strip()]
        elif name == "data_sources":
            values[name] = data_source_rows(form)
        elif name in ENUM_FIELDS:
            member = choice(form, name, ENUM_FIELDS[name], errors)
            values[name] = member.value if member else text(form, name)
        else:
            values[name] = text(form, name)
    sources = []
    for i, row in enumerate(values["data_sources"]):
        try:
            role = DataRole(row["role"])
        except ValueError:
            errors["data_sources"] = f"Data source {i + 1}: choose what the data is used for."
            continue
        if not row["name"]:
            errors["data_sources"] = f"Data source {i + 1}: give the data source a name."
            continue
        sources.append(
            DataSource(
                row["name"],
                role,
                row["provenance"],
                row["personal_data"],
                row["special_categories"],
                row["description"],
            )
        )
    if errors:
        return values, None, errors
    snapshot = {**values, "data_sources": [s.to_dict() for s in sources]}
    return values, SystemDetails.from_snapshot(snapshot), errors


def query_enum(raw: str, enum_type: type[E], name: str) -> E | None:
    """An optional enum from a query string; '' means no filter."""
    if not raw:
        return None
    try:
        return enum_type(raw)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum_type)
        raise Invalid.from_fields(
            {name: f"'{raw[:50]}' is not a valid {name}: use one of {allowed}."}, "query"
        ) from None


def query_int(raw: str, name: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid.from_fields({name: f"'{raw[:50]}' is not a valid {name} id."}, "query")
    return int(raw)
