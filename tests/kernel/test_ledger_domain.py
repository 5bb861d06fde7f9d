"""The hash-chained audit ledger, on entries in memory (coe-fc:9, coe-fc:26)."""

from __future__ import annotations

import itertools
import json
from dataclasses import fields, replace
from datetime import datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ombud.kernel.ledger.chain import ChainWalk, canonical_json, seal, verify_chain
from ombud.kernel.ledger.domain import (
    GENESIS_HASH,
    LedgerAction,
    LedgerDraft,
    LedgerEntry,
    LedgerHead,
)
from ombud.kernel.ledger.record_check import RecordHistory, RecordSpec, compare_record
from ombud.kernel.ledger.trust import (
    CHECKPOINT_FORMAT,
    Checkpoint,
    entry_mac,
    head_mac,
    judge_checkpoint,
    signed_checkpoint,
)

T0 = datetime(2026, 1, 5, 9, 30, 0, 123456)
N = 6
ENTRY_FIELDS = tuple(f.name for f in fields(LedgerEntry))


class FakeKey:
    """An installation key in memory: the domain's HMACs under a fixed secret."""

    key_id = "test-key"
    public_key = "cHVibGlj"

    def __init__(self, secret: bytes = b"installation secret") -> None:
        self.secret = secret

    def entry_mac(self, entry_hash: str) -> str:
        return entry_mac(self.secret, entry_hash)

    def head_mac(self, seq: int, head_hash: str) -> str:
        return head_mac(self.secret, seq, head_hash)

    def sign(self, message: bytes) -> str:
        return entry_mac(self.secret, message.hex())


KEY = FakeKey()


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
        entries.append(replace(entry, mac=KEY.entry_mac(entry.hash)))
        prev = entry.hash
    return entries


def head_of(entries: list[LedgerEntry]) -> LedgerHead:
    seq, digest = entries[-1].seq, entries[-1].hash
    return LedgerHead(seq, digest, KEY.head_mac(seq, digest))


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
    "mac": st.one_of(st.none(), hex64),
}


def test_every_entry_field_has_a_tampering_strategy():
    assert set(NEW_VALUES) == set(ENTRY_FIELDS)


def test_an_intact_chain_verifies():
    report = verify_chain(CHAIN, HEAD, KEY)
    assert report.ok
    assert report.checked == N
    assert report.first_bad_seq is None
    assert verify_chain(CHAIN).ok
    assert verify_chain(CHAIN, (HEAD.seq, HEAD.hash)).ok


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

    report = verify_chain(tampered, HEAD, KEY)

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
    # The hash put back but the MAC left as it was: still caught with the key.
    report = verify_chain(CHAIN, LedgerHead(N, CHAIN[-1].hash, "0" * 64), KEY)
    assert (report.ok, report.first_bad_seq) == (False, N)
    assert "MAC" in report.reason


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


# -- MACs under the installation key (the database is not trusted) --------------------


def _reseal(entries: list[LedgerEntry]) -> tuple[list[LedgerEntry], tuple[int, str]]:
    """What an intruder without the key does: renumber, recompute every sha256 link,
    copy the old MACs along (they cannot make new ones), and move the head."""
    out: list[LedgerEntry] = []
    prev = GENESIS_HASH
    for seq, entry in enumerate(entries, start=1):
        draft = LedgerDraft(
            entry.actor_id,
            entry.actor,
            LedgerAction(entry.action),
            entry.entity_type,
            entry.entity_id,
            entry.organisation_id,
            entry.before,
            entry.after,
        )
        out.append(replace(seal(draft, seq, entry.at, prev), mac=entry.mac))
        prev = out[-1].hash
    return out, (out[-1].seq, out[-1].hash)


@pytest.mark.parametrize("index", range(1, N - 1))
def test_a_chain_resealed_after_a_deletion_passes_sha256_but_fails_its_macs(index):
    forged, head = _reseal(CHAIN[:index] + CHAIN[index + 1 :])
    assert verify_chain(forged, head).ok  # what `ombud ledger verify` said before MACs
    report = verify_chain(forged, LedgerHead(*head, HEAD.mac), KEY)
    assert not report.ok
    assert report.first_bad_seq == index + 1  # the first entry re-sealed
    assert "MAC" in report.reason
    assert "re-sealed" in report.reason


