"""Oversight bodies and parliaments: without jurisdiction an agency's systems are not
found; with it they read but never write or register.

A second matrix (CASE_MATRIX), read as the one in test_access_policy.py, does the same
for a city case escalated to its overseers: who reads it, writes on it, and runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from ombud.kernel.access import SYSTEM_PRINCIPAL, Action, Principal, Role
from ombud.kernel.errors import Forbidden, NotFound
from ombud.register.domain.systems import PublicationState
from ombud.register.tables import ai_systems
from tests.conftest import World
from tests.factories import complete_details
from tests.kernel.access_matrix import fresh_city_system, parse_matrix

# -- oversight bodies and parliaments ---------------------------------------------------


def _agency_system(c: Any, w: World) -> int:
    system = c.register.create(
        w["agency-admin@example.org"], w.agency.id, complete_details("Benefit fraud scoring")
    )
    return int(system.id)


@pytest.mark.parametrize(
    "who", ["oversight-viewer", "oversight-admin", "parliament-viewer", "city-admin"]
)
def test_without_jurisdiction_an_agencys_systems_are_not_found(container, world, who):
    system_id = _agency_system(container, world)
    actor = world[f"{who}@example.org"]
    with pytest.raises(NotFound):
        container.register.get(actor, system_id)
    with pytest.raises(NotFound):
        container.register.history(actor, system_id)
    with pytest.raises(NotFound):
        container.register.update(actor, system_id, complete_details(vendor="x"))
    listed = {i.system.id for i in container.register.list(actor, limit=100).items}
    assert system_id not in listed


def test_not_found_reads_as_a_system_that_does_not_exist(container, world):
    """The refusal for someone else's system says the same as for a missing one."""
    system_id = _agency_system(container, world)
    outsider = world["oversight-viewer@example.org"]
    with pytest.raises(NotFound) as hidden:
        container.register.get(outsider, system_id)
    with pytest.raises(NotFound) as missing:
        container.register.get(outsider, system_id + 1000)
    assert hidden.value.message.replace(str(system_id), "N") == missing.value.message.replace(
        str(system_id + 1000), "N"
    )


def test_a_parliament_given_jurisdiction_reads_but_cannot_write(container, world):
    system_id = _agency_system(container, world)
    container.accounts.grant_jurisdiction(
        SYSTEM_PRINCIPAL, world.parliament.slug, world.agency.slug
    )
    member = container.accounts.principal_for_email("parliament-viewer@example.org")
    assert container.register.get(member, system_id).system.id == system_id
    with pytest.raises(Forbidden):
        container.register.update(member, system_id, complete_details(vendor="x"))
    with pytest.raises(Forbidden):
        container.register.create(member, world.agency.id, complete_details())


@pytest.mark.parametrize("kind", ["oversight", "parliament"])
def test_oversight_bodies_and_parliaments_cannot_register_systems_even_as_admin(
    container, world, kind
):
    org = getattr(world, kind)
    admin = world.add_user(f"{kind}-boss@example.org", org.id, Role.ADMIN)
    with pytest.raises(Forbidden):
        container.register.create(admin, org.id, complete_details())
    with container.engines.write.connect() as conn:
        count = select(func.count()).select_from(ai_systems)
        assert conn.execute(count.where(ai_systems.c.organisation_id == org.id)).scalar_one() == 0
    # They do manage their own members: those rules are not for operators only.
    assert admin.email in [u.email for u, _ in container.accounts.members(admin, org.id)]


# -- a city case escalated to its overseers (coe-fc:14.2.c, coe-fc:26) -------------------
#
# The oversight body and, here, a parliament have jurisdiction over the city. Both
# read the escalated case; only the oversight body's officers (editor, approver,
# admin) write on it, to the city and to the person; running the case (moving,
# deciding, assigning) stays with the city's case handlers.

CASE_MATRIX = """
                     read file note msg  move dec  asgn
city-viewer          NF   NF   NF   NF   NF   NF   NF
city-editor          ok   ok   ok   ok   ok   ok   ok
city-assessor        NF   NF   NF   NF   NF   NF   NF
city-approver        ok   ok   ok   ok   ok   ok   ok
city-admin           ok   ok   ok   ok   ok   ok   ok
oversight-viewer     ok   ok   F    F    F    F    F
oversight-editor     ok   ok   ok   ok   F    F    F
oversight-assessor   ok   ok   F    F    F    F    F
oversight-approver   ok   ok   ok   ok   F    F    F
oversight-admin      ok   ok   ok   ok   F    F    F
parliament-viewer    ok   ok   F    F    F    F    F
parliament-admin     ok   ok   F    F    F    F    F
agency-admin         NF   NF   NF   NF   NF   NF   NF
"""
CASE_OPS, CASE_EXPECTED = parse_matrix(CASE_MATRIX)


@dataclass
class EscalatedCase:
    c: Any
    actor: Principal
    case_id: int
    attachment_id: int
    handler: Principal  # the city's admin, who sees everything of the case


