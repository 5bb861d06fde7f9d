"""CSV exports never hand a spreadsheet a formula: a cell starting with = + - @, a tab
or a carriage return is written with a leading apostrophe (docs/register-export.md);
the JSON exports keep the value exactly."""

from __future__ import annotations

import csv
import io

import pytest

from ombud.kernel.documents.csv import safe_cell
from ombud.register.domain.systems import PublicationState
from tests.factories import complete_details
from tests.web_helpers import login

FORMULA = '=HYPERLINK("http://evil.example","Click")'


@pytest.mark.parametrize(
    ("value", "written"),
    [("=cmd", "'=cmd"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"), (7, 7)],
)  # fmt: skip
def test_safe_cell(value, written):
    assert safe_cell(value) == written


@pytest.fixture
def hostile_system(container, world):
    system = container.register.create(
        world["city-editor@example.org"],
        world.city.id,
        complete_details(FORMULA, provider="+cmd|' /C calc'!A0", vendor="@SUM(1+1)"),
    )
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    return system


def test_the_public_register_csv_neutralises_formulas(app_client, hostile_system):
    rows = list(csv.DictReader(io.StringIO(app_client.get("/register.csv").text)))
    assert rows[0]["name"] == "'" + FORMULA
    assert rows[0]["provider"] == "'+cmd|' /C calc'!A0"
    assert rows[0]["vendor"] == "'@SUM(1+1)"
    assert rows[0]["id"] == str(hostile_system.id)
    exported = app_client.get("/register.json").json()["systems"][0]
    assert exported["name"] == FORMULA  # JSON is not a spreadsheet: the value as it is


def test_the_compliance_csv_neutralises_formulas(app_client, hostile_system):
    login(app_client, "city-editor@example.org")
    text = app_client.get(f"/systems/{hostile_system.id}/compliance.csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    assert {r["system"] for r in rows} == {"'" + FORMULA}
