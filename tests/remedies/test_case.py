"""The case aggregate on its own: which moves a case may make, its deadlines, the
person's escalation of an overdue case (coe-fc:14.2.c) and who may decide a human
review (unga-78-265:op6.k). No database, no service."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from ombud.kernel.access import Principal
from ombud.kernel.errors import Conflict, Forbidden, Invalid
from ombud.remedies.domain import (
    Case,
    CaseKind,
    CaseMove,
    CaseState,
    Category,
    PublicReport,
    public_status,
)

S = CaseState
T0 = datetime(2025, 3, 3, 9, 0)
DAY = timedelta(days=1)
HANDLER = Principal(7, "handler@city.example")
REVIEWER = Principal(8, "reviewer@city.example")
DECIDER = Principal(9, "decider@city.example")

# The moves a handler may make, written out as the people handling cases know them.
# The domain's CASE_TRANSITIONS must say the same; a change there shows up here.
ALLOWED = {
    S.RECEIVED: {S.ACKNOWLEDGED, S.UNDER_REVIEW, S.ESCALATED, S.CLOSED},
    S.ACKNOWLEDGED: {S.UNDER_REVIEW, S.NEED_INFO, S.ESCALATED, S.CLOSED},
    S.UNDER_REVIEW: {S.NEED_INFO, S.DECIDED, S.ESCALATED},
    S.NEED_INFO: {S.UNDER_REVIEW, S.ESCALATED, S.CLOSED},
    S.DECIDED: {S.CLOSED, S.ESCALATED},
    S.ESCALATED: {S.UNDER_REVIEW, S.DECIDED, S.CLOSED},
    S.CLOSED: set(),
}
# How long the organisation has in each state; none once decided or closed.
DUE_IN = {
    S.RECEIVED: 5 * DAY,
    S.ACKNOWLEDGED: 30 * DAY,
    S.UNDER_REVIEW: 30 * DAY,
    S.NEED_INFO: 30 * DAY,
    S.ESCALATED: 60 * DAY,
    S.DECIDED: None,
    S.CLOSED: None,
}


def received(kind: CaseKind = CaseKind.COMPLAINT, at: datetime = T0) -> Case:
    report = PublicReport(
        system_id=3,
        kind=kind,
        category=Category.DECISION_ERROR,
        description="  My claim was refused.  ",
        contact=" eva@example.net ",
        decision_reference=" letter of 3 May ",
    )
    case = Case.received(report, 1, "K7QM-R2XPA", "hash-of-key", at)
    case.id = 42
    return case


def in_state(state: CaseState, kind: CaseKind = CaseKind.COMPLAINT) -> Case:
    """A case as it stands after being moved into ``state`` a day after receipt."""
    case = received(kind)
    due = DUE_IN[state]
    case.state = state
    case.deadline = T0 + DAY + due if due else None
    return case


def test_a_new_case_is_received_with_five_days_to_answer() -> None:
    case = received()
    assert case.state is S.RECEIVED
    assert case.deadline == T0 + 5 * DAY
    assert (case.description, case.contact, case.decision_reference) == (
        "My claim was refused.",
        "eva@example.net",
        "letter of 3 May",
    )
    assert case.assigned_to is None
    assert not case.escalated


@pytest.mark.parametrize(
    ("source", "target"),
    [(s, t) for s in S for t in S if t in ALLOWED[s]],
    ids=lambda s: s.value,
)
def test_an_allowed_move_changes_state_and_deadline(source: CaseState, target: CaseState) -> None:
    case = in_state(source)
    now = T0 + 2 * DAY
    change = case.move(target, HANDLER, now, outcome="Benefit restored from May.")
    assert change == CaseMove(source, target)
    assert case.state is target
    assert case.updated_at == now
    due = DUE_IN[target]
    assert case.deadline == (now + due if due else None)
    assert case.assigned_to == HANDLER.user_id  # whoever first moves a case takes it
    assert case.escalated is (target is S.ESCALATED)


@pytest.mark.parametrize(
    ("source", "target"),
    [(s, t) for s in S for t in S if t not in ALLOWED[s]],
    ids=lambda s: s.value,
)
def test_a_refused_move_says_where_the_case_may_go_and_changes_nothing(
    source: CaseState, target: CaseState
) -> None:
    case = in_state(source)
    before = replace(case)
    with pytest.raises(Invalid) as refused:
        case.move(target, HANDLER, T0 + 2 * DAY, outcome="Reasons.")
    message = refused.value.field_messages()["state"]
    assert f"A {source.value} case cannot become {target.value}" in message
    allowed = ", ".join(sorted(ALLOWED[source])) or "none"
    assert message.endswith(f"(allowed: {allowed}).")
    assert case == before


def test_the_next_states_offered_are_the_allowed_ones() -> None:
    for state in S:
        assert in_state(state).next_states == sorted(ALLOWED[state])


def test_a_decision_needs_its_reasons() -> None:
    case = in_state(S.UNDER_REVIEW)
    with pytest.raises(Invalid) as refused:
        case.move(S.DECIDED, HANDLER, T0 + 2 * DAY, outcome="   ")
    assert refused.value.field_messages() == {"outcome": "A decision needs its reasons."}
    assert case.state is S.UNDER_REVIEW
    case.move(S.DECIDED, HANDLER, T0 + 2 * DAY, outcome=" Upheld: the rule was misapplied. ")
    assert case.outcome == "Upheld: the rule was misapplied."


def test_an_assigned_case_stays_with_its_assignee_when_another_handler_moves_it() -> None:
    case = in_state(S.RECEIVED)
    case.assign(REVIEWER.user_id, REVIEWER.email, "", T0 + DAY)
    case.move(S.ACKNOWLEDGED, HANDLER, T0 + 2 * DAY)
    assert case.assigned_to == REVIEWER.user_id


# -- deadlines and the person's escalation (coe-fc:14.2.c) --------------------------


def test_a_case_is_overdue_only_after_its_deadline() -> None:
    case = received()
    assert not case.overdue(T0 + 5 * DAY)
    assert case.overdue(T0 + 5 * DAY + timedelta(seconds=1))
    assert case.why_not_escalate(T0 + 5 * DAY) == (
        "The case is not overdue: the organisation still has time to answer."
    )


@pytest.mark.parametrize("state", [S.RECEIVED, S.ACKNOWLEDGED, S.UNDER_REVIEW, S.NEED_INFO])
def test_the_person_escalates_a_case_left_past_its_deadline(state: CaseState) -> None:
    case = in_state(state)
    assert case.deadline is not None
    late = case.deadline + DAY
    assert public_status(case, [], late)["overdue"] is True  # the page offers escalation
    change = case.escalate_overdue(late)
    assert change == CaseMove(state, S.ESCALATED)
    assert (case.state, case.escalated_at, case.updated_at) == (S.ESCALATED, late, late)
    assert case.deadline == late + 60 * DAY  # now the oversight body's time runs
    assert case.assigned_to is None  # the person takes no case


def test_an_escalated_case_cannot_be_escalated_again_even_past_its_deadline() -> None:
    case = in_state(S.RECEIVED)
    case.escalate_overdue(T0 + 10 * DAY)
    very_late = T0 + 100 * DAY
    assert case.overdue(very_late)
    assert public_status(case, [], very_late)["overdue"] is False
    with pytest.raises(Conflict, match=r"The case is escalated\."):
        case.escalate_overdue(very_late)
    assert case.escalated_at == T0 + 10 * DAY


@pytest.mark.parametrize("state", [S.DECIDED, S.CLOSED])
def test_nothing_is_owed_on_a_decided_or_closed_case_so_it_is_never_overdue(
    state: CaseState,
) -> None:
    case = in_state(S.UNDER_REVIEW if state is S.DECIDED else S.RECEIVED)
    case.move(state, HANDLER, T0 + 2 * DAY, outcome="Reasons.")
    years_later = T0 + 1000 * DAY
    assert not case.overdue(years_later)
    with pytest.raises(Conflict, match="not overdue"):
        case.escalate_overdue(years_later)


def test_escalation_is_kept_for_good_with_its_first_date() -> None:
    case = in_state(S.RECEIVED)
    case.move(S.ESCALATED, HANDLER, T0 + 2 * DAY)
    case.move(S.UNDER_REVIEW, HANDLER, T0 + 3 * DAY)
    assert case.escalated  # the oversight body still takes part (coe-fc:26)
    case.escalate_overdue(T0 + 40 * DAY)
    assert case.escalated_at == T0 + 2 * DAY


# -- information from the person ------------------------------------------------


def test_information_from_the_person_puts_a_waiting_case_back_under_review() -> None:
    case = in_state(S.NEED_INFO)
    now = T0 + 10 * DAY
    assert case.add_information(now) == CaseMove(S.NEED_INFO, S.UNDER_REVIEW)
    assert (case.state, case.deadline, case.updated_at) == (S.UNDER_REVIEW, now + 30 * DAY, now)


@pytest.mark.parametrize("state", [s for s in S if s not in (S.NEED_INFO, S.CLOSED)])
def test_information_elsewhere_leaves_state_and_deadline_as_they_were(state: CaseState) -> None:
    case = in_state(state)
    deadline = case.deadline
    assert case.add_information(T0 + 10 * DAY) is None
    assert (case.state, case.deadline, case.updated_at) == (state, deadline, T0 + 10 * DAY)


def test_a_closed_case_takes_no_more_information() -> None:
    case = in_state(S.CLOSED)
    with pytest.raises(Conflict, match="closed"):
        case.add_information(T0 + 10 * DAY)
    assert case.updated_at == T0


# -- human review by someone other than the decider (unga-78-265:op6.k) ---------------


def test_a_human_review_names_the_original_decider_and_gives_it_to_someone_else() -> None:
    case = in_state(S.UNDER_REVIEW, CaseKind.HUMAN_REVIEW)
    with pytest.raises(Invalid) as unnamed:
        case.assign(REVIEWER.user_id, REVIEWER.email, " ", T0 + 2 * DAY)
    assert "original_decider" in unnamed.value.field_messages()
    with pytest.raises(Invalid) as same:  # the same address, however it is typed
        case.assign(DECIDER.user_id, DECIDER.email, " Decider@City.example ", T0 + 2 * DAY)
    assert "reviewer" in same.value.field_messages()
    assert (case.assigned_to, case.original_decider) == (None, "")
    case.assign(REVIEWER.user_id, REVIEWER.email, " Decider@City.example ", T0 + 2 * DAY)
    assert (case.assigned_to, case.original_decider) == (REVIEWER.user_id, DECIDER.email)


def test_only_the_assigned_reviewer_decides_a_human_review() -> None:
    case = in_state(S.UNDER_REVIEW, CaseKind.HUMAN_REVIEW)
    case.assign(REVIEWER.user_id, REVIEWER.email, DECIDER.email, T0 + 2 * DAY)
    for other in (HANDLER, DECIDER):
        with pytest.raises(Forbidden, match="assigned to another reviewer"):
            case.move(S.DECIDED, other, T0 + 3 * DAY, outcome="Upheld.")
        assert case.state is S.UNDER_REVIEW
    case.move(S.DECIDED, REVIEWER, T0 + 3 * DAY, outcome="The decision is corrected.")
    assert case.state is S.DECIDED


def test_the_original_decider_never_decides_the_review_even_unassigned() -> None:
    case = replace(in_state(S.UNDER_REVIEW, CaseKind.HUMAN_REVIEW), original_decider=DECIDER.email)
    decider = replace(DECIDER, email="DECIDER@city.example")
    with pytest.raises(Forbidden, match=r"unga-78-265:op6\.k"):
        case.move(S.DECIDED, decider, T0 + 3 * DAY, outcome="Upheld.")
    assert (case.state, case.assigned_to, case.outcome) == (S.UNDER_REVIEW, None, "")
    case.move(S.NEED_INFO, decider, T0 + 3 * DAY)  # moving on is not deciding
    assert case.state is S.NEED_INFO


def test_a_complaint_may_be_decided_by_any_handler_and_by_whoever_decided_before() -> None:
    case = in_state(S.UNDER_REVIEW)
    case.assign(REVIEWER.user_id, REVIEWER.email, DECIDER.email, T0 + 2 * DAY)
    case.move(S.DECIDED, DECIDER, T0 + 3 * DAY, outcome="Not upheld.")
    assert case.state is S.DECIDED  # the reviewer rule is for human review only
