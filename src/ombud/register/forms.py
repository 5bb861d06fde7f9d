"""The register's forms: an AI-system record from a page form, and the register's search
parameters from a query string."""

from __future__ import annotations

import enum
from typing import Annotated, Any

from fastapi import Depends
from starlette.datastructures import FormData

from ombud.kernel.web.forms import QueryChoice, QueryText, choice, query_enum, query_int, text
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import (
    DETAIL_FIELDS,
    FIELD_LABELS,
    LIST_MAX,
    DataRole,
    DataSource,
    DecisionRole,
    RiskLevel,
    ScopeExemption,
    Sector,
    Sourcing,
    SystemDetails,
)
from ombud.register.ports import SystemFilter


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
            member = choice(form, name, ENUM_FIELDS[name], errors, FIELD_LABELS.get(name))
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


def register_filter(
    q: QueryText = "",
    organisation: QueryChoice = "",
    sector: QueryChoice = "",
    stage: QueryChoice = "",
    risk: QueryChoice = "",
) -> SystemFilter:
    """The register's search parameters; an empty value means no filter."""
    return SystemFilter(
        organisation_id=query_int(organisation, "organisation"),
        sector=query_enum(sector, Sector, "sector", FIELD_LABELS["sector"]),
        lifecycle_stage=query_enum(stage, LifecycleStage, "stage"),
        risk_level=query_enum(risk, RiskLevel, "risk"),
        text=q,
    )


RegisterFilter = Annotated[SystemFilter, Depends(register_filter)]


def filter_values(flt: SystemFilter) -> dict[str, Any]:
    """The filter as the search forms show it."""
    return {
        "q": flt.text,
        "organisation": flt.organisation_id,
        "sector": flt.sector,
        "stage": flt.lifecycle_stage,
        "risk": flt.risk_level,
        "publication": flt.publication_state,
    }


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
