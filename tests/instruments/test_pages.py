"""Instrument pages, compliance pages and their JSON twins."""

from __future__ import annotations

import csv
import io

import pytest
from typer.testing import CliRunner

from ombud import bootstrap as bootstrap_module
from ombud.bootstrap import bootstrap
from ombud.cli.main import app as cli
from ombud.instruments import catalogue as catalogue_module
from ombud.kernel.yaml_schema import SchemaError
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import ScopeExemption, Sector
from tests.factories import complete_details
from tests.web_helpers import login


def test_instrument_page_has_anchors_links_and_binding(app_client):
    page = app_client.get("/instruments/coe-fc")
    assert page.status_code == 200
    assert 'id="16.2.g"' in page.text
    assert "Binding on a Party once it has ratified" in page.text
    assert 'href="/instruments/unga-78-265#op6.b"' in page.text  # cross-reference as a link
    assert "require, where appropriate, testing of artificial intelligence systems" in page.text
    listing = app_client.get("/instruments")
    assert "Recommends; not legally binding" in listing.text


def test_topic_filter_and_search(app_client):
    weapons = app_client.get("/instruments/ipu-148?topic=weapons").text
    assert "provisions match" in weapons
    children = app_client.get("/instruments/coe-fc?topic=children").text
    assert 'id="18"' in children
    assert 'id="16.2.g"' not in children
    found = app_client.get("/instruments/search?q=feedback+mechanisms").text
    assert "unga-78-265:op6.c" in found
    assert app_client.get("/instruments/search?topic=gossip").status_code == 422
    assert app_client.get("/instruments/coe-xx").status_code == 404


def test_provision_citations_on_pages_link_to_the_catalogue(app_client):
    page = app_client.get("/register").text
    assert 'href="/instruments/coe-fc#8"' in page


def test_system_compliance_page_and_csv(app_client, world, container):
    editor = world["city-editor@example.org"]
    system = container.register.create(
        editor, world.city.id, complete_details("No way to contest", contest_information="")
    )
    login(app_client, "city-viewer@example.org")
    page = app_client.get(f"/systems/{system.id}/compliance")
    assert page.status_code == 200
    assert "coe-fc Article 3.1.a" in page.text
    assert 'id="req-contest-information"' in page.text
    rows = list(
        csv.DictReader(io.StringIO(app_client.get(f"/systems/{system.id}/compliance.csv").text))
    )
    contest = next(r for r in rows if r["requirement"] == "contest-information")
    assert contest["status"] == "not_met"
    assert "coe-fc:14.2.b" in contest["provisions"]
    filtered = app_client.get(f"/systems/{system.id}/compliance?instrument=ipu-148").text
    assert "contest-information" not in filtered


def test_oversight_body_reads_the_organisation_matrix(app_client, world, container):
    container.register.create(world["city-editor@example.org"], world.city.id, complete_details())
    login(app_client, "oversight-viewer@example.org")
    page = app_client.get(f"/compliance?org={world.city.id}")
    assert page.status_code == 200
    assert "Compliance of City of Lindholm" in page.text
    assert "Benefit fraud risk scoring" in page.text
    # not its jurisdiction: the agency is not offered and cannot be asked for
    assert "National Welfare Agency" not in page.text
    assert app_client.get(f"/compliance.csv?org={world.agency.id}").status_code == 403


def test_compliance_api(api, as_user, world, container):
    weapon = container.register.create(
        world["agency-editor@example.org"],
        world.agency.id,
        complete_details(
            "Loitering munition",
            sector=Sector.DEFENCE,
            military_use=True,
            autonomy_in_critical_functions=True,
            scope_exemption=ScopeExemption.NATIONAL_DEFENCE,
            scope_justification="Defence.",
        ),
        LifecycleStage.TESTING,
    )
    response = api.get(
        f"/systems/{weapon.id}/compliance", headers=as_user("agency-viewer@example.org")
    )
    assert response.status_code == 200
    body = response.json()
    by_instrument = {a["instrument"]: a for a in body["applicability"]}
    assert by_instrument["coe-fc"]["outcome"] == "out_of_scope"
    assert "coe-fc:3.4" in by_instrument["coe-fc"]["provisions"]
    assert by_instrument["ipu-148"]["applies"] is True
    assert (
        api.get(
            f"/systems/{weapon.id}/compliance", headers=as_user("city-admin@example.org")
        ).status_code
        == 404
    )
    org = api.get(
        f"/organisations/{world.agency.slug}/compliance",
        headers=as_user("agency-viewer@example.org"),
    )
    assert org.status_code == 200
    assert len(org.json()["systems"]) == 1


def test_instruments_api_is_public(api):
    provision = api.get("/provisions/coe-fc:14.2.b").json()
    assert provision["text"].startswith("measures to ensure that the information")
    assert api.get("/provisions/coe-fc:99").status_code == 404
    assert len(api.get("/instruments").json()["items"]) == 5
    requirements = api.get("/requirements").json()["items"]
    assert any(r["id"] == "contest-information" for r in requirements)


def test_ombud_refuses_to_start_on_an_invalid_catalogue(tmp_path, monkeypatch, settings):
    broken = tmp_path / "instruments"
    broken.mkdir()
    for f in catalogue_module.catalogue_dir().glob("*.yaml"):
        (broken / f.name).write_text(f.read_text("utf-8"), "utf-8")
    text = (broken / "ipu-149.yaml").read_text("utf-8")
    (broken / "ipu-149.yaml").write_text(text.replace("kind: recommendation", "kind: wish", 1))
    monkeypatch.setattr(catalogue_module, "catalogue_dir", lambda: broken)
    bootstrap_module.shipped_catalogue.cache_clear()
    try:
        with pytest.raises(SchemaError) as exc:
            bootstrap(settings)
        assert exc.value.message.startswith("ipu-149.yaml:")
        result = CliRunner().invoke(
            cli,
            ["instruments", "stats"],
            env={"OMBUD_DATABASE_URL": settings.resolved_database_url},
        )
        assert result.exit_code == 2
        assert "ipu-149.yaml:" in result.output
        assert ".kind" in result.output
    finally:
        bootstrap_module.shipped_catalogue.cache_clear()