def _escalated_case(c: Any, w: World) -> EscalatedCase:
    from ombud.kernel.files import Upload
    from ombud.remedies.domain import CaseKind, CaseState, Category, PublicReport

    system_id = fresh_city_system(c, w)
    c.register.set_publication(w["city-admin@example.org"], system_id, PublicationState.PUBLISHED)
    receipt = c.remedies.submit(
        PublicReport(system_id, CaseKind.COMPLAINT, Category.PRIVACY, "My data was shared."),
        [Upload("letter.txt", b"The letter I received.")],
    )
    admin = w["city-admin@example.org"]
    case = next(
        x for x in c.remedies.cases(admin).items if x.tracking_code == receipt.tracking_code
    )
    c.remedies.move(admin, case.id, CaseState.ESCALATED)
    attachment_id = c.remedies.get(admin, case.id).attachments[0].id
    return EscalatedCase(c, admin, case.id, attachment_id, admin)


def _case_state(k: EscalatedCase) -> tuple[Any, ...]:
    """What a refused operation must leave as it was: the case, its messages, the ledger."""
    view = k.c.remedies.get(k.handler, k.case_id)
    case = view.case
    return (
        case.state,
        case.assigned_to,
        case.outcome,
        len(view.messages),
        k.c.ledger.verify().checked,
    )


def case_read(k: EscalatedCase) -> str:
    assert k.c.remedies.get(k.actor, k.case_id).case.id == k.case_id
    return "ok"


def case_file(k: EscalatedCase) -> str:
    meta, data = k.c.remedies.attachment(k.actor, k.case_id, k.attachment_id)
    assert (meta.name, data) == ("letter.txt", b"The letter I received.")
    return "ok"


def case_note(k: EscalatedCase) -> str:
    k.c.remedies.note(k.actor, k.case_id, "Asked for the file.")
    assert k.c.remedies.get(k.actor, k.case_id).messages[-1].text == "Asked for the file."
    return "ok"


def case_message(k: EscalatedCase) -> str:
    k.c.remedies.note(k.actor, k.case_id, "We are looking into it.", internal=False)
    assert not k.c.remedies.get(k.actor, k.case_id).messages[-1].internal
    return "ok"


def case_move(k: EscalatedCase) -> str:
    from ombud.remedies.domain import CaseState

    assert k.c.remedies.move(k.actor, k.case_id, CaseState.UNDER_REVIEW).state.value == (
        "under_review"
    )
    return "ok"


def case_decide(k: EscalatedCase) -> str:
    from ombud.remedies.domain import CaseState

    case = k.c.remedies.move(k.actor, k.case_id, CaseState.DECIDED, outcome="Data deleted.")
    assert case.outcome == "Data deleted."
    return "ok"


def case_assign(k: EscalatedCase) -> str:
    case = k.c.remedies.assign(k.actor, k.case_id, "city-editor@example.org")
    assert case.assigned_to is not None
    return "ok"


CASE_OPERATIONS: dict[str, Callable[[EscalatedCase], str]] = {
    "read": case_read,
    "file": case_file,
    "note": case_note,
    "msg": case_message,
    "move": case_move,
    "dec": case_decide,
    "asgn": case_assign,
}
# The "what may I do" flags of the case page and API, and the operations behind them.
CASE_FLAGS = {Action.CASE_HANDLE: ("move", "dec", "asgn"), Action.CASE_WRITE: ("note", "msg")}


def test_the_case_matrix_covers_every_operation_and_every_overseer_role():
    assert set(CASE_OPERATIONS) == set(CASE_OPS)
    overseer_roles = {n.split("-", 1)[1] for n in CASE_EXPECTED if n.startswith("oversight-")}
    assert overseer_roles == {r.value for r in Role}


@pytest.mark.parametrize("who", list(CASE_EXPECTED))
def test_escalated_case_matrix(container, world, who):
    container.accounts.grant_jurisdiction(SYSTEM_PRINCIPAL, world.parliament.slug, world.city.slug)
    for role in (Role.EDITOR, Role.ASSESSOR, Role.APPROVER):
        world.add_user(f"oversight-{role.value}@example.org", world.oversight.id, role)
    world.add_user("parliament-admin@example.org", world.parliament.id, Role.ADMIN)
    actor = container.accounts.principal_for_email(f"{who}@example.org")
    mismatches = []
    for op in CASE_OPS:
        expected = CASE_EXPECTED[who][op]
        k = _escalated_case(container, world)
        k.actor = actor
        before = _case_state(k)
        try:
            got = CASE_OPERATIONS[op](k)
        except Forbidden:
            got = "F"
        except NotFound:
            got = "NF"
        if got != expected:
            mismatches.append(f"{op}: expected {expected}, got {got}")
        if got in {"F", "NF"} and _case_state(k) != before:
            mismatches.append(f"{op}: refused, but the case or the ledger changed")
        if op == "read" and got == "ok":
            can = container.remedies.get(actor, k.case_id).can
            for action, ops in CASE_FLAGS.items():
                for other in ops:
                    if can[action.value] != (CASE_EXPECTED[who][other] == "ok"):
                        mismatches.append(f"read: can[{action.value}] is {can[action.value]}")
    assert not mismatches, f"{who}:\n  " + "\n  ".join(mismatches)
