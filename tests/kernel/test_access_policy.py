"""The authorization matrix: who may do what to a city's AI systems and members.

The expected outcome of every (person, operation) pair is written out below as a
table, independently of domain/access.py, so that a change to POLICY that was not
meant shows up here. Outcomes:

  ok  the operation succeeds (and, for a read, shows the city's record)
  F   refused with Forbidden
  NF  refused with NotFound: the person may not even know the record exists
  -   the call succeeds but shows nothing of the city's records

After every refused operation the database is as it was.

The oversight body (jurisdiction over the city) reads the city's systems and its
audit ledger, whatever the member's role there: POLICY gives LEDGER_READ to "an
oversight body with jurisdiction", not to its admins only. The parliament has no
jurisdiction in this world; the agency is another operator.

Who else sees what: test_oversight_access.py (oversight bodies, parliaments and a
case escalated to them) and test_register_access.py (lists, the public register, and
registering by kind and role).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from ombud.accounts.tables import memberships, users
from ombud.kernel.access import SYSTEM_PRINCIPAL, Action, Principal, Role
from ombud.kernel.errors import Forbidden, NotFound
from ombud.kernel.ledger.tables import ledger_entries, ledger_head
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import PublicationState, RiskLevel
from ombud.register.tables import ai_systems
from tests.conftest import World
from tests.factories import complete_details
from tests.kernel.access_matrix import fresh_city_system, parse_matrix

MATRIX = """
                  get  list hist new  upd  flag move pub  risk del  mem  inv  role rm   log
