"""Hostile input gets a clear refusal naming what and where, never a server error:
alias bombs and deep nesting in uploaded files, control characters in text,
non-ASCII digits, ids beyond 64 bits, odd download names, forged Host headers,
chunked bodies over the limit, rate limits; and an unexpected error keeps the
connection open."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount
from typer.testing import CliRunner

from ombud.app import create_app
from ombud.bootstrap import Container
from ombud.cli.main import app as cli_app
from ombud.register.domain.systems import PublicationState
from tests.conftest import World
from tests.factories import complete_details
from tests.web_helpers import csrf_from, form_for, form_token_of, login

ASSESSOR = "city-assessor@example.org"
EDITOR = "city-editor@example.org"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"

# Five levels of nine aliases (59,049 strings once expanded): small enough that the
# old parser got through it, and refused now at the first anchor.
ALIAS_BOMB = b"""\
use_description: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
biometrics: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
practices: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
undue_risk: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
reasoning: [*d,*d,*d,*d,*d,*d,*d,*d,*d]
"""
DEEP_JSON = "[" * 50_000 + "]" * 50_000


@pytest.fixture
def system(container: Container, world: World):
    return container.register.create(world[EDITOR], world.city.id, complete_details("Triage"))


@pytest.fixture
def published(container: Container, world: World, system):
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    return system


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "OMBUD_DATABASE_URL": database_url,
        "OMBUD_ENV": "test",
        "OMBUD_DATA_DIR": str(tmp_path / "cli-data"),
    }


# -- uploaded files ------------------------------------------------------------------


def test_an_alias_bomb_uploaded_as_answers_is_refused_at_once(app_client, container, world, system):
    a = container.assessments.start(world[ASSESSOR], system.id, "red-line-screening")
    token = login(app_client, ASSESSOR)
    started = time.perf_counter()
    refused = app_client.post(
        f"/assessments/{a.id}/answers-file",
        data={"csrf_token": token},
        files={"answers_file": ("bomb.yaml", ALIAS_BOMB, "application/yaml")},
    )
    assert time.perf_counter() - started < 5
    assert refused.status_code == 422
    assert "bomb.yaml:1:" in refused.text
    assert "anchors and aliases are not accepted" in refused.text
    assert container.assessments.get(world[ASSESSOR], a.id).assessment.answers == {}


def test_an_alias_bomb_given_to_the_cli_is_refused_with_exit_2(
    cli_env, container, world, system, tmp_path
):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_bytes(ALIAS_BOMB)
    result = CliRunner().invoke(
        cli_app,
        ["assess", "run", str(system.id), "red-line-screening", "--answers", str(bomb),
         "--as", ASSESSOR],
        env=cli_env,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "bomb.yaml:1:" in result.output
    assert "anchors and aliases" in result.output
    assert container.assessments.for_system(world[ASSESSOR], system.id) == []


def test_fifty_thousand_nested_brackets_in_an_incident_import(
    cli_env, app_client, api, as_user, system, tmp_path
):
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP_JSON)
    result = CliRunner().invoke(
        cli_app,
        ["incidents", "import", str(system.id), str(deep), "--severity", "low", "--as", EDITOR],
        env=cli_env,
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "deep.json: nests lists or objects more than 64 levels deep" in result.output

    token = login(app_client, EDITOR)
    page = app_client.post(
        f"/systems/{system.id}/incidents/import",
        data={"csrf_token": token, "format": "aiid", "severity": "low"},
        files={"file": ("deep.json", DEEP_JSON.encode(), "application/json")},
    )
    assert page.status_code == 422
    assert "deep.json: nests lists or objects more than 64 levels deep" in page.text

    body = '{"format": "aiid", "severity": "low", "records": [' + DEEP_JSON + "]}"
    refused = app_client.post(
        f"/api/v1/systems/{system.id}/incidents/import",
        content=body,
        headers={**as_user(EDITOR), "content-type": "application/json"},
    )
    assert refused.status_code == 422, refused.text
    assert "more than 64 levels deep" in refused.json()["error"]["message"]
    assert refused.headers["content-security-policy"]


# -- control characters ----------------------------------------------------------------


def test_nul_in_a_system_name_is_refused_naming_the_field(app_client, as_user, world):
    body = {"organisation_id": world.city.id, "name": "Chat\x00bot"}
    refused = app_client.post("/api/v1/systems", json=body, headers=as_user(EDITOR))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert {"loc": ["body", "name"], "msg": error["fields"][0]["msg"]} in error["fields"]
    assert "NUL" in error["message"]
    assert "name" in error["message"]

    token = login(app_client, EDITOR)
    page = app_client.post(
        "/systems/new",
        data={**form_for({"name": "Chat\x00bot", "purpose": "bell\x07"}), "csrf_token": token,
              "organisation_id": str(world.city.id)},
        follow_redirects=False,
    )  # fmt: skip
    assert page.status_code == 422
    assert "<strong>name</strong>: Contains a NUL character" in page.text
    assert "<strong>purpose</strong>: Contains a control character (U+0007)" in page.text
    assert world.c.register.list(world[EDITOR]).total == 0


def test_nul_in_nested_json_and_in_a_query_string(app_client, as_user, world, system):
    a = world.c.assessments.start(world[ASSESSOR], system.id, "red-line-screening")
    refused = app_client.patch(
        f"/api/v1/assessments/{a.id}/answers",
        json={"answers": {"use_description": "x", "table": [{"cell": "a\x00"}]}},
        headers=as_user(ASSESSOR),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["fields"][0]["loc"] == [
        "body", "answers", "table", 0, "cell"
    ]  # fmt: skip
    searched = app_client.get("/register", params={"q": "chat\x00bot"})
    assert searched.status_code == 422
    assert "Invalid input in q" in searched.text
    api_search = app_client.get("/api/v1/public/systems", params={"q": "\x00"})
    assert api_search.status_code == 422
    assert api_search.json()["error"]["fields"][0]["loc"] == ["query", "q"]


def test_nul_in_a_reporters_address_never_reaches_the_outbox(app_client, container, published):
    page = app_client.get(f"/register/{published.id}/report")
    sent = app_client.post(
        f"/register/{published.id}/report",
        data={"csrf_token": csrf_from(page.text), "form_token": form_token_of(page.text),
              "kind": "complaint", "category": "decision_error",
              "description": "Stopped.", "contact": "me\x00@example.org"},
    )  # fmt: skip
    assert sent.status_code == 422
    assert "contact" in sent.text
    refused = app_client.post(
        "/api/v1/public/reports",
        json={"system": published.id, "kind": "complaint", "category": "decision_error",
              "description": "Stopped.", "contact": "me\x00@example.org"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["loc"] == ["body", "contact"]
    with container.accounts.uow_factory(readonly=True) as uow:
        assert uow.outbox.recent(True, 100) == []


# -- numbers -------------------------------------------------------------------------


def test_superscript_digits_are_refused_not_a_server_error(app_client, world, published):
    client = TestClient(app_client.app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    assert client.get("/register", params={"organisation": "²"}).status_code == 422
    token = login(client, EDITOR)
    tokens = client.post("/account/tokens", data={"csrf_token": token, "name": "x",
                                                  "expires_days": "²"})  # fmt: skip
    assert tokens.status_code == 422
    assert "whole number of days" in tokens.text
    edit = client.get(f"/systems/{published.id}/edit")
    form = {**form_for(), "csrf_token": token, "revision": "²"}
    assert client.post(f"/systems/{published.id}/edit", data=form).status_code < 500, edit
    report = client.get(f"/register/{published.id}/report")
    forged = client.post(
        f"/register/{published.id}/report",
        data={"csrf_token": csrf_from(report.text), "form_token": "²." + "0" * 32,
              "kind": "complaint", "category": "decision_error", "description": "x"},
    )  # fmt: skip
    assert forged.status_code == 422
    assert "This form is incomplete" in forged.text


@pytest.mark.parametrize(
    "path",
    [
        "/systems/99999999999999999999",
        "/systems/9223372036854775808",
        "/assessments/99999999999999999999",
        "/evidence/1" + "0" * 30,
    ],
)
def test_page_ids_beyond_64_bits_are_not_found(app_client, world, path):  # fmt: skip
    login(app_client, EDITOR)
    page = app_client.get(path)
    assert page.status_code == 404
    assert "There is nothing at this address" in page.text
    assert "text/html" in page.headers["content-type"]


# -- downloads -------------------------------------------------------------------------


def test_evidence_named_in_cyrillic_with_a_control_character_downloads(
    app_client, container, world, system
):
    a = container.assessments.start(world[ASSESSOR], system.id, "red-line-screening")
    f = container.assessments.attach_evidence(world[ASSESSOR], a.id, "отчёт\x01.pdf", PDF)
    login(app_client, ASSESSOR)
    download = app_client.get(f"/evidence/{f.id}")
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-disposition"] == (
        'attachment; filename="______.pdf"; '
        "filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82%01.pdf"
    )


# -- caching and links -----------------------------------------------------------------


def test_signed_in_pages_are_not_stored_by_caches(app_client, world, published):
    public = app_client.get("/register")
    assert "no-store" not in public.headers.get("cache-control", "")
    login(app_client, EDITOR)
    for path in ("/systems", f"/systems/{published.id}", "/account"):
        assert app_client.get(path).headers["cache-control"] == "no-store", path
    assert "no-store" not in app_client.get("/static/ombud.css").headers.get("cache-control", "")


def test_a_forged_host_never_makes_the_links(app_client, container, world, published):
    evil = {"host": "evil.example"}
    base = container.settings.base_url
    receipt = app_client.post(
        "/api/v1/public/reports",
        json={"system": published.id, "kind": "complaint", "category": "decision_error",
              "description": "Stopped.", "contact": "me@example.org"},
        headers=evil,
    )  # fmt: skip
    assert receipt.status_code == 201, receipt.text
    assert receipt.json()["follow_url"].startswith(f"{base}/follow/")
    notice = app_client.get(f"/register/{published.id}/notice?lang=en", headers=evil)
    assert notice.status_code == 200
    assert "evil.example" not in notice.text
    assert f"{base}/register/{published.id}/notice?lang=en" in notice.text  # the snippet
    qr = app_client.get(f"/register/{published.id}/notice.svg?lang=en", headers=evil)
    expected = container.notices.qr_svg(
        published.id, f"{base}/register/{published.id}/notice?lang=en"
    )
    assert qr.text == expected
    with container.accounts.uow_factory(readonly=True) as uow:
        mails = uow.outbox.recent(True, 100)
    assert mails
    assert all("evil.example" not in m.body for m in mails)


# -- bodies and rates --------------------------------------------------------------------


def _chunks(total: int) -> Iterator[bytes]:
    for _ in range(total // 65536 + 1):
        yield b"x" * 65536


def test_a_chunked_body_over_the_limit_is_refused_like_a_declared_one(app_client, published):
    limit = app_client.app.state.container.settings.max_body_bytes
    page = app_client.post(
        f"/register/{published.id}/report",
        content=_chunks(limit + 1),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert page.status_code == 413
    assert "larger than" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    api = app_client.post(
        "/api/v1/public/reports",
        content=_chunks(limit + 1),
        headers={"content-type": "application/json"},
    )
    assert api.status_code == 413
    assert api.json()["error"]["code"] == "too_large"
    assert api.headers["x-content-type-options"] == "nosniff"
    declared = app_client.post(
        "/api/v1/public/reports",
        content=b"x" * (limit + 1),
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413
    assert declared.headers["x-frame-options"] == "DENY"


def test_every_429_says_when_to_retry(app_client, container, published):
    container.settings.public_rate_limit = "1/minute"
    report = {"system": published.id, "kind": "complaint", "category": "decision_error",
              "description": "Stopped."}  # fmt: skip
    assert app_client.post("/api/v1/public/reports", json=report).status_code == 201
    limited = app_client.post("/api/v1/public/reports", json=report)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    form = app_client.get(f"/register/{published.id}/report")
    page = app_client.post(
        f"/register/{published.id}/report",
        data={"csrf_token": csrf_from(form.text), "description": "x"},
    )
    assert page.status_code == 429
    assert 1 <= int(page.headers["retry-after"]) <= 60


# -- an unexpected error on a live server -----------------------------------------------


@pytest.fixture
def live(container: Container) -> Iterator[tuple[FastAPI, int]]:
    app = create_app(container)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="critical"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield app, sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


def test_an_unexpected_error_keeps_the_connection(live, caplog):
    app, port = live

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    api = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")
    api.add_api_route("/boom", boom)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for path in ("/boom", "/api/v1/boom"):
        conn.request("GET", path)
        failed = conn.getresponse()
        body = failed.read().decode()
        assert failed.status == 500
        assert "Something went wrong on our side" in body
        assert "a bug" not in body
        assert "Traceback" not in body
        assert failed.getheader("x-frame-options") == "DENY"
        sock = conn.sock
        assert sock is not None, "the server asked to close the connection"
        conn.request("GET", "/healthz")
        ok = conn.getresponse()
        ok.read()
        assert ok.status == 200
        assert conn.sock is sock  # the same connection served the next request
    conn.close()
    assert len(re.findall("a bug", caplog.text)) >= 1


def test_json_problem_documents_stay_json(app_client, as_user, world):
    refused = app_client.post(
        "/api/v1/systems",
        content=json.dumps({"organisation_id": world.city.id, "name": "x"})[:-1],
        headers={**as_user(EDITOR), "content-type": "application/json"},
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid"


def test_a_forged_csrf_token_in_other_scripts_is_refused(app_client, world):
    login(app_client, EDITOR)
    refused = app_client.post("/systems/new", data={**form_for(), "csrf_token": "²³"})
    assert refused.status_code == 403
    assert "CSRF" in refused.text
