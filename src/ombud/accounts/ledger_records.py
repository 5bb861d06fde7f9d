"""How the ledger checks this area's records (kernel/ledger): what the entries vouch
for (RecordSpec) and where the current record is stored (RecordSource)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ombud.accounts.tables import api_tokens, jurisdictions, memberships, organisations, users
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ledger.record_check import RecordSpec
from ombud.kernel.ledger.records import RecordSource, picked

A = LedgerAction


def _organisation(m: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": m["name"],
        "slug": m["slug"],
        "kind": m["kind"],
        "country": m["country"],
        "notice_languages": [x for x in (m["notice_languages"] or "en").split(",") if x],
    }


def _user(m: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "email": m["email"],
        "display_name": m["display_name"],
        "superuser": bool(m["is_superuser"]),
    }


LEDGER_RECORDS: tuple[RecordSpec, ...] = (
    RecordSpec("organisation", ("name", "slug", "kind", "country", "notice_languages")),
    RecordSpec(
        "user",
        ("email", "display_name", "superuser"),
        unchecked="password, whether the account is active or locked (entries say that "
        "they changed, not to what)",
    ),
    RecordSpec("membership", ("role",), removed_when_after_is_empty=True),
    RecordSpec("jurisdiction", (), removed_when_after_is_empty=True),
    RecordSpec(
        "api_token",
        ("name", "revoked"),
        implied={A.TOKEN_CREATE: {"revoked": False}, A.TOKEN_REVOKE: {"revoked": True}},
        unchecked="expiry and last use",
    ),
)

RECORD_SOURCES: dict[str, RecordSource] = {
    "organisation": RecordSource(organisations, (organisations.c.id,), _organisation),
    "user": RecordSource(users, (users.c.id,), _user, ("email", "display_name", "is_superuser")),
    "membership": RecordSource(
        memberships,
        (memberships.c.organisation_id, memberships.c.user_id),
        *picked("role"),
    ),
    "jurisdiction": RecordSource(
        jurisdictions,
        (jurisdictions.c.oversight_id, jurisdictions.c.organisation_id),
        lambda m: {},
        ("oversight_id",),
    ),
    "api_token": RecordSource(
        api_tokens,
        (api_tokens.c.id,),
        lambda m: {"name": m["name"], "revoked": m["revoked_at"] is not None},
        ("name", "revoked_at"),
    ),
}
