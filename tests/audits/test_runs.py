"""Bias audits as evidence, on both databases: the queue and its worker, progress,
crash recovery, uploads and server paths, four walls, reruns, publication, the
compliance matrix and citations in assessments."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ombud.audits.charts import AuditPlots
from ombud.audits.data import LocalAuditData
from ombud.audits.domain.request import AuditRequest
from ombud.audits.domain.runs import Purpose, RunRequest, RunState, comparable
from ombud.audits.service import AuditRunService
from ombud.bootstrap import audit_service
from ombud.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from ombud.kernel.service import utcnow
from ombud.register.domain.systems import PublicationState
from tests.factories import complete_details

ASSESSOR = "city-assessor@example.org"
RR = RunRequest(
    label="label", groups=("group", "sex"), prediction="pred", references={"group": "A"}
)


def write_data(path: Path, n: int = 4000, seed: int = 1, bias: float = 0.3) -> Path:
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B", "C"], n, p=[0.5, 0.4, 0.1])
    sex = rng.choice(["female", "male", None], n, p=[0.49, 0.49, 0.02])
    label = rng.random(n) < 0.3
    pred = rng.random(n) < np.where(group == "B", 0.2 + bias, 0.2) + 0.4 * label
    table = pa.table(
        {"group": group, "sex": sex, "label": label.astype(int), "pred": pred.astype(int)}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=500)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_data(tmp_path / "data" / "decisions.parquet")
    return tmp_path / "data"


@pytest.fixture
def svc(container, root, tmp_path) -> AuditRunService:
    return AuditRunService(
        container.accounts.uow_factory,
        audit_service,
        LocalAuditData(tmp_path / "var", root, 5_000_000),
        AuditPlots(),
    )


@pytest.fixture
def system(container, world):
    return container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Selection model")
    )


def _queue(svc, world, system, rr=RR, path="decisions.parquet"):
    actor = world[ASSESSOR]
    return svc.request(actor, system.id, rr, svc.server_path(actor, system.id, path), path)


def test_a_run_goes_through_the_queue_and_equals_the_cli(svc, world, system, root):
    run = _queue(svc, world, system)
    assert run.state is RunState.QUEUED
    assert svc.run_pending() == 1
    done, _ = svc.get(world[ASSESSOR], run.id)
    assert done.state is RunState.DONE
    assert done.progress == 1.0
    assert done.data_rows == 4000
    assert done.engine.startswith("ombud-arrow ")
    import hashlib

    assert done.data_sha256 == hashlib.sha256((root / "decisions.parquet").read_bytes()).hexdigest()
    cli = audit_service()
    direct = cli.json(
        cli.run(
            AuditRequest(
                data=(str(root / "decisions.parquet"),),
                label="label",
                groups=("group", "sex"),
                prediction="pred",
                references={"group": "A"},
            )
        )
    )
    assert comparable(done.result) == comparable(direct)
    assert any(d["flagged"] for d in done.result["disparities"])
    assert svc.run_pending() == 0  # nothing left


def test_bad_requests_say_what_and_where(svc, world, system, root):
    with pytest.raises(Invalid) as err:
        svc.request(world[ASSESSOR], system.id, RunRequest(label="label", groups=()), "x", "x")
    assert "group" in err.value.field_messages()
    with pytest.raises(Invalid) as err:
        svc.request(
            world[ASSESSOR],
            system.id,
            RunRequest(label="label", groups=("g",), prediction="p", score="s", threshold=0.5),
            "x",
            "x",
        )
    assert "Give either --prediction COL or --score COL" in err.value.field_messages()["prediction"]
    run = _queue(svc, world, system, RunRequest(label="label", groups=("nope",), prediction="pred"))
    svc.run_pending()
    failed, _ = svc.get(world[ASSESSOR], run.id)
    assert failed.state is RunState.FAILED
    assert "nope" in failed.error


def test_server_paths_stay_under_the_root(svc, world, system, root, tmp_path):
    actor = world[ASSESSOR]
    for bad in ("../secret.parquet", "/etc/passwd", str(tmp_path / "var")):
        with pytest.raises(Invalid) as err:
            svc.server_path(actor, system.id, bad)
        assert "outside the audit data folder" in err.value.message or "outside" in str(
            err.value.field_messages()
        )
    (tmp_path / "outside.parquet").write_bytes(b"PAR1")
    os.symlink(tmp_path / "outside.parquet", root / "link.parquet")
    with pytest.raises(Invalid):
        svc.server_path(actor, system.id, "link.parquet")
    assert svc.server_path(actor, system.id, "*.parquet") == str(root / "*.parquet")
    closed = AuditRunService(
        svc.uow_factory, audit_service, LocalAuditData(tmp_path, None, 1000), AuditPlots()
    )
    with pytest.raises(Invalid) as err:
        closed.server_path(actor, system.id, "decisions.parquet")
    assert "OMBUD_AUDIT_DATA_ROOT" in str(err.value.field_messages())


def _chunks(data: bytes) -> Iterator[bytes]:
    for i in range(0, len(data), 1000):
        yield data[i : i + 1000]


def test_uploads_are_checked_hashed_and_kept(svc, world, system, root, tmp_path):
    actor = world[ASSESSOR]
    data = (root / "decisions.parquet").read_bytes()
    path = svc.store_upload(actor, system.id, "d.parquet", _chunks(data))
    assert Path(path).read_bytes() == data
    csv = b"group,sex,label,pred\nA,female,1,1\n"
    assert svc.store_upload(actor, system.id, "d.csv", _chunks(csv)).endswith(".csv")
    for name, content, fragment in (
        ("d.exe", b"MZ\x00\x01", "must be a Parquet file or a CSV text file"),
        ("big.csv", b"a,b\n" * 2_000_000, "is larger than"),
        ("empty.csv", b"", "is empty"),
    ):
        with pytest.raises(Invalid) as err:
            svc.store_upload(actor, system.id, name, _chunks(content))
        assert fragment in str(err.value.field_messages()), name
    leftovers = [p for p in (tmp_path / "var" / "audit-data").iterdir() if p.name.startswith(".")]
    assert leftovers == []
    with pytest.raises(NotFound):  # another organisation stores nothing
        svc.store_upload(world["agency-admin@example.org"], system.id, "d.csv", _chunks(csv))


def test_a_worker_that_dies_leaves_the_run_to_another(svc, world, system):
    run = _queue(svc, world, system)
    with svc.uow_factory() as uow:  # a worker claims it, then dies
        claimed = uow.audit_runs.claim_next(utcnow(), timedelta(seconds=30))
        uow.commit()
    assert claimed.id == run.id
    assert svc.run_pending() == 0  # its lease still holds
    later = AuditRunService(
        svc.uow_factory,
        audit_service,
        svc.data,
        AuditPlots(),
        clock=lambda: utcnow() + timedelta(minutes=5),
    )
    assert later.run_pending() == 1
    done, _ = svc.get(world[ASSESSOR], run.id)
    assert done.state is RunState.DONE
    assert done.attempts == 2


def test_a_worker_whose_run_was_taken_over_does_not_finish_it(svc, container, world, system):
    """The first worker's lease runs out, a second takes the run over and finishes it;
    when the first comes back it must neither finish the run again nor add an entry."""
    run = _queue(svc, world, system)
    with svc.uow_factory() as uow:  # the first worker claims it and stalls
        first = uow.audit_runs.claim_next(utcnow(), timedelta(seconds=30))
        uow.commit()
    later = AuditRunService(
        svc.uow_factory,
        audit_service,
        svc.data,
        AuditPlots(),
        clock=lambda: utcnow() + timedelta(minutes=5),
    )
    assert later.run_pending() == 1  # the second worker takes it over and finishes it
    done, _ = svc.get(world[ASSESSOR], run.id)
    entries = container.ledger.verify().checked

    svc._finish(first, None, "the stalled worker's late failure")
    svc._requeue(first, "the stalled worker's late retry")

    again, _ = svc.get(world[ASSESSOR], run.id)
    assert again.state is RunState.DONE
    assert again.error == ""
    assert (again.finished_at, again.attempts) == (done.finished_at, 2)
    assert container.ledger.verify().checked == entries


def test_four_walls_publication_citation_and_the_matrix(svc, container, world, system):
    run = _queue(svc, world, system)
    svc.run_pending()
    other = world["agency-admin@example.org"]
    with pytest.raises(NotFound):
        svc.get(other, run.id)
    with pytest.raises(NotFound):
        svc.request(other, system.id, RR, "x", "x")
    with pytest.raises(NotFound):
        svc.set_published(other, run.id, True)
    with pytest.raises(Forbidden):
        svc.request(world["city-viewer@example.org"], system.id, RR, "x", "x")
    assert svc.get(world["oversight-viewer@example.org"], run.id)[0].id == run.id
    # publication: approvers; the public summary only for a published system
    with pytest.raises(Forbidden):
        svc.set_published(world[ASSESSOR], run.id, True)
    svc.set_published(world["city-approver@example.org"], run.id, True)
    assert svc.public_summary(system.id) is None
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    summary = svc.public_summary(system.id)
    assert summary["rows"] == 4000
    assert summary["attributes"] == ["group", "sex"]
    assert {f["attributes"]["group"] for f in summary["flagged"] if "group" in f["attributes"]} == {
        "B"
    }
    # citation in an assessment of the same system
    testing = container.assessments.start(
        world[ASSESSOR], system.id, "urn:ombud:template:pre-deployment-testing"
    )
    svc.cite(world[ASSESSOR], testing.id, run.id)
    svc.cite(world[ASSESSOR], testing.id, run.id)  # once is enough
    assert [r.id for r in svc.cited_in(world[ASSESSOR], testing.id)] == [run.id]
    with pytest.raises(NotFound):
        svc.cite(other, testing.id, run.id)
    # the matrix: bias_audit evidence is met
    r = container.compliance.for_system(world[ASSESSOR], system.id)
    met = [
        e.met for res in r.results for e in res.evidence if e.evidence.kind.value == "bias_audit"
    ]
    assert met
    assert all(met)


def test_a_rerun_detects_changed_data(svc, world, system, root):
    run = _queue(svc, world, system)
    svc.run_pending()
    same = svc.rerun(world[ASSESSOR], run.id)
    svc.run_pending()
    check = svc.get(world[ASSESSOR], same.id)[0].parameters["rerun_check"]
    assert check == {"of": run.id, "same_data": True, "largest_difference": 0.0, "identical": True}
    write_data(root / "decisions.parquet", seed=2)
    changed = svc.rerun(world[ASSESSOR], run.id)
    svc.run_pending()
    check = svc.get(world[ASSESSOR], changed.id)[0].parameters["rerun_check"]
    assert check["same_data"] is False
    assert check["identical"] is False
    queued = _queue(svc, world, system)
    with pytest.raises(Conflict):
        svc.rerun(world[ASSESSOR], queued.id)


def test_plots_are_svg(svc, world, system):
    run = _queue(
        svc,
        world,
        system,
        RunRequest(label="label", groups=("group",), prediction="pred", purpose=Purpose.MONITORING),
    )
    svc.run_pending()
    for kind in ("disparities", "selection_rate", "fpr"):
        assert svc.plot(world[ASSESSOR], run.id, kind).lstrip().startswith("<?xml")
    with pytest.raises(NotFound):
        svc.plot(world[ASSESSOR], run.id, "pie")


def write_timed(path: Path) -> Path:
    """Three months; from March, group B's false positive rate triples."""
    rng = np.random.default_rng(5)
    n = 9000
    month = rng.integers(1, 4, n)
    group = rng.choice(["A", "B"], n, p=[0.6, 0.4])
    label = rng.random(n) < 0.3
    p = 0.15 + 0.5 * label + np.where((month == 3) & (group == "B"), 0.3, 0.0)
    import datetime as dt

    when = [dt.datetime(2026, int(m), 10) for m in month]
    pq.write_table(
        pa.table(
            {"at": pa.array(when, pa.timestamp("s")), "group": group,
             "label": label.astype(int), "pred": (rng.random(n) < p).astype(int)}
        ),
        path,
    )  # fmt: skip
    return path


