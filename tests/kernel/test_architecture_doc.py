"""docs/architecture.md tells the truth: its table of areas lists every package under
src/ombud, in the order of the import contract that the build checks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ombud.modules import MODULES

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "architecture.md").read_text()


def _doc_layers() -> list[set[str]]:
    table = DOC.split("<!-- layers (top first), checked against pyproject.toml -->", 1)[1]
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \|", table, re.M)
    return [set(re.findall(r"`(\w+)`", packages)) for _, packages in rows]


def _contract_layers() -> list[set[str]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (between,) = [c for c in contracts if c["name"].startswith("between areas")]
    return [
        {name.strip().removeprefix("ombud.") for name in re.split(r"[|:]", layer)}
        for layer in between["layers"]
    ]


def _top_level_names() -> set[str]:
    """The packages and modules directly under src/ombud (resources hold data, not code)."""
    src = REPO / "src" / "ombud"
    packages = {p.name for p in src.iterdir() if (p / "__init__.py").exists()} - {"resources"}
    return packages | ({p.stem for p in src.glob("*.py")} - {"__init__"})


def test_the_documented_order_is_the_checked_order():
    assert _doc_layers() == _contract_layers()


def test_every_package_is_documented():
    documented = set().union(*_doc_layers())
    names = _top_level_names()
    assert names <= documented, names - documented


def test_every_area_plugs_in_through_its_module():
    src = REPO / "src" / "ombud"
    areas = {p.parent.name for p in src.glob("*/module.py")} - {
        "kernel"
    }  # kernel/module.py: the type
    assert areas == {m.name for m in MODULES}


def test_the_readme_tree_names_every_package():
    readme = (REPO / "README.md").read_text()
    tree = readme.split("## Architecture", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"(\w+)(?:/|\.py)", tree))
    names = _top_level_names()
    assert names <= named, names - named
