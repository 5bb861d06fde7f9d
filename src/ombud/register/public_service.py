"""The public transparency register: what anyone may see, without signing in.

Only published systems are ever read here: every query is bound to
``PublicationState.PUBLISHED`` in this module, so a draft or archived record
cannot leak through a page, the API or an export (coe-fc:8, coe-fc:14.2.a,
ipu-149:op22).

The public record's field names are a fixed interface (docs/register-export.md):
``PUBLIC_FIELDS`` lists them in export order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ombud.accounts.domain import Organisation
from ombud.kernel.errors import NotFound
from ombud.kernel.paging import PageResult
from ombud.kernel.service import Service, page_of
from ombud.register.domain.systems import PublicationState
from ombud.register.ports import SystemFilter, SystemListing

EXPORT_SCHEMA_VERSION = "1"

PUBLIC_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "organisation",
    "organisation_kind",
    "sector",
    "purpose",
    "intended_use",
    "deployment_context",
    "legal_basis",
    "decisions",
    "decision_role",
    "effect_on_people",
    "human_oversight",
    "affected_groups",
    "affects_children",
    "affects_persons_with_disabilities",
    "data_sources",
    "model_technique",
    "provider",
    "vendor",
    "sourcing",
    "scope_exemption",
    "scope_justification",
    "weapons_review",
    "risk_level",
    "risks_and_safeguards",
    "contact_point",
    "contest_information",
    "interaction_notice",
    "lifecycle_stage",
    "published_at",
    "last_changed_at",
    "significant_modification_at",
)


def public_record(listing: SystemListing) -> dict[str, Any]:
    """The published view of one system, with the stable field names of the export."""
    s = listing.system
    d = s.details
    return {
        "id": s.id,
        "name": d.name,
        "organisation": listing.organisation.name,
        "organisation_kind": listing.organisation.kind.value,
        "sector": d.sector.value,
        "purpose": d.purpose,
        "intended_use": d.intended_use,
        "deployment_context": d.deployment_context,
        "legal_basis": d.legal_basis,
        "decisions": d.decisions,
        "decision_role": d.decision_role.value,
        "effect_on_people": d.effect_on_people,
        "human_oversight": d.human_oversight,
        "affected_groups": list(d.affected_groups),
        "affects_children": d.affects_children,
        "affects_persons_with_disabilities": d.affects_persons_with_disabilities,
        "data_sources": [src.to_dict() for src in d.data_sources],
        "model_technique": d.model_technique,
        "provider": d.provider,
        "vendor": d.vendor,
        "sourcing": d.sourcing.value,
        "scope_exemption": d.scope_exemption.value,
        "scope_justification": d.scope_justification,
        "weapons_review": d.weapons_review_required,
        "risk_level": s.risk_level.value,
        "risks_and_safeguards": d.risks_and_safeguards,
        "contact_point": d.contact_point,
        "contest_information": d.contest_information,
        "interaction_notice": d.interaction_notice,
        "lifecycle_stage": s.lifecycle_stage.value,
        "published_at": s.published_at.isoformat() + "Z" if s.published_at else None,
        "last_changed_at": s.updated_at.isoformat() + "Z",
        "significant_modification_at": (
            s.significant_modification_at.isoformat() + "Z"
            if s.significant_modification_at
            else None
        ),
    }


def _published(flt: SystemFilter | None) -> SystemFilter:
    return replace(
        flt or SystemFilter(),
        organisation_ids=None,
        publication_state=PublicationState.PUBLISHED,
    )


class PublicRegisterService(Service):
    def search(
        self, flt: SystemFilter | None = None, offset: int = 0, limit: int = 20
    ) -> PageResult[SystemListing]:
        """Published systems matching the filters, newest change first."""
        page = page_of(offset, limit)
        with self.uow_factory(readonly=True) as uow:
            return uow.systems.search(_published(flt), page)

    def get(self, system_id: int) -> SystemListing:
        with self.uow_factory(readonly=True) as uow:
            system = uow.systems.get(system_id)
            if system is None or system.publication_state is not PublicationState.PUBLISHED:
                raise NotFound(f"No published AI system {system_id} in the register.")
            org = uow.organisations.get(system.organisation_id)
            assert org is not None
            return SystemListing(system, org)

    def iter_published(self, flt: SystemFilter | None = None) -> Iterator[dict[str, Any]]:
        """Every published system as a public record, streamed in batches (for exports)."""
        with self.uow_factory(readonly=True) as uow:
            for listing in uow.systems.iter_listings(_published(flt)):
                yield public_record(listing)

    def publishing_organisations(self) -> list[Organisation]:
        """Organisations with at least one published system, for the organisation filter."""
        with self.uow_factory(readonly=True) as uow:
            return uow.systems.organisations_with(PublicationState.PUBLISHED)
