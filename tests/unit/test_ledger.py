"""The hash-chained audit ledger, on entries in memory (coe-fc:9, coe-fc:26)."""

from __future__ import annotations

import itertools
import json
from dataclasses import fields, replace
from datetime import datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ombud.domain.ledger import (
    GENESIS_HASH,
    LedgerAction,
    LedgerDraft,
    LedgerEntry,
    canonical_json,
    seal,
    verify_chain,
)

T0 = datetime(2026, 1, 5, 9, 30, 0, 123456)
N = 6
ENTRY_FIELDS = tuple(f.name for f in fields(LedgerEntry))


def make_chain(n: int = N) -> list[LedgerEntry]:
    entries: list[LedgerEntry] = []
    prev = GENESIS_HASH
    for i in range(1, n + 1):
        draft = LedgerDraft(
            actor_id=i,
            actor=f"user{i}@example.org",
            action=LedgerAction.UPDATE if i % 2 else LedgerAction.TRANSITION,
            entity_type="ai_system",
            entity_id=str(i % 3),
            organisation_id=7,
            before={"name": f"version {i - 1}", "stage": "design"},
            after={"name": f"version {i}", "stage": "development", "place": "Malmö"},
        )
        entry = seal(draft, i, T0 + timedelta(seconds=i), prev)
        entries.append(entry)
        prev = entry.hash
    return entries


def head_of(entries: list[LedgerEntry]) -> tuple[int, str]:
    return (entries[-1].seq, entries[-1].hash)


CHAIN = make_chain()
HEAD = head_of(CHAIN)

hex64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
json_dicts = st.dictionaries(st.text(max_size=10), json_scalars, max_size=4)
NEW_VALUES = {
    "seq": st.integers(min_value=-3, max_value=50),
    "at": st.integers(min_value=1, max_value=10**9).map(lambda us: timedelta(microseconds=us)),
    "actor_id": st.one_of(st.none(), st.integers(min_value=-5, max_value=10**6)),
    "actor": st.text(max_size=30),
    "action": st.sampled_from([a.value for a in LedgerAction]),
    "entity_type": st.text(max_size=20),
    "entity_id": st.text(max_size=20),
    "organisation_id": st.one_of(st.none(), st.integers(min_value=-5, max_value=10**6)),
    "before": st.one_of(st.none(), json_dicts),
    "after": st.one_of(st.none(), json_dicts),
    "prev_hash": hex64,
    "hash": hex64,
}


def test_every_entry_field_has_a_tampering_strategy():
    assert set(NEW_VALUES) == set(ENTRY_FIELDS)


def test_an_intact_chain_verifies():
    report = verify_chain(CHAIN, HEAD)
    assert report.ok
    assert report.checked == N
    assert report.first_bad_seq is None
    assert verify_chain(CHAIN).ok


def test_an_empty_ledger_verifies_against_the_genesis_head():
    assert verify_chain([], None).ok
    assert verify_chain([], (0, GENESIS_HASH)).ok


def test_the_first_entry_links_to_genesis_and_each_links_to_its_predecessor():
    assert CHAIN[0].prev_hash == GENESIS_HASH
    for prev, entry in itertools.pairwise(CHAIN):
        assert entry.prev_hash == prev.hash


@given(
    index=st.integers(min_value=0, max_value=N - 1),
    field_name=st.sampled_from(ENTRY_FIELDS),
    data=st.data(),
)
def test_editing_any_field_of_any_entry_is_caught_at_that_entry(index, field_name, data):
    original = CHAIN[index]
    new_value = data.draw(NEW_VALUES[field_name], label="new value")
    if field_name == "at":
        new_value = original.at + new_value
    assume(new_value != getattr(original, field_name))
    tampered = list(CHAIN)
    tampered[index] = replace(original, **{field_name: new_value})

    report = verify_chain(tampered, HEAD)

    assert not report.ok
    assert report.checked == index, report.reason
    assert report.first_bad_seq == tampered[index].seq
    assert report.reason


@pytest.mark.parametrize("index", range(1, N - 1))
def test_removing_a_middle_entry_is_caught_at_its_right_neighbour(index):
    removed = CHAIN[index]
    tampered = CHAIN[:index] + CHAIN[index + 1 :]
    report = verify_chain(tampered, HEAD)
    assert not report.ok
    assert report.checked == index
    assert report.first_bad_seq == removed.seq + 1
    assert f"#{removed.seq}" in report.reason


def test_removing_the_first_entry_is_caught():
    report = verify_chain(CHAIN[1:], HEAD)
    assert (report.ok, report.checked, report.first_bad_seq) == (False, 0, 2)