city-viewer       ok   ok   ok   F    F    F    F    F    F    F    F    F    F    F    F
city-editor       ok   ok   ok   ok   ok   ok   ok   F    F    F    F    F    F    F    F
city-assessor     ok   ok   ok   F    F    ok   F    F    ok   F    F    F    F    F    F
city-approver     ok   ok   ok   ok   ok   ok   ok   ok   ok   F    F    F    F    F    F
city-admin        ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok   ok
oversight-viewer  ok   ok   ok   F    F    F    F    F    F    F    F    F    F    F    ok
oversight-admin   ok   ok   ok   F    F    F    F    F    F    F    F    F    F    F    ok
parliament-viewer NF   -    NF   F    NF   NF   NF   NF   NF   NF   F    F    F    F    F
agency-viewer     NF   -    NF   F    NF   NF   NF   NF   NF   NF   F    F    F    F    F
agency-admin      NF   -    NF   F    NF   NF   NF   NF   NF   NF   F    F    F    F    -
"""
COLUMNS = {
    "get": "register.get",
    "list": "register.list",
    "hist": "register.history",
    "new": "register.create",
    "upd": "register.update",
    "flag": "register.flag_significant",
    "move": "register.transition",
    "pub": "register.set_publication",
    "risk": "register.classify_risk",
    "del": "register.delete",
    "mem": "accounts.members",
    "inv": "accounts.invite_member",
    "role": "accounts.set_role",
    "rm": "accounts.remove_member",
    "log": "ledger.list",
}


OPS, EXPECTED = parse_matrix(MATRIX)

# The action behind each operation, for the "what may I do" flags shown with a record.
OP_ACTIONS = {
    "new": Action.SYSTEM_CREATE,
    "upd": Action.SYSTEM_UPDATE,
    "flag": Action.SYSTEM_FLAG_SIGNIFICANT,
    "move": Action.SYSTEM_TRANSITION,
    "pub": Action.SYSTEM_PUBLISH,
    "risk": Action.SYSTEM_CLASSIFY_RISK,
    "del": Action.SYSTEM_DELETE,
    "mem": Action.MEMBERS_READ,
    "inv": Action.MEMBERS_MANAGE,
    "role": Action.MEMBERS_MANAGE,
    "rm": Action.MEMBERS_MANAGE,
    "log": Action.LEDGER_READ,
}

TARGET_MEMBER = "target-member@example.org"
INVITEE = "invitee@example.org"


def test_the_matrix_covers_every_role_and_every_operation():
    city_roles = {name.split("-", 1)[1] for name in EXPECTED if name.startswith("city-")}
    assert city_roles == {r.value for r in Role}
    assert set(OP_ACTIONS) | {"get", "list", "hist"} == set(OPS) == set(COLUMNS)
    assert set(OPERATIONS) == set(OPS)


@dataclass
class Case:
    c: Any
    w: World
    actor: Principal
    system_id: int
    target_user_id: int


def _state(c: Any, w: World, system_id: int) -> dict[str, Any]:
    """Everything a refused operation must leave as it was, read straight from the tables."""
    with c.engines.write.connect() as conn:
        row = conn.execute(select(ai_systems).where(ai_systems.c.id == system_id)).first()
        return {
            "system": None if row is None else dict(row._mapping),
            "city_systems": conn.execute(
                select(func.count())
                .select_from(ai_systems)
                .where(ai_systems.c.organisation_id == w.city.id)
            ).scalar_one(),
            "members": sorted(
                tuple(r)
                for r in conn.execute(
                    select(users.c.email, memberships.c.role)
                    .join(memberships, memberships.c.user_id == users.c.id)
                    .where(memberships.c.organisation_id == w.city.id)
                )
            ),
            "users": conn.execute(select(func.count()).select_from(users)).scalar_one(),
            "ledger_entries": conn.execute(
                select(func.count()).select_from(ledger_entries)
            ).scalar_one(),
            "ledger_head": tuple(conn.execute(select(ledger_head)).one()),
        }


def _system(c: Any, w: World, system_id: int) -> Any:
    try:
        return c.register.get(w["city-admin@example.org"], system_id).system
    except NotFound:
        return None


def _member_role(c: Any, w: World, email: str) -> Role | None:
    members = c.accounts.members(SYSTEM_PRINCIPAL, w.city.id)
    return {u.email: r for u, r in members}.get(email)


# Each operation returns "ok" or "-" for reads, or "ok" for writes after checking
# the write took effect; refusals surface as exceptions.


def op_get(k: Case) -> str:
    view = k.c.register.get(k.actor, k.system_id)
    assert view.system.id == k.system_id
    return "ok"


def op_list(k: Case) -> str:
    page = k.c.register.list(k.actor, limit=100)
    city = [item for item in page.items if item.system.organisation_id == k.w.city.id]
    if not city:
        return "-"
    assert k.system_id in {item.system.id for item in city}
    return "ok"


def op_history(k: Case) -> str:
    history = k.c.register.history(k.actor, k.system_id)
    assert [r.revision.number for r in history.revisions] == [1]
    return "ok"


def op_create(k: Case) -> str:
    before = _state(k.c, k.w, k.system_id)["city_systems"]
    system = k.c.register.create(k.actor, k.w.city.id, complete_details("Created in the matrix"))
    assert system.organisation_id == k.w.city.id
    assert _state(k.c, k.w, k.system_id)["city_systems"] == before + 1
    return "ok"


def op_update(k: Case) -> str:
    k.c.register.update(k.actor, k.system_id, complete_details(vendor="Changed vendor"))
    system = _system(k.c, k.w, k.system_id)
    assert (system.revision, system.details.vendor) == (2, "Changed vendor")
    return "ok"


def op_flag(k: Case) -> str:
    k.c.register.flag_significant(k.actor, k.system_id, "Retrained on 2025 data")
    system = _system(k.c, k.w, k.system_id)
    assert system.revision == 2
    assert system.significant_modification_at is not None
    return "ok"


def op_transition(k: Case) -> str:
    k.c.register.transition(k.actor, k.system_id, LifecycleStage.TESTING, "Ready for tests")
    assert _system(k.c, k.w, k.system_id).lifecycle_stage is LifecycleStage.TESTING
    return "ok"


def op_publish(k: Case) -> str:
    k.c.register.set_publication(k.actor, k.system_id, PublicationState.PUBLISHED)
    assert _system(k.c, k.w, k.system_id).publication_state is PublicationState.PUBLISHED
    return "ok"


def op_risk(k: Case) -> str:
    k.c.register.classify_risk(k.actor, k.system_id, RiskLevel.HIGH, "Affects benefit claims")
    assert _system(k.c, k.w, k.system_id).risk_level is RiskLevel.HIGH
    return "ok"


def op_delete(k: Case) -> str:
    k.c.register.delete(k.actor, k.system_id)
    assert _system(k.c, k.w, k.system_id) is None
    return "ok"


def op_members(k: Case) -> str:
    members = k.c.accounts.members(k.actor, k.w.city.id)
    assert ("city-admin@example.org", Role.ADMIN) in [(u.email, r) for u, r in members]
    return "ok"


def op_invite(k: Case) -> str:
    invitation = k.c.accounts.invite_member(k.actor, k.w.city.id, INVITEE, Role.EDITOR)
    assert invitation.set_password_link is None  # an inviter never holds a credential
    assert _member_role(k.c, k.w, INVITEE) is Role.EDITOR
    return "ok"


def op_set_role(k: Case) -> str:
    k.c.accounts.set_role(k.actor, k.w.city.id, TARGET_MEMBER, Role.ASSESSOR)
    assert _member_role(k.c, k.w, TARGET_MEMBER) is Role.ASSESSOR
    return "ok"


def op_remove(k: Case) -> str:
    k.c.accounts.remove_member(k.actor, k.w.city.id, k.target_user_id)
    assert _member_role(k.c, k.w, TARGET_MEMBER) is None
    return "ok"


def op_ledger(k: Case) -> str:
    page = k.c.ledger.list(k.actor, limit=100)
    orgs = {e.organisation_id for e in page.items}
    return "ok" if k.w.city.id in orgs else "-"


OPERATIONS: dict[str, Callable[[Case], str]] = {
    "get": op_get,
    "list": op_list,
    "hist": op_history,
    "new": op_create,
    "upd": op_update,
    "flag": op_flag,
    "move": op_transition,
    "pub": op_publish,
    "risk": op_risk,
    "del": op_delete,
    "mem": op_members,
    "inv": op_invite,
    "role": op_set_role,
    "rm": op_remove,
    "log": op_ledger,
}


def _member_id(c: Any, w: World, email: str) -> int:
    members = c.accounts.members(SYSTEM_PRINCIPAL, w.city.id)
    return next(u.id for u, _ in members if u.email == email)


@pytest.mark.parametrize("who", list(EXPECTED))
def test_authorization_matrix(container, world, who):
    actor = world[f"{who}@example.org"]
    container.accounts.invite_member(SYSTEM_PRINCIPAL, world.city.id, TARGET_MEMBER, Role.VIEWER)
    target_id = _member_id(container, world, TARGET_MEMBER)
    mismatches = []
    for op in OPS:
        expected = EXPECTED[who][op]
        case = Case(container, world, actor, fresh_city_system(container, world), target_id)
        before = _state(container, world, case.system_id)
        try:
            got = OPERATIONS[op](case)
        except Forbidden:
            got = "F"
        except NotFound:
            got = "NF"
        if got != expected:
            mismatches.append(f"{COLUMNS[op]}: expected {expected}, got {got}")
        if got in {"F", "NF", "-"} and _state(container, world, case.system_id) != before:
            mismatches.append(f"{COLUMNS[op]}: refused, but the database changed")
        if op == "get" and got == "ok":
            # The flags shown with a record (which buttons appear) match what is enforced.
            can = container.register.get(actor, case.system_id).can
            for other, action in OP_ACTIONS.items():
                if can[action.value] != (EXPECTED[who][other] == "ok"):
                    mismatches.append(f"get: can[{action.value}] is {can[action.value]}")
    assert not mismatches, f"{who}:\n  " + "\n  ".join(mismatches)


def test_refused_writes_leave_no_ledger_trace(container, world):
    """Spot check with the ledger itself: nothing was appended for a refused write."""
    system_id = fresh_city_system(container, world)
    head = container.ledger.verify().checked
    viewer = world["city-viewer@example.org"]
    for attempt in (
        lambda: container.register.update(viewer, system_id, complete_details(vendor="x")),
        lambda: container.register.transition(viewer, system_id, LifecycleStage.TESTING, "go"),
        lambda: container.register.delete(world["city-approver@example.org"], system_id),
        lambda: container.register.set_publication(
            world["oversight-admin@example.org"], system_id, PublicationState.PUBLISHED
        ),
    ):
        with pytest.raises(Forbidden):
            attempt()
    report = container.ledger.verify()
    assert report.ok
    assert report.checked == head
