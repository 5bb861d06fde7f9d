"""The internal AI-system register: record, revise, move through the lifecycle, publish.

Every change goes through one unit of work and leaves a ledger entry in the same
transaction. Role checks happen here, on every call (domain/access.py POLICY).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ombud.accounts.access import authorize, get_org, org_ref
from ombud.accounts.domain import Organisation
from ombud.kernel.access import Action, Principal, is_allowed
from ombud.kernel.errors import Conflict, FieldProblem, Invalid
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.paging import PageResult
from ombud.kernel.ports import Clock, UnitOfWork, UnitOfWorkFactory
from ombud.kernel.service import Service, page_of, utcnow
from ombud.register.access import readable_system
from ombud.register.domain.events import SystemChangedMaterially
from ombud.register.domain.gates import GateContext, GateFailure, GateRegistry, default_gates
from ombud.register.domain.lifecycle import (
    INITIAL_STAGES,
    LIVE_STAGES,
    LifecycleStage,
    allowed_targets,
)
from ombud.register.domain.lifecycle import (
    is_allowed as transition_allowed,
)
from ombud.register.domain.revisions import FieldChange, Revision, Transition, diff
from ombud.register.domain.systems import (
    AISystem,
    PublicationState,
    RiskLevel,
    SystemDetails,
    changed_fields,
    is_significant,
    validate_details,
)
from ombud.register.ports import GateFacts, KeptRecords, NewSystem, SystemFilter, SystemListing

REASON_MAX = 2000

# Publication needs what a member of the public must at least be told (coe-fc:8).
PUBLICATION_REQUIRED = (("purpose", "Purpose"), ("contact_point", "Contact point"))

# Allowed publication moves: draft -> published -> archived -> published.
PUBLICATION_MOVES: dict[PublicationState, frozenset[PublicationState]] = {
    PublicationState.DRAFT: frozenset({PublicationState.PUBLISHED}),
    PublicationState.PUBLISHED: frozenset({PublicationState.ARCHIVED, PublicationState.DRAFT}),
    PublicationState.ARCHIVED: frozenset({PublicationState.PUBLISHED}),
}


@dataclass(frozen=True)
class SystemView:
    """A system as a member of its organisation (or its overseer) sees it."""

    system: AISystem
    organisation: Organisation
    next_stages: list[LifecycleStage]
    gate_failures: dict[LifecycleStage, list[GateFailure]]
    can: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class RevisionView:
    revision: Revision
    changes: list[FieldChange]


@dataclass(frozen=True)
class History:
    system: AISystem
    organisation: Organisation
    revisions: list[RevisionView]  # newest first
    transitions: list[Transition]  # newest first


def system_state(system: AISystem) -> dict[str, Any]:
    """What the ledger keeps as before/after for a system."""
    return {
        "details": system.details.snapshot(),
        "lifecycle_stage": system.lifecycle_stage.value,
        "publication_state": system.publication_state.value,
        "risk_level": system.risk_level.value,
        "revision": system.revision,
    }


def _check_reason(reason: str, name: str = "reason", required: bool = False) -> str:
    reason = reason.strip()
    if required and not reason:
        raise Invalid.from_fields({name: "Give a reason: it is kept on the record."})
    if len(reason) > REASON_MAX:
        raise Invalid.from_fields({name: f"The reason has more than {REASON_MAX} characters."})
    return reason


class RegisterService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gates: GateRegistry | None = None,
        clock: Clock = utcnow,
        gate_facts: Sequence[GateFacts] = (),
        kept_records: Sequence[KeptRecords] = (),
    ) -> None:
        super().__init__(uow_factory, clock)
        self.gates = gates if gates is not None else default_gates()
        # Registered by the areas whose records the gates read, or that keep a draft.
        self.gate_facts = tuple(gate_facts)
        self.kept_records = tuple(kept_records)

    # -- reading ------------------------------------------------------------

    def _load(
        self, uow: UnitOfWork, actor: Principal, system_id: int, lock: bool = False
    ) -> tuple[AISystem, Organisation]:
        """``lock`` takes the row for the rest of the transaction (writes), so two
        concurrent edits queue instead of both passing the revision check."""
        return readable_system(uow, actor, system_id, lock)

    def gate_context(self, uow: UnitOfWork, system: AISystem) -> GateContext:
        """Facts the gates read, from the areas that registered gate facts (e.g. current
        signed assessments and red-line decisions in force)."""
        now = self.clock()
        facts: dict[str, Any] = {"system_id": system.id}
        for provide in self.gate_facts:
            facts.update(provide(uow, system, now))
        return GateContext(facts=facts)

    def get(self, actor: Principal, system_id: int) -> SystemView:
        with self.uow_factory(readonly=True) as uow:
            system, org = self._load(uow, actor, system_id)
            ctx = self.gate_context(uow, system)
            nexts = sorted(allowed_targets(system.lifecycle_stage), key=list(LifecycleStage).index)
            failures = {t: self.gates.check(system.details, t, ctx) for t in nexts}
            ref = org_ref(org)
            can = {a.value: is_allowed(actor, a, ref) for a in Action}
            return SystemView(system, org, nexts, {t: f for t, f in failures.items() if f}, can)

    def list(
        self,
        actor: Principal,
        flt: SystemFilter | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> PageResult[SystemListing]:
        """Systems of the organisations the actor belongs to or oversees."""
        page = page_of(offset, limit)
        readable = actor.readable_org_ids()
        flt = flt or SystemFilter()
        bound = readable if flt.organisation_ids is None else flt.organisation_ids & readable
        flt = replace(flt, organisation_ids=frozenset(bound))
        with self.uow_factory(readonly=True) as uow:
            return uow.systems.search(flt, page)

    def history(self, actor: Principal, system_id: int) -> History:
        """Revisions with field-by-field diffs, and lifecycle transitions, newest first."""
        with self.uow_factory(readonly=True) as uow:
            system, org = self._load(uow, actor, system_id)
            revisions = uow.systems.revisions(system.id)
            views = []
            prev: dict[str, Any] | None = None
            for rev in revisions:
                views.append(RevisionView(rev, diff(prev, rev.snapshot)))
                prev = rev.snapshot
            transitions = uow.systems.transitions(system.id)
            return History(system, org, views[::-1], transitions[::-1])

    # -- writing ------------------------------------------------------------

    def _validate(self, details: SystemDetails) -> None:
        problems = validate_details(details)
        if problems:
            raise Invalid.from_fields(problems)

    def _gate(
        self,
        uow: UnitOfWork,
        system: AISystem,
        details: SystemDetails,
        target: LifecycleStage,
        record_only: bool = False,
    ) -> None:
        """Refuse unless ``details`` pass every gate guarding ``target``.

        Deployment is the door to every live stage: a record registered straight
        into use or operation, or edited while live, must also pass what
        deployment requires (coe-fc:14.2.b).
        """
        stages = [LifecycleStage.DEPLOYMENT, target] if target in LIVE_STAGES else [target]
        ctx = self.gate_context(uow, system)
        found = [
            f
            for stage in dict.fromkeys(stages)
            for f in self.gates.check(details, stage, ctx, record_only)
        ]
        failures = list(dict.fromkeys(found))  # the same failure from two stages, once
        if failures:
            raise Invalid(
                f"The system cannot be in {target.label}: "
                + " ".join(f"{f.message} ({f.provision})" for f in failures),
                [FieldProblem(("body", f.field or "lifecycle_stage"), f.message) for f in failures],
            )

    def create(
        self,
        actor: Principal,
        organisation_id: int,
        details: SystemDetails,
        stage: LifecycleStage = LifecycleStage.PRE_DESIGN,
        reason: str = "",
    ) -> AISystem:
        """Register a system. It starts as a draft, invisible to the public."""
        self._validate(details)
        reason = _check_reason(reason)
        if stage not in INITIAL_STAGES:
            raise Invalid.from_fields(
                {"lifecycle_stage": f"A system cannot be registered in the {stage.label} stage."}
            )
        now = self.clock()
        with self.uow_factory() as uow:
            org = get_org(uow, organisation_id)
            authorize(actor, Action.SYSTEM_CREATE, org)
            system = uow.systems.add(
                NewSystem(organisation_id=org.id, details=details, lifecycle_stage=stage, at=now)
            )
            # Registering straight into a live stage passes the same gates.
            self._gate(uow, system, details, system.lifecycle_stage, record_only=True)
            snapshot = details.snapshot()
            uow.systems.add_revision(
                Revision(
                    system.id,
                    1,
                    now,
                    actor.user_id,
                    actor.label,
                    snapshot,
                    tuple(changed_fields({}, snapshot)),
                    False,
                    "",
                    "Registered",
                )
            )
            uow.systems.add_transition(
                Transition(
                    system.id, now, actor.user_id, actor.label, None, stage, reason or "Registered"
                )
            )
            self._record(
                uow,
                actor,
                LedgerAction.CREATE,
                "ai_system",
                system.id,
                org.id,
                after=system_state(system),
            )
            uow.commit()
            return system

    def update(
        self,
        actor: Principal,
        system_id: int,
        details: SystemDetails,
        expected_revision: int | None = None,
        significant_reason: str = "",
        note: str = "",
    ) -> AISystem:
        """Save an edit as a new revision.

        A change to a significant field, or a reason given by the editor, marks a
        significant modification (coe-fc:16.2.g). ``expected_revision`` refuses an
        edit made on a stale copy, so nobody overwrites another's work unseen.
        """
        self._validate(details)
        significant_reason = _check_reason(significant_reason, "significant_reason")
        note = _check_reason(note, "note")
        now = self.clock()
        with self.uow_factory() as uow:
            system, org = self._load(uow, actor, system_id, lock=True)
            authorize(actor, Action.SYSTEM_UPDATE, org)
            if expected_revision is not None and expected_revision != system.revision:
                raise Conflict(
                    f"The record was changed by someone else (now revision {system.revision}, "
                    f"you edited revision {expected_revision}). Reload it and apply your "
                    "changes again."
                )
            before_state = system_state(system)
            before = system.details.snapshot()
            after = details.snapshot()
            changed = changed_fields(before, after)
            if not changed and not significant_reason:
                return system
            if system.lifecycle_stage in LIVE_STAGES:
                self._gate(uow, system, details, system.lifecycle_stage, record_only=True)
            if system.publication_state is PublicationState.PUBLISHED:
                self._check_publishable(details)
            significant = is_significant(changed) or bool(significant_reason)
            if significant and not significant_reason:
                significant_reason = "Changed: " + ", ".join(
                    f for f in changed if is_significant([f])
                )
            system.details = details
            system.revision += 1
            system.updated_at = now
            if significant:
                system.significant_modification_at = now
            uow.systems.save(system)
            uow.systems.add_revision(
                Revision(
                    system.id,
                    system.revision,
                    now,
                    actor.user_id,
                    actor.label,
                    after,
                    tuple(changed),
                    significant,
                    significant_reason if significant else "",
                    note,
                )
            )
            self._record(
                uow,
                actor,
                LedgerAction.UPDATE,
                "ai_system",
                system.id,
                org.id,
                before=before_state,
                after=system_state(system),
            )
            if significant:
                self._stale(uow, actor, system, org, significant_reason, now)
                self._record(
                    uow,
                    actor,
                    LedgerAction.SIGNIFICANT_MODIFICATION,
                    "ai_system",
                    system.id,
                    org.id,
                    after={
                        "reason": significant_reason,
                        "revision": system.revision,
                        "changed": changed,
                    },
                )
            uow.commit()
            return system

    def flag_significant(self, actor: Principal, system_id: int, reason: str) -> AISystem:
        """Mark a significant modification by hand (e.g. retraining with the same fields)."""
        reason = _check_reason(reason, required=True)
        now = self.clock()
        with self.uow_factory() as uow:
            system, org = self._load(uow, actor, system_id, lock=True)
            authorize(actor, Action.SYSTEM_FLAG_SIGNIFICANT, org)
            system.revision += 1
            system.updated_at = now
            system.significant_modification_at = now
            uow.systems.save(system)
            uow.systems.add_revision(
                Revision(
                    system.id,
                    system.revision,
                    now,
                    actor.user_id,
                    actor.label,
                    system.details.snapshot(),
                    (),
                    True,
                    reason,
                    "Flagged by hand",
                )
            )
            self._record(
                uow,
                actor,
                LedgerAction.SIGNIFICANT_MODIFICATION,
                "ai_system",
                system.id,
                org.id,
                after={"reason": reason, "revision": system.revision, "changed": []},
            )
            self._stale(uow, actor, system, org, reason, now)
            uow.commit()
            return system

    def _stale(
        self,
        uow: UnitOfWork,
        actor: Principal,
        system: AISystem,
        org: Organisation,
        reason: str,
        now: datetime,
    ) -> None:
        """coe-fc:16.2.g: a significant modification makes signed assessments stale."""
        why = f"Significant modification of the system (revision {system.revision}): {reason}"
        self._publish(uow, SystemChangedMaterially(actor, system.id, org.id, why, now))

    def transition(
        self, actor: Principal, system_id: int, target: LifecycleStage, reason: str
    ) -> AISystem:
        """Move the system to another lifecycle stage, through the gates, recording why."""
        reason = _check_reason(reason, required=True)
        now = self.clock()
        with self.uow_factory() as uow:
            system, org = self._load(uow, actor, system_id, lock=True)
            authorize(actor, Action.SYSTEM_TRANSITION, org)
            source = system.lifecycle_stage
            if not transition_allowed(source, target):
                allowed = ", ".join(
                    s.label for s in sorted(allowed_targets(source), key=list(LifecycleStage).index)
                )
                raise Invalid(
                    f"A system cannot move from {source.label} to {target.label}. "
                    f"Allowed next stages: {allowed or 'none'}.",
                    [FieldProblem(("body", "to_stage"), f"Not allowed from {source.label}.")],
                )
            self._gate(uow, system, system.details, target)
            before = system_state(system)
            system.lifecycle_stage = target
            system.updated_at = now
            uow.systems.save(system)
            uow.systems.add_transition(
                Transition(system.id, now, actor.user_id, actor.label, source, target, reason)
            )
            self._record(
                uow,
                actor,
                LedgerAction.TRANSITION,
                "ai_system",
                system.id,
                org.id,
                before=before,
                after={**system_state(system), "reason": reason},
            )
            uow.commit()
            return system

    @staticmethod
    def _check_publishable(details: SystemDetails) -> None:
        missing = {
            f: f"{label} must be filled in while the system is published."
            for f, label in PUBLICATION_REQUIRED
            if not str(getattr(details, f)).strip()
        }
        if missing:
            raise Invalid.from_fields(missing)

    def set_publication(
        self, actor: Principal, system_id: int, state: PublicationState
    ) -> AISystem:
        """Publish to the public register, withdraw to draft, or archive."""
        now = self.clock()
        with self.uow_factory() as uow:
            system, org = self._load(uow, actor, system_id, lock=True)
            authorize(actor, Action.SYSTEM_PUBLISH, org)
            current = system.publication_state
            if state is current:
                return system
            if state not in PUBLICATION_MOVES[current]:
                raise Invalid.from_fields(
                    {"publication_state": f"A {current.value} system cannot become {state.value}."}
                )
            if state is PublicationState.PUBLISHED:
                self._check_publishable(system.details)
                system.published_at = system.published_at or now
            before = system_state(system)
            system.publication_state = state
            system.updated_at = now
            uow.systems.save(system)
            self._record(
                uow,
                actor,
                LedgerAction.PUBLICATION,
                "ai_system",
                system.id,
                org.id,
                before=before,
                after=system_state(system),
            )
            uow.commit()
            return system

    def classify_risk(
        self, actor: Principal, system_id: int, level: RiskLevel, reason: str
    ) -> AISystem:
        """Record a preliminary risk level until signed assessments set it (coe-fc:16.2.b)."""
        reason = _check_reason(reason, required=True)
        now = self.clock()
        with self.uow_factory() as uow:
            system, org = self._load(uow, actor, system_id, lock=True)
            authorize(actor, Action.SYSTEM_CLASSIFY_RISK, org)
            if system.risk_level is level:
                return system
            before = system_state(system)
            system.risk_level = level
            system.updated_at = now
            uow.systems.save(system)
            self._record(
                uow,
                actor,
                LedgerAction.UPDATE,
                "ai_system",
                system.id,
                org.id,
                before=before,
                after={**system_state(system), "reason": reason},
            )
            uow.commit()
            return system

    def delete(self, actor: Principal, system_id: int) -> None:
        """Delete a draft that was never published; published records are archived instead."""
        with self.uow_factory() as uow:
            system, org = self._load(uow, actor, system_id, lock=True)
            authorize(actor, Action.SYSTEM_DELETE, org)
            if system.publication_state is not PublicationState.DRAFT or system.published_at:
                raise Conflict(
                    "A system that has been published cannot be deleted: archive it instead, "
                    "so the public record of it stays accountable."
                )
            blockers = _kept_records(uow, system.id, self.kept_records)
            if blockers:
                raise Conflict(
                    f"This draft has {blockers}; they stay on record as evidence of what was "
                    "assessed and what went wrong, so the draft cannot be deleted. It stays a "
                    "draft, out of the public register."
                )
            before = system_state(system)
            uow.systems.delete(system.id)
            self._record(
                uow, actor, LedgerAction.DELETE, "ai_system", system.id, org.id, before=before
            )
            uow.commit()


def _kept_records(uow: UnitOfWork, system_id: int, kept: Sequence[KeptRecords]) -> str:
    """The records that refer to a system and are kept (each table refers to it with
    ON DELETE RESTRICT), as words: "1 assessment and 2 incidents"; empty if none.
    Each area that keeps such records registered how to count them. Cases need no
    check: they are only taken about published systems, which are never deleted."""
    found = [item for count in kept for item in count(uow, system_id)]
    words = [f"{n} {one if n == 1 else many}" for n, one, many in found if n]
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
