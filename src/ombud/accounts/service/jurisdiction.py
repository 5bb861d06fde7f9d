"""Jurisdiction: which oversight bodies and parliaments read an organisation's records."""

from __future__ import annotations

from ombud.accounts.domain import Organisation
from ombud.accounts.service.base import is_operator
from ombud.accounts.service.organisations import Organisations
from ombud.kernel.access import Principal
from ombud.kernel.errors import Forbidden, Invalid
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ports import UnitOfWork
from ombud.kernel.service import require_superuser


class Jurisdiction(Organisations):
    """The jurisdiction part of ``AccountsService`` (it names organisations by reference)."""

    def grant_jurisdiction(self, actor: Principal, oversight_ref: str, org_ref: str) -> None:
        """Give an oversight body or parliament read access to an organisation's records
        (platform administrators, never for a body they belong to themselves)."""
        require_superuser(actor, "grant jurisdiction")
        with self.uow_factory() as uow:
            overseer = self._find_org(uow, oversight_ref)
            org = self._find_org(uow, org_ref)
            self._refuse_own_jurisdiction(uow, actor, overseer)
            if not overseer.kind.oversees:
                raise Invalid.from_fields(
                    {
                        "oversight": f"{overseer.name} is a {overseer.kind.label}; only oversight "
                        "bodies and parliaments can be given jurisdiction."
                    }
                )
            if org.id == overseer.id:
                raise Invalid.from_fields(
                    {"organisation": "An organisation cannot oversee itself."}
                )
            if uow.organisations.add_jurisdiction(overseer.id, org.id):
                self._record(
                    uow,
                    actor,
                    LedgerAction.JURISDICTION,
                    "jurisdiction",
                    f"{overseer.id}:{org.id}",
                    org.id,
                    after={"oversight_id": overseer.id, "organisation_id": org.id},
                )
            uow.commit()

    def revoke_jurisdiction(self, actor: Principal, oversight_ref: str, org_ref: str) -> None:
        """Withdraw it (platform administrators, never for a body they belong to)."""
        require_superuser(actor, "revoke jurisdiction")
        with self.uow_factory() as uow:
            overseer = self._find_org(uow, oversight_ref)
            org = self._find_org(uow, org_ref)
            self._refuse_own_jurisdiction(uow, actor, overseer)
            if uow.organisations.remove_jurisdiction(overseer.id, org.id):
                self._record(
                    uow,
                    actor,
                    LedgerAction.JURISDICTION,
                    "jurisdiction",
                    f"{overseer.id}:{org.id}",
                    org.id,
                    before={"oversight_id": overseer.id, "organisation_id": org.id},
                )
            uow.commit()

    @staticmethod
    def _refuse_own_jurisdiction(uow: UnitOfWork, actor: Principal, overseer: Organisation) -> None:
        # Platform administrators do not read private records: one who belongs to an
        # oversight body would give themselves read access by widening its jurisdiction
        # (and narrowing it is the same decision, so it is left to another one too).
        if is_operator(actor):
            return
        if any(o.id == overseer.id for o, _ in uow.users.memberships_of(actor.user_id)):
            raise Forbidden(
                f"You are a member of {overseer.name}: another platform administrator must "
                "grant or withdraw its jurisdiction."
            )

    def grantable_overseers(self, actor: Principal) -> list[Organisation]:
        """Oversight bodies and parliaments whose jurisdiction the actor may change."""
        if not actor.is_superuser:
            return []
        with self.uow_factory(readonly=True) as uow:
            own = (
                set()
                if is_operator(actor)
                else {o.id for o, _ in uow.users.memberships_of(actor.user_id)}
            )
            return [o for o in uow.organisations.all() if o.kind.oversees and o.id not in own]

    def jurisdiction(self, org_ref: str | int) -> tuple[list[Organisation], list[Organisation]]:
        """(organisations this one oversees, bodies overseeing this one)."""
        with self.uow_factory(readonly=True) as uow:
            org = self._find_org(uow, org_ref)
            overseen_ids = uow.organisations.jurisdiction_of([org.id])
            overseen = [o for o in uow.organisations.all() if o.id in overseen_ids]
            return overseen, uow.organisations.overseers_of(org.id)
