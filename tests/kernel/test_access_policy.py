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

A second matrix (CASE_MATRIX) does the same for a city case escalated to its
overseers: who reads it, writes on it, and runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from ombud.accounts.tables import memberships, users
from ombud.kernel.access import SYSTEM_PRINCIPAL, Action, OrganisationKind, Principal, Role
from ombud.kernel.errors import Forbidden, NotFound
from ombud.kernel.ledger.tables import ledger_entries, ledger_head
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import PublicationState, RiskLevel
from ombud.register.ports import SystemFilter
from ombud.register.tables import ai_systems
from tests.conftest import World
from tests.factories import complete_details

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


def _parse(matrix: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    header, *rows = [line.split() for line in matrix.strip().splitlines()]
    table = {}
    for row in rows:
        assert len(row) == len(header) + 1, row
        table[row[0]] = dict(zip(header, row[1:], strict=True))
    return header, table


OPS, EXPECTED = _parse(MATRIX)

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


def _fresh_city_system(c: Any, w: World) -> int:
    system = c.register.create(
        w["city-admin@example.org"],
        w.city.id,
        complete_details("Parking permit triage"),
        LifecycleStage.DEVELOPMENT,
    )
    return int(system.id)


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
        case = Case(container, world, actor, _fresh_city_system(container, world), target_id)
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
    system_id = _fresh_city_system(container, world)
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


# -- what lists and the public register show ----------------------------------------------


@pytest.fixture
def mixed_register(container, world) -> dict[str, dict[str, int]]:
    """Drafts, published, withdrawn and archived systems in the city and the agency."""
    out: dict[str, dict[str, int]] = {}
    for prefix, org in (("city", world.city), ("agency", world.agency)):
        admin = world[f"{prefix}-admin@example.org"]
        reg = container.register
        ids = {}
        for state in ("draft", "published", "withdrawn", "archived"):
            details = complete_details(f"Zebracorn {prefix} {state} register entry")
            ids[state] = reg.create(admin, org.id, details).id
        reg.set_publication(admin, ids["published"], PublicationState.PUBLISHED)
        for state in ("withdrawn", "archived"):
            reg.set_publication(admin, ids[state], PublicationState.PUBLISHED)
        reg.set_publication(admin, ids["withdrawn"], PublicationState.DRAFT)
        reg.set_publication(admin, ids["archived"], PublicationState.ARCHIVED)
        out[prefix] = ids
    return out


@pytest.mark.parametrize("role", list(Role))
def test_an_agency_member_never_sees_city_records_in_register_list(
    container, world, mixed_register, role
):
    actor = world[f"agency-{role.value}@example.org"]
    city_ids = set(mixed_register["city"].values())
    filters = [
        None,
        SystemFilter(organisation_id=world.city.id),
        SystemFilter(organisation_ids=frozenset({world.city.id})),
        SystemFilter(text="Zebracorn city"),
        SystemFilter(publication_state=PublicationState.DRAFT),
    ]
    for flt in filters:
        page = container.register.list(actor, flt, limit=100)
        seen = {i.system.id for i in page.items}
        assert not seen & city_ids, flt
        assert all(i.system.organisation_id == world.agency.id for i in page.items)
        assert page.total == len(page.items)
    own = {i.system.id for i in container.register.list(actor, limit=100).items}
    assert set(mixed_register["agency"].values()) <= own


def test_public_register_shows_only_published_systems(container, mixed_register):
    published = {ids["published"] for ids in mixed_register.values()}
    hidden = {i for ids in mixed_register.values() for i in ids.values()} - published
    pub = container.public_register

    for flt in (
        None,
        SystemFilter(text="Zebracorn"),
        SystemFilter(publication_state=PublicationState.DRAFT),
        SystemFilter(publication_state=PublicationState.ARCHIVED),
    ):
        page = pub.search(flt, limit=100)
        assert {i.system.id for i in page.items} == published, flt
        assert page.total == len(published)
    assert pub.search(SystemFilter(text="Zebracorn city draft"), limit=100).items == []
    assert {r["id"] for r in pub.iter_published()} == published
    assert {r["id"] for r in pub.iter_published(SystemFilter(text="archived"))} == set()
    for system_id in published:
        assert pub.get(system_id).system.publication_state is PublicationState.PUBLISHED
    for system_id in hidden:
        with pytest.raises(NotFound):
            pub.get(system_id)


# Registering by organisation kind and role: every kind of coe-fc:3.1 actor
# keeps a register; oversight bodies and parliaments never do.
KIND_MAY_REGISTER = {
    OrganisationKind.PUBLIC_AUTHORITY: True,
    OrganisationKind.PRIVATE_ON_BEHALF_OF_PUBLIC: True,
    OrganisationKind.PRIVATE_ACTOR: True,
    OrganisationKind.OVERSIGHT_BODY: False,
    OrganisationKind.PARLIAMENT: False,
}
ROLE_MAY_WRITE = {
    Role.VIEWER: False,
    Role.EDITOR: True,
    Role.ASSESSOR: False,
    Role.APPROVER: True,
    Role.ADMIN: True,
}
ROLE_MAY_PUBLISH = {
    Role.VIEWER: False,
    Role.EDITOR: False,
    Role.ASSESSOR: False,
    Role.APPROVER: True,
    Role.ADMIN: True,
}


@pytest.mark.parametrize("kind", list(OrganisationKind))
def test_every_kind_and_role_registers_and_publishes_as_designed(container, kind):
    org = container.accounts.create_organisation(SYSTEM_PRINCIPAL, f"Org {kind.value}", kind)
    people = {}
    for role in Role:
        email = f"{role.value}@{kind.value.replace('_', '-')}.example"
        container.accounts.create_user(SYSTEM_PRINCIPAL, email, "correct horse battery")
        container.accounts.set_role(SYSTEM_PRINCIPAL, org.id, email, role)
        people[role] = container.accounts.principal_for_email(email)
    for role, principal in people.items():
        expected = KIND_MAY_REGISTER[kind] and ROLE_MAY_WRITE[role]
        if expected:
            system = container.register.create(
                principal, org.id, complete_details(f"{kind.value} {role.value}")
            )
            publisher_may = ROLE_MAY_PUBLISH[role]
            if publisher_may:
                container.register.set_publication(principal, system.id, PublicationState.PUBLISHED)
            else:
                with pytest.raises(Forbidden):
                    container.register.set_publication(
                        principal, system.id, PublicationState.PUBLISHED
                    )
        else:
            with pytest.raises(Forbidden):
                container.register.create(principal, org.id, complete_details("refused"))


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
CASE_OPS, CASE_EXPECTED = _parse(CASE_MATRIX)


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

    system_id = _fresh_city_system(c, w)
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
