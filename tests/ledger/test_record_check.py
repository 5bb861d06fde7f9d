"""Records changed behind the ledger's back are named: each current record is
compared with what its ledger entries say about it (kernel/ledger/record_check.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select, update

from ombud.accounts.tables import api_tokens, jurisdictions, memberships
from ombud.register.ports import SystemFilter
from ombud.register.tables import ai_systems


def test_a_record_edited_in_the_database_alone_is_named(container, busy_ledger, world):
    editor = world["city-editor@example.org"]
    [listing] = container.register.list(editor, SystemFilter(), 0, 10).items
    system_id = listing.system.id
    assert container.ledger.check().records.ok
    with container.engines.write.begin() as conn:
        conn.execute(
            update(ai_systems).where(ai_systems.c.id == system_id).values(name="Renamed quietly")
        )
    records = container.ledger.check().records
    assert not records.ok
    [m] = records.mismatches
    assert (m.entity_type, m.entity_id, m.field) == ("ai_system", str(system_id), "details.name")
    assert "'Renamed quietly'" in m.reason


@pytest.mark.parametrize(
    "change",
    [
        "lifecycle_stage",
        "membership_role",
        "membership_gone",
        "jurisdiction_added",
        "token_unrevoked",
        "system_inserted",
    ],
)
def test_other_records_changed_behind_the_ledgers_back_are_named(
    container, busy_ledger, world, change
):
    editor = world["city-editor@example.org"]
    token = container.accounts.create_token(editor, "ci")
    container.accounts.revoke_token(editor, token.record.id)
    city, agency, user_id = world.city.id, world.agency.id, editor.user_id
    [listing] = container.register.list(editor, SystemFilter(), 0, 10).items
    system_id = listing.system.id
    with container.engines.write.begin() as conn:
        if change == "lifecycle_stage":
            conn.execute(update(ai_systems).values(lifecycle_stage="retired"))
            expected = ("ai_system", str(system_id), "lifecycle_stage")
        elif change == "membership_role":
            conn.execute(
                update(memberships)
                .where(memberships.c.user_id == user_id, memberships.c.organisation_id == city)
                .values(role="admin")
            )
            expected = ("membership", f"{city}:{user_id}", "role")
        elif change == "membership_gone":
            conn.execute(delete(memberships).where(memberships.c.user_id == user_id))
            expected = ("membership", f"{city}:{user_id}", "")
        elif change == "jurisdiction_added":
            conn.execute(
                insert(jurisdictions).values(
                    oversight_id=world.oversight.id, organisation_id=agency
                )
            )
            expected = ("jurisdiction", f"{world.oversight.id}:{agency}", "")
        elif change == "token_unrevoked":
            conn.execute(update(api_tokens).values(revoked_at=None))
            expected = ("api_token", str(token.record.id), "revoked")
        else:
            row = dict(conn.execute(select(ai_systems)).one()._mapping)
            del row["id"]
            new_id = conn.execute(
                insert(ai_systems).values(**row).returning(ai_systems.c.id)
            ).scalar_one()
            expected = ("ai_system", str(new_id), "")
    records = container.ledger.check().records
    assert [(m.entity_type, m.entity_id, m.field) for m in records.mismatches] == [expected]


def test_the_demo_data_matches_its_ledger_entries(container):
    """Every kind of record the services make, as the services make it: no mismatch
    that would only be the record check misreading the entries."""
    container.demo.load()
    report = container.ledger.check()
    assert report.chain.ok
    assert report.records.checked > 150
    assert report.records.mismatches == ()
