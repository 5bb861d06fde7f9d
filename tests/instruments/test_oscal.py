"""OSCAL export, validated with compliance-trestle (OSCAL's own Python library)."""

from __future__ import annotations

import json

import pytest
from trestle.oscal.catalog import Catalog
from trestle.oscal.profile import Profile
from typer.testing import CliRunner

from ombud.cli.main import app
from ombud.compliance.rules import load_requirements
from ombud.instruments.catalogue import load_catalogue
from ombud.instruments.oscal import OscalExporter, control_id

CATALOGUE = load_catalogue()


def _controls(items):
    for control in items:
        yield control
        yield from _controls(control.controls or [])


@pytest.mark.parametrize("instrument", [i.id for i in CATALOGUE.instruments])
def test_every_instrument_exports_a_valid_oscal_catalog(instrument):
    doc = OscalExporter().catalog(CATALOGUE.instrument(instrument), CATALOGUE)
    catalog = Catalog.model_validate(doc["catalog"])
    ids = {c.id for g in catalog.groups for c in _controls(g.controls)}
    assert ids == {control_id(p.id) for p in CATALOGUE.instrument(instrument).provisions}


def test_coe_fc_keeps_chapters_as_groups_and_nesting():
    doc = OscalExporter().catalog(CATALOGUE.instrument("coe-fc"), CATALOGUE)
    catalog = Catalog.model_validate(doc["catalog"])
    assert len(catalog.groups) >= 8
    art16 = next(c for g in catalog.groups for c in g.controls if c.id == "coe-fc-16")
    para2 = next(c for c in art16.controls if c.id == "coe-fc-16.2")
    g = next(c for c in para2.controls if c.id == "coe-fc-16.2.g")
    assert g.parts[0].prose.startswith("require, where appropriate, testing")


def test_requirements_export_as_a_valid_oscal_profile():
    doc = OscalExporter().profile(load_requirements(CATALOGUE), CATALOGUE)
    profile = Profile.model_validate(doc["profile"])
    hrefs = {i.href for i in profile.imports}
    assert "coe-fc.oscal.json" in hrefs
    alters = {a.control_id for a in profile.modify.alters}
    assert "coe-fc-14.2.b" in alters


def test_cli_writes_the_catalog_to_a_file_and_to_stdout(tmp_path):
    target = tmp_path / "coe-fc.json"
    result = CliRunner().invoke(
        app, ["instruments", "export", "--format", "oscal", "coe-fc", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    Catalog.model_validate(json.loads(target.read_text())["catalog"])
    stdout = CliRunner().invoke(app, ["instruments", "export", "ipu-148"])
    assert stdout.exit_code == 0
    assert json.loads(stdout.stdout)["catalog"]["metadata"]["oscal-version"]
    profile = CliRunner().invoke(app, ["instruments", "export", "--format", "oscal-profile"])
    Profile.model_validate(json.loads(profile.stdout)["profile"])


def test_cli_refuses_an_unknown_instrument():
    result = CliRunner().invoke(app, ["instruments", "export", "coe-xx"])
    assert result.exit_code == 4
    assert "No instrument 'coe-xx'" in result.output
