"""The ledger's API schemas."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ombud.kernel.web.schemas import DomainOut, PageOut, UtcDateTime


class LedgerEntryOut(DomainOut):
    seq: int
    at: UtcDateTime
    actor_id: int | None
    actor: str
    action: str = Field(description="What happened: create, update, transition, login, ...")
    entity_type: str
    entity_id: str
    organisation_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str


class LedgerPage(PageOut[LedgerEntryOut]):
    pass


class ChainReportOut(DomainOut):
    ok: bool
    checked: int = Field(description="Entries checked.")
    first_bad_seq: int | None = Field(description="The first entry that breaks the chain.")
    reason: str
