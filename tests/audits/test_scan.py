"""The pass over the data as `ombud audit run` makes it: Parquet row groups decoded by
several threads give the very document one thread gives; the sha256 begun before the
engine loads is the file's; and the command loads nothing it does not use."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ombud.audits.analysis import AuditService
from ombud.audits.domain.request import AuditRequest
from ombud.audits.domain.runs import comparable
from ombud.audits.engine import ArrowAuditEngine, HtmlAuditReport
from ombud.audits.engine.files import FileDigests

HEAVY = ("pyarrow", "numpy", "matplotlib", "sqlalchemy", "ombud.bootstrap", "pandas", "fastapi")


def write_files(directory: Path) -> Path:
    """Two files: many small row groups (read in runs), and row groups of more than two
    batches (streamed); NULLs and values first seen in later row groups."""
    rng = np.random.default_rng(3)
    directory.mkdir(parents=True, exist_ok=True)
    for name, n, row_group in (("a.parquet", 9000, 700), ("b.parquet", 6000, 2500)):
        group = rng.choice(["x", "y", "z", None], n, p=[0.5, 0.3, 0.15, 0.05]).astype(object)
        group[: n // 3] = np.where(group[: n // 3] == "z", "x", group[: n // 3])  # z: later
        table = pa.table(
            {
                "group": pa.array(group, pa.string()),
                "sex": rng.choice(["f", "m"], n),
                "label": (rng.random(n) < 0.3).astype(np.int8),
                "pred": (rng.random(n) < 0.4).astype(np.int8),
            }
        )
        pq.write_table(table, directory / name, row_group_size=row_group)
    return directory


@pytest.mark.parametrize("name", ["a.parquet", "b.parquet", "*.parquet"])
def test_several_reading_threads_give_the_document_one_thread_gives(tmp_path, name):
    data = write_files(tmp_path / "d")
    request = AuditRequest(
        (str(data / name),), "label", ("group", "sex"), prediction="pred", intersect=True
    )

    def document(threads: int) -> dict:
        svc = AuditService(ArrowAuditEngine(batch_rows=1000, threads=threads), HtmlAuditReport())
        return comparable(svc.json(svc.run(request)))

    one = document(1)
    assert one["rows"] == {"a.parquet": 9000, "b.parquet": 6000, "*.parquet": 15000}[name]
    assert document(4) == one  # the same groups, in the same order, the same numbers
    assert document(2) == one


def test_a_digest_begun_early_is_the_files_and_is_used(tmp_path):
    data = write_files(tmp_path / "d") / "a.parquet"
    digests = FileDigests()
    digests.start([str(data)])
    svc = AuditService(ArrowAuditEngine(digests=digests), HtmlAuditReport())
    doc = svc.json(svc.run(AuditRequest((str(data),), "label", ("group",), prediction="pred")))
    (file,) = doc["data"]["files"]
    assert file["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    stopped = FileDigests()  # the audit failed: nobody waits for a digest
    stopped.stop()
    stopped.start([str(data)])
    assert stopped.result(str(data)) is None


def _loaded(code: str) -> list[str]:
    """Which of HEAVY a fresh interpreter has loaded after ``code``."""
    probe = f"import sys\n{code}\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().replace("'", '"'))


def test_the_audit_cli_module_loads_nothing_heavy():
    """`ombud --help` and every other command import it: its libraries load in the command."""
    assert _loaded("import ombud.audits.cli") == []


def test_an_audit_loads_neither_pandas_nor_the_web_nor_the_database(tmp_path):
    """pandas is not ombud's dependency, but pyarrow imports it when installed (0.4 s of a
    10M-row audit) unless the engine avoids pyarrow's pandas bridge; the audit needs no
    database and no web stack either."""
    data = write_files(tmp_path / "d") / "a.parquet"
    code = (
        "from typer.testing import CliRunner\n"
        "import typer\n"
        "from ombud.audits.cli import audit_app\n"
        "app = typer.Typer(); app.add_typer(audit_app, name='audit')\n"
        f"r = CliRunner().invoke(app, ['audit', 'run', {str(data)!r}, '--label', 'label',\n"
        "    '--prediction', 'pred', '-g', 'group', '-g', 'sex', '--intersect'])\n"
        "assert r.exit_code == 0, r.output"
    )
    assert _loaded(code) == ["pyarrow", "numpy"]
