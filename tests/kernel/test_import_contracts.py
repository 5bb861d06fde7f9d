"""The import contracts (pyproject.toml, run by `make test` as lint-imports) catch a wrong
import: a copy of the package with one deliberately wrong import breaks the named contract."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.slow


def _lint(tmp_path: Path, wrong: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """lint-imports over a copy of src/ombud where each file in ``wrong`` gets a line."""
    src = tmp_path / "src"
    shutil.copytree(
        REPO / "src" / "ombud",
        src / "ombud",
        ignore=shutil.ignore_patterns("__pycache__", "resources", "static", "templates"),
    )
    for relative, line in wrong.items():
        target = src / "ombud" / relative
        target.write_text(target.read_text() + f"\n{line}\n")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("relative", "line", "contract"),
    [
        # a lower area reaching up into a higher one
        ("register/domain/systems.py", "import ombud.remedies.service", "between areas"),
        # the kernel reaching into an area
        ("kernel/errors.py", "import ombud.incidents.domain", "between areas"),
        # a domain importing the database
        ("incidents/domain.py", "import sqlalchemy", "domains import only"),
        # a service importing its repository (adapters are wired by bootstrap)
        ("remedies/service.py", "import ombud.remedies.repository", "services and ports never"),
        # a service importing the area's page module (entry points sit above services)
        ("assessments/service.py", "import ombud.assessments.pages", "inside every area"),
    ],
)
def test_a_wrong_import_breaks_its_contract(tmp_path: Path, relative, line, contract):
    result = _lint(tmp_path, {relative: line})
    assert result.returncode == 1, result.stdout[-2000:]
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout[-3000:]


def test_the_copy_itself_keeps_every_contract(tmp_path: Path):
    """The check above proves something only if the untouched copy passes."""
    result = _lint(tmp_path, {})
    assert result.returncode == 0, result.stdout[-3000:]
