"""Bias audits as evidence: request a run on uploaded data or a path on the server,
run it in the background with progress, keep the result with the data's sha256,
row count, parameters and engine version, cite it, publish a summary, rerun it.

The queue is the audit_runs table itself (state and lease): one store, written in
the same transactions as the runs, the same on SQLite and PostgreSQL. A worker
that dies leaves its run 'running' until the lease ends; another takes it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from ombud.accounts.access import authorize, org_ref
from ombud.audits.analysis import AuditService
from ombud.audits.domain.metrics import DISPARITY_METRICS, Metric
from ombud.audits.domain.monitoring import finding_title
from ombud.audits.domain.runs import (
    DATA_NAME_MAX,
    MAX_ATTEMPTS,
    AuditRun,
    Finding,
    FindingState,
    RunRequest,
    RunState,
    comparable,
    data_sha256,
    largest_difference,
    public_summary,
)
from ombud.audits.ports import AuditData, AuditPlotter
from ombud.kernel.access import Action, Principal, is_allowed
from ombud.kernel.errors import Conflict, Invalid, NotFound
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ports import Clock, UnitOfWork, UnitOfWorkFactory
from ombud.kernel.service import Service, utcnow
from ombud.register.access import readable_system
from ombud.register.domain.systems import PublicationState

log = logging.getLogger("ombud.audits")
WORKER = "audit worker"
PROGRESS_EVERY = 0.25  # seconds between progress writes


def check_request(rr: RunRequest) -> None:
    """The same checks as `ombud audit run`, with the same messages, per field (the
    request checks itself: AuditRequest.problems)."""
    problems = rr.problems()
    if problems:
        raise Invalid.from_fields(problems)


class AuditRunService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        audits: Callable[[], AuditService],
        data: AuditData,
        plots: AuditPlotter,
        clock: Clock = utcnow,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        super().__init__(uow_factory, clock)
        self._audits = audits
        self.data = data
        self.plots = plots
        self.lease = lease

    def plot(self, actor: Principal, run_id: int, kind: str) -> str:
        """An SVG of a finished audit: 'disparities', or a metric compared across groups
        (DISPARITY_METRICS) per group."""
        run, _ = self.get(actor, run_id)
        if run.result is None:
            raise NotFound(f"Audit {run_id} has no result yet.")
        if kind == "disparities":
            return self.plots.disparities(run.result)
        if kind not in DISPARITY_METRICS:
            known = ", ".join(m.value for m in DISPARITY_METRICS)
            raise NotFound(f"No plot '{kind[:30]}': use disparities or {known}.")
        return self.plots.rates(run.result, Metric(kind))

    # -- requesting -------------------------------------------------------------

    def check(self, rr: RunRequest) -> None:
        """Invalid, naming each field at fault, before anything is stored (an upload)."""
        check_request(rr)

    def may_run(self, actor: Principal, system_id: int) -> None:
        """Forbidden/NotFound before anything is stored for the actor."""
        with self.uow_factory(readonly=True) as uow:
            _, org = readable_system(uow, actor, system_id)
            authorize(actor, Action.AUDIT_RUN, org)

    def store_upload(
        self, actor: Principal, system_id: int, name: str, chunks: Iterable[bytes]
    ) -> str:
        """Keep uploaded data for an audit (checked, hashed); its stored path. Blocking
        file I/O: the web calls it from its thread pool."""
        self.may_run(actor, system_id)
        path, _ = self.data.save_upload(name, chunks)
        return path

    def server_path(self, actor: Principal, system_id: int, raw: str) -> str:
        self.may_run(actor, system_id)
        return self.data.server_path(raw)

    def request(
        self, actor: Principal, system_id: int, rr: RunRequest, data_path: str, data_name: str
    ) -> AuditRun:
        """Queue an audit of the data at ``data_path`` (stored upload or checked path)."""
        check_request(rr)
        now = self.clock()
        with self.uow_factory() as uow:
            system, org = readable_system(uow, actor, system_id)
            authorize(actor, Action.AUDIT_RUN, org)
            run = uow.audit_runs.add(
                AuditRun(
                    id=0,
                    organisation_id=org.id,
                    system_id=system.id,
                    purpose=rr.purpose,
                    state=RunState.QUEUED,
                    parameters={**rr.as_json(), "data_path": data_path},
                    data_name=data_name[:DATA_NAME_MAX],
                    requested_by=actor.label,
                    requested_at=now,
                    message="queued",
                )
            )
            self._record(
                uow, actor, LedgerAction.CREATE, "audit_run", run.id, org.id,
                after={"system_id": system.id, "purpose": rr.purpose.value, "data": run.data_name},
            )  # fmt: skip
            uow.commit()
            return run

    def rerun(self, actor: Principal, run_id: int) -> AuditRun:
        """The same audit on the same data again; when done, it is compared with the first."""
        run, _ = self.get(actor, run_id)
        if run.state is not RunState.DONE:
            raise Conflict("Only a finished audit can be rerun.")
        rr = replace(RunRequest.from_json(run.parameters, run.purpose), rerun_of=run.id)
        return self.request(actor, run.system_id, rr, run.parameters["data_path"], run.data_name)

    # -- the worker --------------------------------------------------------------

    def run_pending(self, limit: int = 1) -> int:
        """Run up to ``limit`` queued audits (or ones whose worker died); how many ran."""
        ran = 0
        for _ in range(limit):
            with self.uow_factory() as uow:
                run = uow.audit_runs.claim_next(self.clock(), self.lease)
                uow.commit()
            if run is None:
                break
            self._execute(run)
            ran += 1
        return ran

    def _execute(self, run: AuditRun) -> None:
        if run.attempts > MAX_ATTEMPTS:
            self._finish(run, None, f"Gave up after {MAX_ATTEMPTS} attempts: the worker stopped.")
            return
        request = RunRequest.from_json(run.parameters, run.purpose).on(
            (run.parameters["data_path"],)
        )
        last = [0.0]

        def progress(done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY:
                return
            last[0] = now
            share = min(done / total, 0.99) if total else 0.0
            text = f"{done:,} of {total:,} rows" if total else f"{done:,} rows"
            with self.uow_factory() as uow:
                uow.audit_runs.progress(run.id, share, text, self.clock() + self.lease)
                uow.commit()

        try:
            service = self._audits()
            report = service.run(request, progress)
            result = service.json(report)
        except Invalid as exc:
            self._finish(run, None, exc.message)
            return
        except Exception as exc:
            log.exception("audit run %s failed", run.id)
            if run.attempts < MAX_ATTEMPTS:
                self._requeue(run, f"{type(exc).__name__}: {exc}")
            else:
                self._finish(run, None, f"The audit failed: {type(exc).__name__}: {exc}")
            return
        self._finish(run, result, "")

    def _requeue(self, run: AuditRun, why: str) -> None:
        with self.uow_factory() as uow:
            current = _still_held(uow, run)
            if current is None:
                return
            current.state = RunState.QUEUED
            current.message = f"will try again: {why}"[:300]
            uow.audit_runs.save(current)
            uow.commit()

    def _finish(self, run: AuditRun, result: dict[str, Any] | None, error: str) -> None:
        now = self.clock()
        with self.uow_factory() as uow:
            current = _still_held(uow, run)
            if current is None:
                return
            current.finished_at = now
            current.lease_until = None
            if result is None:
                current.state = RunState.FAILED
                current.error = error
                current.message = "failed"
            else:
                current.state = RunState.DONE
                current.progress = 1.0
                current.result = result
                current.data_sha256 = data_sha256(result)
                current.data_rows = int(result.get("rows", 0))
                engine = result.get("engine", {})
                current.engine = f"{engine.get('name', '')} {engine.get('version', '')}".strip()
                current.message = "done"
                original_id = current.parameters.get("rerun_of")
                if original_id:
                    original = uow.audit_runs.get(int(original_id))
                    if original is not None and original.result is not None:
                        current.parameters = {
                            **current.parameters,
                            "rerun_check": rerun_check(original, current),
                        }
            uow.audit_runs.save(current)
            if result is not None:
                self._open_findings(uow, current, result, now)
            self._record(
                uow, None, LedgerAction.UPDATE, "audit_run", current.id, current.organisation_id,
                after={
                    "state": current.state.value,
                    "data_sha256": current.data_sha256,
                    "rows": current.data_rows,
                    "engine": current.engine,
                },
                actor_label=WORKER,
            )  # fmt: skip
            uow.commit()

    def _open_findings(
        self, uow: UnitOfWork, run: AuditRun, result: dict[str, Any], now: datetime
    ) -> None:
        """Each breached alert rule opens a finding on the system (one open finding per
        rule and group: a later breach adds its windows to it)."""
        breaches = result.get("alerts", {}).get("breaches", [])
        grouped: dict[str, list[dict[str, Any]]] = {}
        for b in breaches:
            grouped.setdefault(finding_title(b), []).append(b)
        for title, items in grouped.items():
            found = uow.findings.open_titled(run.system_id, title)
            if found is None:
                finding = uow.findings.add(
                    Finding(
                        id=0,
                        system_id=run.system_id,
                        organisation_id=run.organisation_id,
                        audit_run_id=run.id,
                        source="monitoring",
                        title=title,
                        detail={"breaches": items, "runs": [run.id]},
                        state=FindingState.OPEN,
                        created_at=now,
                    )
                )
                self._record(
                    uow, None, LedgerAction.CREATE, "finding", finding.id, run.organisation_id,
                    after={"title": title, "audit_run": run.id}, actor_label=WORKER,
                )  # fmt: skip
            else:
                known = {(b["window"], b["rule"]) for b in found.detail.get("breaches", [])}
                found.detail = {
                    "breaches": found.detail.get("breaches", [])
                    + [b for b in items if (b["window"], b["rule"]) not in known],
                    "runs": [*found.detail.get("runs", []), run.id],
                }
                found.audit_run_id = run.id
                uow.findings.save(found)

    def findings(self, actor: Principal, system_id: int) -> list[Finding]:
        with self.uow_factory(readonly=True) as uow:
            system, _ = readable_system(uow, actor, system_id)
            return uow.findings.for_system(system.id)

    def resolve_finding(self, actor: Principal, finding_id: int, resolution: str) -> Finding:
        """Close a finding with what was done about it (required)."""
        resolution = resolution.strip()
        if not resolution or len(resolution) > 5000:
            raise Invalid.from_fields({"resolution": "Say what was done (1 to 5000 characters)."})
        with self.uow_factory() as uow:
            finding = uow.findings.get(finding_id, for_update=True)
            if finding is None:
                raise NotFound(f"Finding {finding_id} does not exist or is not visible to you.")
            _, org = readable_system(uow, actor, finding.system_id)
            authorize(actor, Action.AUDIT_RUN, org)
            if finding.state is FindingState.RESOLVED:
                raise Conflict("This finding is already resolved.")
            finding.state = FindingState.RESOLVED
            finding.resolved_at = self.clock()
            finding.resolved_by = actor.label
            finding.resolution = resolution
            uow.findings.save(finding)
            self._record(
                uow, actor, LedgerAction.TRANSITION, "finding", finding.id, org.id,
                after={"state": "resolved"},
            )  # fmt: skip
            uow.commit()
            return finding

    # -- reading, publishing, citing ---------------------------------------------

    def get(self, actor: Principal, run_id: int) -> tuple[AuditRun, Any]:
        with self.uow_factory(readonly=True) as uow:
            run = uow.audit_runs.get(run_id)
            missing = NotFound(f"Audit {run_id} does not exist or is not visible to you.")
            if run is None:
                raise missing
            try:
                system, _ = readable_system(uow, actor, run.system_id)
            except NotFound:
                raise missing from None
            return run, system

    def for_system(self, actor: Principal, system_id: int) -> list[AuditRun]:
        with self.uow_factory(readonly=True) as uow:
            system, _ = readable_system(uow, actor, system_id)
            return uow.audit_runs.for_system(system.id)

    def can_run(self, actor: Principal, system_id: int) -> bool:
        with self.uow_factory(readonly=True) as uow:
            _, org = readable_system(uow, actor, system_id)
            return is_allowed(actor, Action.AUDIT_RUN, org_ref(org))

    def set_published(self, actor: Principal, run_id: int, published: bool) -> AuditRun:
        """Show (or stop showing) a summary on the public register (approvers, admins)."""
        with self.uow_factory() as uow:
            run = uow.audit_runs.get(run_id, for_update=True)
            if run is None:
                raise NotFound(f"Audit {run_id} does not exist or is not visible to you.")
            _, org = readable_system(uow, actor, run.system_id)
            authorize(actor, Action.SYSTEM_PUBLISH, org)
            if run.state is not RunState.DONE:
                raise Conflict("Only a finished audit can be published.")
            run.published = published
            uow.audit_runs.save(run)
            self._record(
                uow, actor, LedgerAction.PUBLICATION, "audit_run", run.id, org.id,
                after={"published": published},
            )  # fmt: skip
            uow.commit()
            return run

    def public_summary(self, system_id: int) -> dict[str, Any] | None:
        """The latest published audit of a published system, summarised; else None."""
        with self.uow_factory(readonly=True) as uow:
            system = uow.systems.get(system_id)
            if system is None or system.publication_state is not PublicationState.PUBLISHED:
                return None
            run = uow.audit_runs.latest_published(system_id)
        return public_summary(run) if run else None

    def cite(self, actor: Principal, assessment_id: int, run_id: int) -> None:
        """Cite a finished audit of the same system in an assessment (its test record)."""
        now = self.clock()
        with self.uow_factory() as uow:
            assessment = uow.assessments.get(assessment_id)
            missing = NotFound(f"Assessment {assessment_id} does not exist or is not visible.")
            if assessment is None:
                raise missing
            try:
                _, org = readable_system(uow, actor, assessment.system_id)
            except NotFound:
                raise missing from None
            authorize(actor, Action.ASSESSMENT_EDIT, org)
            run = uow.audit_runs.get(run_id)
            if run is None or run.system_id != assessment.system_id:
                raise Invalid.from_fields(
                    {"audit": f"Audit {run_id} is not an audit of this system."}
                )
            if run.state is not RunState.DONE:
                raise Invalid.from_fields({"audit": f"Audit {run_id} has not finished."})
            if uow.audit_runs.cite(assessment_id, run_id, actor.label, now):
                self._record(
                    uow, actor, LedgerAction.UPDATE, "assessment", assessment_id, org.id,
                    after={"cites_audit": run_id, "data_sha256": run.data_sha256},
                )  # fmt: skip
            uow.commit()

    def cited_in(self, actor: Principal, assessment_id: int) -> list[AuditRun]:
        with self.uow_factory(readonly=True) as uow:
            assessment = uow.assessments.get(assessment_id)
            if assessment is None:
                return []
            readable_system(uow, actor, assessment.system_id)
            return uow.audit_runs.cited_in(assessment_id)

    @staticmethod
    def evidence(uow: UnitOfWork, system_ids: list[int]) -> dict[int, frozenset[str]]:
        """For the compliance matrix: '*' and the purposes of each system's finished audits."""
        return {
            sid: frozenset({"*"}) | purposes
            for sid, purposes in uow.audit_runs.done_purposes(system_ids).items()
        }


def rerun_check(original: AuditRun, rerun: AuditRun) -> dict[str, Any]:
    """Same data (sha256) and the same numbers (largest absolute difference)?"""
    assert original.result is not None
    assert rerun.result is not None
    same_data = original.data_sha256 is not None and original.data_sha256 == rerun.data_sha256
    diff = largest_difference(comparable(original.result), comparable(rerun.result))
    return {
        "of": original.id,
        "same_data": same_data,
        "largest_difference": diff,
        "identical": same_data and diff == 0.0,
    }


def _still_held(uow: UnitOfWork, run: AuditRun) -> AuditRun | None:
    """The run, locked, if the worker that claimed it as ``run.attempts`` still holds
    it; None (and a warning) when another worker took it over after the lease ran out."""
    current = uow.audit_runs.get(run.id, for_update=True)
    assert current is not None
    if current.held_by(run.attempts):
        return current
    log.warning("audit run %s was taken over; attempt %s stops", run.id, run.attempts)
    return None
