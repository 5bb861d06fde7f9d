"""Every setting is documented (issue 14, item 8): each OMBUD_* environment variable
ombud reads has a row in a configuration table of the README, and each row names a
variable that ombud still reads. (datasette keeps the same test.)"""

from __future__ import annotations

import re
from pathlib import Path

from ombud.kernel.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SOURCES = ROOT / "src" / "ombud"
# The configuration tables: "Configuration", and "E-mail notifications" for the mail.
HEADER = re.compile(r"^\|\s*variable\s*\|\s*default\s*\|\s*meaning\s*\|\s*$", re.IGNORECASE)
VARIABLE = re.compile(r"`(OMBUD_[A-Z0-9_]+)`")
# A few variables are read straight from the environment, not through Settings.
ENVIRON_READ = re.compile(
    r"""(?:os\.environ\.get\(|os\.environ\[|os\.getenv\()\s*["'](OMBUD_[A-Z0-9_]+)["']"""
)


def documented() -> dict[str, int]:
    """Each variable named in the first column of a configuration table: its line."""
    found: dict[str, int] = {}
    in_table = False
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if HEADER.match(line):
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        if in_table:
            first_cell = line.strip("|").split("|", 1)[0]
            for name in VARIABLE.findall(first_cell):
                found.setdefault(name, number)
    return found


def read_by_ombud() -> dict[str, str]:
    """Each variable ombud reads: where (the Settings field, or the source file)."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = {f"{prefix}{field}".upper(): f"Settings.{field}" for field in Settings.model_fields}
    for path in sorted(SOURCES.rglob("*.py")):
        for name in ENVIRON_READ.findall(path.read_text(encoding="utf-8")):
            names.setdefault(name, str(path.relative_to(ROOT)))
    return names


def test_the_readme_tables_are_found() -> None:
    rows = documented()
    assert {"OMBUD_ENV", "OMBUD_DATABASE_URL", "OMBUD_SMTP_HOST"} <= rows.keys()


def test_every_setting_has_a_row_in_the_configuration_table() -> None:
    rows = documented()
    missing = [f"{name} ({where})" for name, where in read_by_ombud().items() if name not in rows]
    assert not missing, "README.md's configuration table has no row for: " + ", ".join(missing)


def test_every_row_of_the_configuration_table_is_a_setting() -> None:
    settings = read_by_ombud()
    rows = documented()
    stale = [f"{name} (README.md line {rows[name]})" for name in rows if name not in settings]
    assert not stale, "README.md documents settings ombud no longer reads: " + ", ".join(stale)