def test_a_monitoring_alert_opens_one_finding(svc, container, world, system, root):
    write_timed(root / "timed.parquet")
    rr = RunRequest(
        label="label", groups=("group",), prediction="pred", references={"group": "A"},
        purpose=Purpose.MONITORING, time_column="at", window="month",
        alerts=("FPR ratio outside [0.8, 1.25]",),
    )  # fmt: skip
    with pytest.raises(Invalid) as err:
        svc.request(
            world[ASSESSOR],
            system.id,
            RunRequest(**{**rr.__dict__, "alerts": ("fpr bigger",)}),
            "x",
            "x",
        )
    assert "alerts" in err.value.field_messages()
    run = _queue(svc, world, system, rr, "timed.parquet")
    svc.run_pending()
    done, _ = svc.get(world[ASSESSOR], run.id)
    assert [b["window"] for b in done.result["alerts"]["breaches"]] == ["2026-03"]
    (finding,) = svc.findings(world[ASSESSOR], system.id)
    assert finding.title == "FPR ratio outside [0.8, 1.25] | group=B"
    assert finding.state.value == "open"
    again = svc.rerun(world[ASSESSOR], run.id)
    svc.run_pending()
    (same,) = svc.findings(world[ASSESSOR], system.id)  # updated, not duplicated
    assert same.detail["runs"] == [run.id, again.id]
    with pytest.raises(NotFound):
        svc.resolve_finding(world["agency-admin@example.org"], same.id, "x")
    with pytest.raises(Invalid):
        svc.resolve_finding(world[ASSESSOR], same.id, "  ")
    svc.resolve_finding(world[ASSESSOR], same.id, "Threshold recalibrated for all regions.")
    assert svc.findings(world[ASSESSOR], system.id)[0].state.value == "resolved"
    assert svc.findings(world["oversight-viewer@example.org"], system.id)[0].id == same.id