@given(pair=st.lists(st.integers(0, N - 1), min_size=2, max_size=2, unique=True))
def test_swapping_two_entries_is_caught_where_the_first_one_was(pair):
    i, j = sorted(pair)
    tampered = list(CHAIN)
    tampered[i], tampered[j] = tampered[j], tampered[i]
    report = verify_chain(tampered, HEAD)
    assert not report.ok
    assert report.checked == i
    assert report.first_bad_seq == CHAIN[j].seq


@given(pair=st.lists(st.integers(0, N - 1), min_size=2, max_size=2, unique=True))
def test_swapping_two_entries_and_renumbering_them_is_caught_too(pair):
    """An attacker who also fixes the sequence numbers still breaks the links."""
    i, j = sorted(pair)
    tampered = list(CHAIN)
    tampered[i] = replace(CHAIN[j], seq=CHAIN[i].seq)
    tampered[j] = replace(CHAIN[i], seq=CHAIN[j].seq)
    report = verify_chain(tampered, HEAD)
    assert not report.ok
    assert report.checked == i
    assert report.first_bad_seq == CHAIN[i].seq


def test_truncating_the_tail_is_invisible_without_the_head_but_caught_with_it():
    truncated = CHAIN[:-1]
    assert verify_chain(truncated).ok  # why the store keeps a head at all
    report = verify_chain(truncated, HEAD)
    assert not report.ok
    assert report.checked == N - 1
    assert report.first_bad_seq == N
    assert f"#{N}" in report.reason


def test_a_head_whose_hash_was_changed_is_caught():
    report = verify_chain(CHAIN, (N, "f" * 64))
    assert not report.ok
    assert report.checked == N


@pytest.mark.parametrize(
    "removed",
    [
        pytest.param(1, id="last-one"),
        pytest.param(2, id="last-two"),
        pytest.param(3, id="last-three"),
    ],
)
def test_truncating_several_entries_names_the_first_missing_one(removed):
    report = verify_chain(CHAIN[:-removed], HEAD)
    assert not report.ok
    assert report.checked == N - removed
    assert report.first_bad_seq == N - removed + 1  # the first entry that is gone


def test_an_entry_appended_behind_the_heads_back_is_named():
    extra = seal(
        LedgerDraft(None, "intruder", LedgerAction.DELETE, "ai_system", "1"),
        N + 1,
        T0 + timedelta(days=1),
        CHAIN[-1].hash,
    )
    report = verify_chain([*CHAIN, extra], HEAD)
    assert not report.ok
    assert report.first_bad_seq == N + 1  # the entry the head does not know about


def test_a_fully_resealed_forgery_is_caught_by_the_head_at_an_entry_that_exists():
    forged: list[LedgerEntry] = []
    prev = GENESIS_HASH
    for entry in CHAIN:
        draft = LedgerDraft(
            entry.actor_id,
            entry.actor,
            LedgerAction(entry.action),
            entry.entity_type,
            entry.entity_id,
            entry.organisation_id,
            entry.before,
            {**(entry.after or {}), "forged": True},
        )
        forged.append(seal(draft, entry.seq, entry.at, prev))
        prev = forged[-1].hash
    report = verify_chain(forged, HEAD)
    assert not report.ok
    assert report.first_bad_seq == N  # the newest entry, not #N+1 which does not exist


# -- sealing and canonical JSON -------------------------------------------------------


def test_sealing_depends_on_the_previous_hash_and_is_deterministic():
    draft = LedgerDraft(1, "a@example.org", LedgerAction.CREATE, "ai_system", "1", 1)
    one = seal(draft, 1, T0, GENESIS_HASH)
    assert seal(draft, 1, T0, GENESIS_HASH) == one
    assert seal(draft, 1, T0, "1" * 64).hash != one.hash
    assert len(one.hash) == 64


@given(st.dictionaries(st.text(max_size=8), json_scalars, min_size=1, max_size=8))
def test_canonical_json_does_not_depend_on_key_order(payload):
    reordered = dict(reversed(list(payload.items())))
    nested = {"outer": payload, "list": [payload]}
    nested_reordered = {"list": [reordered], "outer": reordered}
    assert canonical_json(payload) == canonical_json(reordered)
    assert canonical_json(nested) == canonical_json(nested_reordered)
    assert json.loads(canonical_json(payload)) == payload


def test_canonical_json_keeps_non_ascii_text_and_has_no_whitespace():
    text = canonical_json({"b": "Malmö – Ærø, Łódź, 北京", "a": [1, 2]})
    assert text == '{"a":[1,2],"b":"Malmö – Ærø, Łódź, 北京"}'
    assert "\\u" not in text


def test_a_change_in_non_ascii_text_changes_the_hash():
    def sealed(place: str) -> str:
        draft = LedgerDraft(1, "a", LedgerAction.UPDATE, "ai_system", "1", after={"p": place})
        return seal(draft, 1, T0, GENESIS_HASH).hash

    assert sealed("Malmö") != sealed("Malmo")
