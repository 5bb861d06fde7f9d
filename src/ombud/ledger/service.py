"""Reading, verifying and setting up the audit ledger (coe-fc:9, coe-fc:26).

The ledger does not trust its own database: entries and the head carry MACs
under the installation key (outside the database), signed checkpoints of the
head are kept outside it, and each current record is compared with what its
ledger entries say.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ombud.accounts.access import org_ref
from ombud.kernel.access import Action, Principal, is_allowed
from ombud.kernel.errors import ConfigError, Conflict, Forbidden, Invalid
from ombud.kernel.ledger.chain import ChainReport, ChainWalk, verify_chain
from ombud.kernel.ledger.domain import (
    GENESIS_HASH,
    InstallationKey,
    LedgerAction,
    LedgerEntry,
    LedgerHead,
)
from ombud.kernel.ledger.ports import LedgerFilter
from ombud.kernel.ledger.record_check import (
    RecordHistory,
    RecordMismatch,
    RecordReport,
    RecordSpec,
    compare_record,
)
from ombud.kernel.ledger.trust import (
    Checkpoint,
    CheckpointResult,
    CheckpointStore,
    LedgerKeyStore,
    TrustReport,
    judge_checkpoint,
    signed_checkpoint,
)
from ombud.kernel.paging import PageResult
from ombud.kernel.ports import Clock, UnitOfWork, UnitOfWorkFactory
from ombud.kernel.service import Service, page_of, utcnow

A = LedgerAction


RECORD_BATCH = 500
MISMATCHES_KEPT = 50
SET_UP_ACTOR = "ombud (set-up)"


@dataclass(frozen=True)
class LedgerSetUp:
    """What set-up did to the ledger and its installation key."""

    key_location: str
    key_created: bool = False
    sealed: int = 0  # entries written before the key existed, now sealed
    warning: str = ""


class LedgerService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        keys: LedgerKeyStore,
        checkpoints: CheckpointStore,
        clock: Clock = utcnow,
        records: Sequence[RecordSpec] = (),
    ) -> None:
        super().__init__(uow_factory, clock)
        self.keys = keys
        self.checkpoints = checkpoints
        # What the services' entries say about each kind of record (their before/after),
        # and what of a record they cannot vouch for: registered by each area.
        self.records = tuple(records)

    # -- verifying ------------------------------------------------------------------

    def _key_for(self, head: LedgerHead | None) -> InstallationKey | None:
        """The key to check MACs with; None only for a ledger nothing has sealed yet
        and no key (a fresh installation)."""
        if self.keys.exists():
            return self.keys.load()
        if head is None or head.is_genesis:
            return None
        return self.keys.load()  # raises: the key is missing, naming where it should be

    @staticmethod
    def _entries(
        uow: UnitOfWork, head: LedgerHead | None, key: InstallationKey | None
    ) -> Iterator[LedgerEntry]:
        """The stored entries, less those committed after ``head`` was read (PostgreSQL
        reads each page afresh): an entry beyond the head whose MAC holds was written
        with the key since, not behind the head's back."""
        for entry in uow.ledger.iter_entries():
            if (
                head is not None
                and key is not None
                and entry.seq > head.seq
                and entry.mac is not None
                and hmac.compare_digest(key.entry_mac(entry.hash), entry.mac)
            ):
                continue
            yield entry

    def verify(self) -> ChainReport:
        """Walk the whole chain, every entry's MAC and the head's; report OK or the first
        entry that breaks it."""
        with self.uow_factory(readonly=True) as uow:
            head = uow.ledger.head_state()
            key = self._key_for(head)
            return verify_chain(self._entries(uow, head, key), head, key)

    def check(
        self,
        checkpoint_paths: Sequence[str] = (),
        public_key: str | None = None,
        records: bool = True,
    ) -> TrustReport:
        """Everything ``ombud ledger verify`` checks: the chain with its MACs; each
        checkpoint's signature (by the installation key, or ``public_key``: PEM or
        base64) and that the ledger still holds the entry it records with the chain
        intact after it; and each current record against its ledger entries."""
        parsed: list[tuple[str, Checkpoint]] = []
        for path in checkpoint_paths:
            text = self.checkpoints.read(path)
            try:
                parsed.append((path, Checkpoint.from_json(text)))
            except ValueError as exc:
                raise Invalid(
                    f"Checkpoint file {path} is not an ombud ledger checkpoint: {exc}."
                ) from None
        trusted: str | None = None
        if public_key is not None:
            try:
                trusted = self.keys.read_public_key(public_key)
            except ValueError as exc:
                raise Invalid(f"The public key given is not usable: {exc}.") from None
        with self.uow_factory(readonly=True) as uow:
            head = uow.ledger.head_state()
            key = self._key_for(head)
            if trusted is None and parsed:
                trusted = (key or self.keys.load()).public_key
            walk = ChainWalk(key, [cp.seq for _, cp in parsed])
            for entry in self._entries(uow, head, key):
                walk.add(entry)
            chain = walk.finish(head)
            results = tuple(
                self._judge(path, cp, trusted or "", walk.seen.get(cp.seq), head, chain)
                for path, cp in parsed
            )
            report = self._check_records(uow) if records else None
        return TrustReport(chain, results, report)

    def _judge(
        self,
        path: str,
        cp: Checkpoint,
        trusted: str,
        seen: str | None,
        head: LedgerHead | None,
        chain: ChainReport,
    ) -> CheckpointResult:
        if cp.public_key != trusted:
            return CheckpointResult(
                path,
                cp.seq,
                False,
                f"it was signed by key {cp.key_id}, not by {self.keys.key_id(trusted)} "
                "(the installation key, or the one given)",
            )
        if not self.keys.signature_holds(trusted, cp.message(), cp.signature):
            return CheckpointResult(
                path, cp.seq, False, "its signature does not hold: it was altered after signing"
            )
        return judge_checkpoint(path, cp, seen, head, chain)

    # -- records against their entries ------------------------------------------------

    def _check_records(self, uow: UnitOfWork) -> RecordReport:
        checked, total = 0, 0
        kept: list[RecordMismatch] = []

        def note(found: list[RecordMismatch]) -> None:
            nonlocal total
            total += len(found)
            kept.extend(found[: max(0, MISMATCHES_KEPT - len(kept))])

        available = uow.ledger.record_types()
        for spec in self.records:
            if spec.entity_type not in available:
                continue
            for batch in uow.ledger.record_batches(spec.entity_type, RECORD_BATCH):
                checked += len(batch)
                found = self._compare(uow, spec, batch)
                if found:
                    # A record changed while this ran (its row read before its entry, or
                    # after): read those once more, row and entries together.
                    again = sorted({m.entity_id for m in found})
                    found = self._compare(uow, spec, uow.ledger.records_of(spec.entity_type, again))
                note(found)
            for ids in uow.ledger.recorded_id_batches(spec.entity_type, RECORD_BATCH):
                present = uow.ledger.existing_records(spec.entity_type, ids)
                missing = [i for i in ids if i not in present]
                if missing:
                    histories = self._histories(uow, spec, missing)
                    note(
                        [
                            m
                            for i in missing
                            for m in compare_record(spec, i, histories.get(i), None)
                        ]
                    )
        unchecked = tuple(f"{s.entity_type}: {s.unchecked}" for s in self.records if s.unchecked)
        return RecordReport(checked, tuple(kept), total, unchecked)

    @staticmethod
    def _histories(
        uow: UnitOfWork, spec: RecordSpec, entity_ids: Sequence[str]
    ) -> dict[str, RecordHistory]:
        histories: dict[str, RecordHistory] = {}
        for entry in uow.ledger.entries_of(spec.entity_type, entity_ids):
            history = histories.get(entry.entity_id)
            if history is None:
                history = histories[entry.entity_id] = RecordHistory(entry.entity_id)
            history.add(spec, entry)
        return histories

    def _compare(
        self, uow: UnitOfWork, spec: RecordSpec, batch: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[RecordMismatch]:
        histories = self._histories(uow, spec, [i for i, _ in batch])
        return [
            m
            for entity_id, stored in batch
            for m in compare_record(spec, entity_id, histories.get(entity_id), stored)
        ]

    # -- set-up and checkpoints ----------------------------------------------------------

    def set_up(self, create_key: bool = False) -> LedgerSetUp:
        """At set-up (``ombud db upgrade``): make the installation key when there is none
        (``create_key``, or when entries need it), and seal, once, the entries written
        before any key existed: only if their chain is intact, and only with a key made
        now (entries without a MAC under an existing key are not sealed: they may have
        been written, or stripped of their MAC, by someone without the key)."""
        where = self.keys.location
        with self.uow_factory() as uow:
            head = uow.ledger.head_state(for_update=True) or LedgerHead(0, GENESIS_HASH)
            unsealed = uow.ledger.count_unsealed()
            if not unsealed and not create_key:
                return LedgerSetUp(where)
            if self.keys.exists():
                self.keys.load()  # an unsafe or malformed key is refused now, not later
                if not unsealed:
                    return LedgerSetUp(where)
                return LedgerSetUp(
                    where,
                    warning=f"{unsealed} ledger entries carry no MAC although the "
                    "installation key already existed: they were not sealed (they may have "
                    "been written, or had their MAC removed, without the key). `ombud ledger "
                    "verify` names the first.",
                )
            if head.seq > 0 and head.mac is not None:
                self.keys.for_writing(ledger_sealed=True)  # raises: the key is missing
            if unsealed:
                report = verify_chain(uow.ledger.iter_entries(), head)
                if not report.ok:
                    return LedgerSetUp(
                        where,
                        warning=f"The ledger's chain is broken at entry #{report.first_bad_seq} "
                        f"({report.reason}): its {unsealed} entries were not sealed with an "
                        "installation key.",
                    )
            key = self.keys.create()
            sealed = uow.ledger.seal_unsealed(key) if unsealed else 0
            if sealed:
                self._record(
                    uow,
                    None,
                    LedgerAction.SEAL,
                    "ledger",
                    "installation",
                    after={"sealed_entries": sealed, "through": head.seq, "key_id": key.key_id},
                    actor_label=SET_UP_ACTOR,
                )
            uow.commit()
        return LedgerSetUp(where, key_created=True, sealed=sealed)

    def checkpoint(self) -> Checkpoint:
        """The head now, signed. Refused when the head's MAC does not hold: a checkpoint
        must never vouch for a head moved without the key."""
        with self.uow_factory(readonly=True) as uow:
            head = uow.ledger.head_state() or LedgerHead(0, GENESIS_HASH)
        key = self.keys.for_writing(ledger_sealed=head.seq > 0 and head.mac is not None)
        if not head.is_genesis and head.mac != key.head_mac(head.seq, head.hash):
            raise Conflict(
                f"The ledger head (entry #{head.seq}) does not carry a valid MAC: no "
                "checkpoint is signed for it. Run `ombud ledger verify`."
            )
        return signed_checkpoint(key, head, self.clock())

    def write_checkpoint(self, path: str) -> Checkpoint:
        """Sign the head now and write the checkpoint to ``path`` (atomically)."""
        cp = self.checkpoint()
        self.checkpoints.write(path, cp.to_json())
        return cp

    def checkpoint_if_moved(self) -> str | None:
        """The periodic checkpoint: a new file in the checkpoint directory when the head
        moved since the newest one there; its path, or None."""
        newest = self.checkpoints.newest_seq()
        cp = self.checkpoint()
        if newest is not None and cp.seq < newest:
            raise ConfigError(
                f"The ledger head (entry #{cp.seq}) is behind the newest checkpoint "
                f"(#{newest}): entries were removed or an older copy of the database was "
                "restored. Run `ombud ledger verify --checkpoint` with that file."
            )
        if newest is not None and cp.seq == newest:
            return None
        return self.checkpoints.write_next(cp.seq, cp.to_json())

    def public_key_pem(self) -> str:
        """The installation's public key (PEM), for an oversight body to check checkpoints."""
        return self.keys.public_key_pem(self.keys.load().public_key)

    # -- reading --------------------------------------------------------------------------

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