def test_an_entry_without_a_mac_is_named():
    tampered = list(CHAIN)
    tampered[2] = replace(CHAIN[2], mac=None)
    report = verify_chain(tampered, HEAD, KEY)
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "no MAC" in report.reason


def test_macs_under_another_key_do_not_hold():
    report = verify_chain(CHAIN, HEAD, FakeKey(b"another installation"))
    assert (report.ok, report.first_bad_seq) == (False, 1)


def test_a_head_moved_back_without_the_key_is_caught_by_its_mac():
    """Removing the newest entry and moving the head back to the one before it."""
    shorter = CHAIN[:-1]
    report = verify_chain(shorter, LedgerHead(N - 1, shorter[-1].hash, HEAD.mac), KEY)
    assert (report.ok, report.first_bad_seq) == (False, N - 1)
    assert "head" in report.reason


def test_entry_and_head_macs_are_different_messages():
    digest = CHAIN[0].hash
    assert entry_mac(b"k", digest) != head_mac(b"k", 1, digest)
    assert len(entry_mac(b"k", digest)) == 64


# -- checkpoints ------------------------------------------------------------------------


def _checkpoint(seq: int = 3) -> Checkpoint:
    entry = CHAIN[seq - 1]
    return signed_checkpoint(KEY, LedgerHead(entry.seq, entry.hash), T0)


def test_a_checkpoint_round_trips_through_its_json_and_signs_every_field():
    cp = _checkpoint()
    assert Checkpoint.from_json(cp.to_json()) == cp
    assert json.loads(cp.to_json())["format"] == CHECKPOINT_FORMAT
    assert cp.signature == KEY.sign(cp.message())
    assert replace(cp, seq=2).message() != cp.message()
    assert replace(cp, hash="0" * 64).message() != cp.message()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"format": "something else"}', "format"),
        (json.dumps({"format": CHECKPOINT_FORMAT, "seq": 1}), "no 'key_id'"),
        ("SEQ", "not a sequence number"),
        ("HASH", "not a sha256"),
        ("AT", "not a time"),
    ],
)
def test_a_malformed_checkpoint_says_what_is_wrong(text, says):
    good = json.loads(_checkpoint().to_json())
    if text == "SEQ":
        text = json.dumps({**good, "seq": "three"})
    elif text == "HASH":
        text = json.dumps({**good, "hash": "xyz"})
    elif text == "AT":
        text = json.dumps({**good, "at": "yesterday"})
    with pytest.raises(ValueError, match=says):
        Checkpoint.from_json(text)


def _judge(cp: Checkpoint, entries: list[LedgerEntry], head: LedgerHead):
    walk = ChainWalk(KEY, [cp.seq])
    for e in entries:
        walk.add(e)
    return judge_checkpoint("cp.json", cp, walk.seen.get(cp.seq), head, walk.finish(head))


def test_a_checkpoint_holds_on_the_ledger_it_was_made_of_and_after_it_grew():
    result = _judge(_checkpoint(3), CHAIN, HEAD)
    assert result.ok, result.reason
    assert f"{N - 3} since" in result.reason


def test_a_checkpoint_catches_a_resealed_chain_even_with_the_key():
    """Someone holding the key re-seals after removing entry #2: every MAC holds, but
    entry #3 is no longer what the checkpoint recorded."""
    forged, (seq, digest) = _reseal(CHAIN[:1] + CHAIN[2:])
    forged = [replace(e, mac=KEY.entry_mac(e.hash)) for e in forged]
    head = LedgerHead(seq, digest, KEY.head_mac(seq, digest))
    assert verify_chain(forged, head, KEY).ok
    result = _judge(_checkpoint(3), forged, head)
    assert not result.ok
    assert "re-sealed" in result.reason


