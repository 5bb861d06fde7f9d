"""Reading and verifying the audit ledger."""

from __future__ import annotations

from dataclasses import replace

from ombud.domain.access import Action, Principal, is_allowed
from ombud.domain.ledger import ChainReport, LedgerEntry, verify_chain
from ombud.domain.ports import LedgerFilter, PageResult
from ombud.errors import Forbidden
from ombud.services.common import Service, org_ref, page_of


class LedgerService(Service):
    def verify(self) -> ChainReport:
        """Walk the whole chain; report OK or the first entry that breaks it."""
        with self.uow_factory(readonly=True) as uow:
            return verify_chain(uow.ledger.iter_entries(), uow.ledger.head())

    def list(
        self,
        actor: Principal,
        flt: LedgerFilter | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> PageResult[LedgerEntry]:
        """Entries the actor may read: a platform administrator reads all; an
        organisation's admins read its entries; the members of an oversight body
        read those of the organisations in its jurisdiction (domain/access.py)."""
        page = page_of(offset, limit)
        flt = flt or LedgerFilter()
        with self.uow_factory(readonly=True) as uow:
            if not actor.is_superuser:
                readable = frozenset(
                    o.id
                    for o in uow.organisations.all()
                    if is_allowed(actor, Action.LEDGER_READ, org_ref(o))
                )
                if not readable:
                    raise Forbidden("You may not read the audit ledger of any organisation.")
                bound = (
                    readable if flt.organisation_ids is None else flt.organisation_ids & readable
                )
                flt = replace(flt, organisation_ids=frozenset(bound))
            return uow.ledger.find(flt, page)
