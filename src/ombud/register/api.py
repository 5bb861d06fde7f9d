"""The internal register of AI systems: record, revise, move through the lifecycle, publish.

Every route calls the register service, which checks roles on every call
(domain/access.py POLICY) and writes each change with its ledger entry in one
transaction. A system the caller may not read answers 404, so ids do not leak.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from ombud.kernel.access import Principal
from ombud.kernel.errors import FieldProblem, Invalid
from ombud.kernel.web.api import PagingDep, PathId, QueryId, errors, window
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import (
    DETAIL_FIELDS,
    PublicationState,
    RiskLevel,
    Sector,
    SystemDetails,
)
from ombud.register.ports import SystemFilter
from ombud.register.schemas import (
    PublicationIn,
    RevisionOut,
    RevisionPage,
    RiskLevelIn,
    SignificantModificationIn,
    SystemCreate,
    SystemDetailsIn,
    SystemOut,
    SystemPage,
    SystemPatch,
    SystemUpdate,
    TransitionIn,
    TransitionOut,
    TransitionPage,
)

router = APIRouter(prefix="/systems", tags=["systems"])

_DETAIL_FIELDS = frozenset(DETAIL_FIELDS)


def _details(body: SystemDetailsIn) -> SystemDetails:
    return SystemDetails.from_snapshot(body.model_dump(mode="json", include=set(_DETAIL_FIELDS)))


def _out(c: ContainerDep, principal: Principal, system_id: int) -> SystemOut:
    """The record as the caller now sees it (after a write: its new state)."""
    return SystemOut.from_view(c.register.get(principal, system_id))


@router.get(
    "",
    summary="List AI systems",
    description="Systems of the organisations you belong to, and of those your oversight "
    "body has jurisdiction over (coe-fc:26), newest change first. Filters combine.",
)
def list_systems(
    c: ContainerDep,
    principal: ApiPrincipal,
    paging: PagingDep,
    organisation_id: QueryId = None,
    sector: Sector | None = None,
    lifecycle_stage: LifecycleStage | None = None,
    risk_level: RiskLevel | None = None,
    publication_state: PublicationState | None = None,
    q: Annotated[
        str, Query(max_length=200, description="Words in the name, purpose or organisation.")
    ] = "",
) -> SystemPage:
    flt = SystemFilter(
        organisation_id=organisation_id,
        sector=sector,
        lifecycle_stage=lifecycle_stage,
        risk_level=risk_level,
        publication_state=publication_state,
        text=q,
    )
    return SystemPage.from_result(c.register.list(principal, flt, paging.offset, paging.limit))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an AI system",
    description="Creates the record as a draft, invisible to the public. Registering "
    "straight into deployment or use passes the same gates as a transition (coe-fc:14.2.b).",
    responses=errors(404),
)
def create_system(
    body: SystemCreate,
    c: ContainerDep,
    principal: ApiPrincipal,
    request: Request,
    response: Response,
) -> SystemOut:
    system = c.register.create(
        principal, body.organisation_id, _details(body), body.lifecycle_stage, body.reason
    )
    # Built from the request's own URL: right wherever the API is mounted.
    collection = str(request.url.replace(query="")).rstrip("/")
    response.headers["location"] = f"{collection}/{system.id}"
    return _out(c, principal, system.id)


@router.get(
    "/{system_id}",
    summary="Get one AI system",
    description="The full record with its next lifecycle stages and, for each, the gates "
    "that still block it.",
    responses=errors(404),
)
def get_system(system_id: PathId, c: ContainerDep, principal: ApiPrincipal) -> SystemOut:
    return _out(c, principal, system_id)


@router.put(
    "/{system_id}",
    summary="Replace the record",
    description="Saves the whole record as a new revision; fields left out take their "
    "default (empty) value. A change to a significant field, or a `significant_reason`, "
    "marks a significant modification that calls for testing again (coe-fc:16.2.g). "
    "Send `expected_revision` to refuse an edit made on a stale copy (409).",
    responses=errors(404, 409),
)
def replace_system(
    system_id: PathId, body: SystemUpdate, c: ContainerDep, principal: ApiPrincipal
) -> SystemOut:
    c.register.update(
        principal,
        system_id,
        _details(body),
        body.expected_revision,
        body.significant_reason,
        body.note,
    )
    return _out(c, principal, system_id)


@router.patch(
    "/{system_id}",
    summary="Change some fields of the record",
    description="Only the fields given change. The edit applies to the revision read just "
    "before it (or to `expected_revision`), so a concurrent change is refused with 409 "
    "rather than overwritten. Significant modifications as for PUT (coe-fc:16.2.g).",
    responses=errors(404, 409),
)
def patch_system(
    system_id: PathId, body: SystemPatch, c: ContainerDep, principal: ApiPrincipal
) -> SystemOut:
    given = body.model_fields_set & _DETAIL_FIELDS
    nulls = sorted(f for f in given if getattr(body, f) is None)
    if nulls:
        raise Invalid(
            "Fields cannot be set to null: " + ", ".join(nulls) + ".",
            [
                FieldProblem(("body", f), "May not be null; leave the field out instead.")
                for f in nulls
            ],
        )
    current = c.register.get(principal, system_id).system
    merged = current.details.snapshot()
    merged.update(body.model_dump(mode="json", include=set(given)))
    expected = body.expected_revision if body.expected_revision is not None else current.revision
    c.register.update(
        principal,
        system_id,
        SystemDetails.from_snapshot(merged),
        expected,
        body.significant_reason,
        body.note,
    )
    return _out(c, principal, system_id)


@router.delete(
    "/{system_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a draft",
    description="Only a draft that was never published can be deleted; a published record "
    "is archived instead so the public record of it stays accountable (409). A draft that "
    "has assessments, incidents, audit runs or findings is kept with them (409, naming them).",
    responses=errors(404, 409),
)
def delete_system(system_id: PathId, c: ContainerDep, principal: ApiPrincipal) -> None:
    c.register.delete(principal, system_id)


@router.post(
    "/{system_id}/transitions",
    status_code=status.HTTP_201_CREATED,
    summary="Move to another lifecycle stage",
    description="Moves the system along the lifecycle graph (GET /lifecycle). The way into "
    "deployment and use is guarded by gates: a refusal is 422 naming each field that must be "
    "filled in first (coe-fc:14.2.b, coe-fc:16.2.d).",
    responses=errors(404),
)
def transition_system(
    system_id: PathId, body: TransitionIn, c: ContainerDep, principal: ApiPrincipal
) -> SystemOut:
    c.register.transition(principal, system_id, body.to_stage, body.reason)
    return _out(c, principal, system_id)


@router.get(
    "/{system_id}/transitions",
    summary="Lifecycle transitions",
    description="Every stage change with who made it and why, newest first.",
    responses=errors(404),
)
def list_transitions(
    system_id: PathId, c: ContainerDep, principal: ApiPrincipal, paging: PagingDep
) -> TransitionPage:
    transitions = c.register.history(principal, system_id).transitions
    return TransitionPage.of(
        [TransitionOut.from_domain(t) for t in window(transitions, paging)],
        len(transitions),
        paging.offset,
        paging.limit,
    )


@router.post(
    "/{system_id}/publication",
    summary="Publish, withdraw or archive",
    description="Publishing puts the system in the public register (coe-fc:8); it needs at "
    "least the purpose and a contact point. Moves: draft → published → archived → published, "
    "published → draft.",
    responses=errors(404),
)
def set_publication(
    system_id: PathId, body: PublicationIn, c: ContainerDep, principal: ApiPrincipal
) -> SystemOut:
    c.register.set_publication(principal, system_id, body.state)
    return _out(c, principal, system_id)


@router.post(
    "/{system_id}/significant-modifications",
    status_code=status.HTTP_201_CREATED,
    summary="Flag a significant modification",
    description="Records a significant modification that the field changes do not show "
    "(e.g. retraining on new data), as a new revision: coe-fc:16.2.g asks for testing "
    "again after it.",
    responses=errors(404),
)
def flag_significant_modification(
    system_id: PathId, body: SignificantModificationIn, c: ContainerDep, principal: ApiPrincipal
) -> SystemOut:
    c.register.flag_significant(principal, system_id, body.reason)
    return _out(c, principal, system_id)


@router.post(
    "/{system_id}/risk-level",
    summary="Set the preliminary risk level",
    description="Records a risk level, with the reason, until signed assessments set it "
    "(coe-fc:16.2.b).",
    responses=errors(404),
)
def set_risk_level(
    system_id: PathId, body: RiskLevelIn, c: ContainerDep, principal: ApiPrincipal
) -> SystemOut:
    c.register.classify_risk(principal, system_id, body.risk_level, body.reason)
    return _out(c, principal, system_id)


@router.get(
    "/{system_id}/revisions",
    summary="Revisions of the record",
    description="Every saved revision, newest first, with field-by-field changes and whether "
    "it was a significant modification (coe-fc:16.2.g).",
    responses=errors(404),
)
def list_revisions(
    system_id: PathId, c: ContainerDep, principal: ApiPrincipal, paging: PagingDep
) -> RevisionPage:
    revisions = c.register.history(principal, system_id).revisions
    return RevisionPage.of(
        [RevisionOut.from_view(r) for r in window(revisions, paging)],
        len(revisions),
        paging.offset,
        paging.limit,
    )