def test_a_checkpoint_catches_an_older_copy_restored():
    older = CHAIN[:2]
    head = head_of(older)
    assert verify_chain(older, head, KEY).ok  # every MAC of the old copy holds
    result = _judge(_checkpoint(3), older, head)
    assert not result.ok
    assert "ends at #2" in result.reason


def test_a_checkpoint_names_a_break_after_it():
    tampered = list(CHAIN)
    tampered[4] = replace(CHAIN[4], actor="someone else")
    result = _judge(_checkpoint(3), tampered, HEAD)
    assert not result.ok
    assert "#5, after the checkpoint" in result.reason


# -- records against what their entries say -----------------------------------------------

SPEC = RecordSpec(
    "case",
    ("state", "kind"),
    implied={"create": {"state": "received"}},
    forgotten_by={"message_from": ("state",)},
)


def _entries(*changes: tuple[str, dict | None]) -> list[LedgerEntry]:
    out, prev = [], GENESIS_HASH
    for seq, (action, after) in enumerate(changes, start=1):
        draft = LedgerDraft(None, "a", LedgerAction(action), "case", "7", 1, None, after)
        out.append(seal(draft, seq, T0, prev))
        prev = out[-1].hash
    return out


def _history(entries: list[LedgerEntry], spec: RecordSpec = SPEC) -> RecordHistory:
    history = RecordHistory("7")
    for e in entries:
        history.add(spec, e)
    return history


def test_a_record_as_its_entries_say_matches():
    h = _history(_entries(("create", {"kind": "complaint"}), ("transition", {"state": "closed"})))
    assert compare_record(SPEC, "7", h, {"state": "closed", "kind": "complaint"}) == []


def test_a_field_changed_in_the_database_alone_is_named_with_the_entry_that_set_it():
    h = _history(_entries(("create", {"kind": "complaint"}), ("transition", {"state": "closed"})))
    [m] = compare_record(SPEC, "7", h, {"state": "received", "kind": "complaint"})
    assert (m.entity_type, m.entity_id, m.field) == ("case", "7", "state")
    assert "'received'" in m.reason
    assert "entry #2 says 'closed'" in m.reason


def test_the_action_implies_a_field_and_a_partial_entry_forgets_one():
    h = _history(_entries(("create", {"kind": "complaint"})))
    assert [m.field for m in compare_record(SPEC, "7", h, {"state": "x", "kind": "complaint"})] == [
        "state"
    ]
    h = _history(_entries(("create", {"kind": "complaint"}), ("update", {"message_from": "r"})))
    assert compare_record(SPEC, "7", h, {"state": "x", "kind": "complaint"}) == []


def test_existence_follows_the_last_entry():
    created = _entries(("create", {"kind": "complaint"}))
    deleted = _entries(("create", {"kind": "complaint"}), ("delete", None))
    [m] = compare_record(SPEC, "7", _history(deleted), {"kind": "complaint"})
    assert "deletion at #2" in m.reason
    [m] = compare_record(SPEC, "7", _history(created), None)
    assert "not in the database" in m.reason
    assert compare_record(SPEC, "7", _history(deleted), None) == []
    [m] = compare_record(SPEC, "7", None, {"kind": "complaint"})
    assert "no ledger entry" in m.reason


def test_a_removal_without_after_takes_a_membership_away():
    spec = RecordSpec("membership", ("role",), removed_when_after_is_empty=True)
    entries = _entries(("membership", {"role": "admin"}))
    removal = seal(
        LedgerDraft(None, "a", LedgerAction.MEMBERSHIP, "case", "7", 1, {"role": "admin"}, None),
        2,
        T0,
        entries[-1].hash,
    )
    h = _history([*entries, removal], spec)
    assert not h.exists
    assert compare_record(spec, "7", h, None) == []


def test_nested_details_are_compared_field_by_field():
    spec = RecordSpec("ai_system", ("details",))
    h = _history(_entries(("create", {"details": {"name": "A", "vendor": "V"}})), spec)
    [m] = compare_record(spec, "7", h, {"details": {"name": "B", "vendor": "V"}})
    assert m.field == "details.name"
