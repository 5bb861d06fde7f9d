"""The public register: only published systems, ever; search, exports, escaping."""

from __future__ import annotations

import csv
import io

import pytest

from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import PublicationState, Sector
from ombud.register.public_service import PUBLIC_FIELDS
from tests.factories import complete_details


@pytest.fixture
def published_and_not(container, world):
    editor = world["city-editor@example.org"]
    approver = world["city-approver@example.org"]
    reg = container.register
    public = reg.create(editor, world.city.id, complete_details("Waste route optimiser"))
    reg.set_publication(approver, public.id, PublicationState.PUBLISHED)
    draft = reg.create(editor, world.city.id, complete_details("Unannounced face matcher"))
    archived = reg.create(editor, world.city.id, complete_details("Retired triage model"))
    reg.set_publication(approver, archived.id, PublicationState.PUBLISHED)
    reg.set_publication(approver, archived.id, PublicationState.ARCHIVED)
    other = reg.create(
        world["agency-editor@example.org"],
        world.agency.id,
        complete_details("Benefit chatbot", sector=Sector.SOCIAL_SECURITY),
        LifecycleStage.USE,
    )
    reg.set_publication(world["agency-approver@example.org"], other.id, PublicationState.PUBLISHED)
    return {"public": public, "draft": draft, "archived": archived, "other": other}


HIDDEN = ("Unannounced face matcher", "Retired triage model")


def test_unpublished_never_leaks(app_client, published_and_not):
    ids = published_and_not
    pages = [
        app_client.get("/register").text,
        app_client.get("/register?q=face").text,
        app_client.get("/register?q=retired").text,
        app_client.get("/register.json").text,
        app_client.get("/register.csv").text,
        app_client.get("/api/v1/public/systems?q=face").text,
        app_client.get("/").text,
    ]
    for text in pages:
        for name in HIDDEN:
            assert name not in text
    for key in ("draft", "archived"):
        sid = ids[key].id
        assert app_client.get(f"/register/{sid}").status_code == 404
        response = app_client.get(f"/register/{sid}.json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert app_client.get(f"/api/v1/public/systems/{sid}").status_code == 404


def test_search_text_and_filters(app_client, published_and_not):
    page = app_client.get("/register?q=waste").text
    assert "Waste route optimiser" in page
    assert "Benefit chatbot" not in page
    page = app_client.get("/register?sector=social_security&stage=use").text
    assert "Benefit chatbot" in page
    assert "Waste route optimiser" not in page
    page = app_client.get("/register?q=ro&organisation=").text  # short token, empty filter
    assert "Waste route optimiser" in page
    bad = app_client.get("/register?sector=astrology")
    assert bad.status_code == 422
    assert "sector" in bad.text


def test_htmx_search_returns_only_the_results(app_client, published_and_not):
    response = app_client.get("/register?q=waste", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Waste route optimiser" in response.text


def test_json_export_has_stable_fields_and_ids(app_client, published_and_not):
    data = app_client.get("/register.json").json()
    assert data["schema_version"] == "1"
    names = {s["name"] for s in data["systems"]}
    assert names == {"Waste route optimiser", "Benefit chatbot"}
    for record in data["systems"]:
        assert list(record) == list(PUBLIC_FIELDS)
        assert isinstance(record["id"], int)
    one = app_client.get(f"/register/{published_and_not['public'].id}.json").json()
    assert one["id"] == published_and_not["public"].id
    assert one["contest_information"].startswith("Write to")


def test_csv_export(app_client, published_and_not):
    response = app_client.get("/register.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == PUBLIC_FIELDS
    assert len(rows) == 3
    by_name = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert by_name["Benefit chatbot"]["lifecycle_stage"] == "use"
    assert by_name["Benefit chatbot"]["data_sources"] == "Claims history 2015-2023 (training)"


def test_system_page_shows_what_the_public_needs(app_client, published_and_not):
    page = app_client.get(f"/register/{published_and_not['other'].id}").text
    for text in (
        "Benefit chatbot",
        "Social Security Act",
        "A caseworker reviews every flag",
        "objections desk",
        "ai-register@welfare.example",
        "Use",
        "Claims history",
    ):
        assert text in page


def test_markup_in_records_is_escaped(app_client, container, world):
    editor = world["city-editor@example.org"]
    system = container.register.create(
        editor, world.city.id, complete_details('<script>alert("x")</script> bot')
    )
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    page = app_client.get(f"/register/{system.id}").text
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page
    listing = app_client.get("/register").text
    assert '<script>alert("x")</script>' not in listing
