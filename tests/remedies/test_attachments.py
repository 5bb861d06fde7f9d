"""Files the public attaches to reports, and spam resistance without third parties."""

from __future__ import annotations

import base64
import time

import pytest
from fastapi.testclient import TestClient

from ombud.app import create_app
from ombud.kernel.web.security import form_token
from ombud.register.domain.systems import PublicationState
from tests.conftest import make_settings
from tests.factories import complete_details
from tests.web_helpers import csrf_from, form_token_of, login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 64


@pytest.fixture
def published(container, world):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Benefit chatbot")
    )
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    return system


def _form(client: TestClient, system_id: int) -> dict[str, str]:
    page = client.get(f"/register/{system_id}/report")
    return {
        "csrf_token": csrf_from(page.text),
        "form_token": form_token_of(page.text),
        "kind": "complaint",
        "category": "decision_error",
        "description": "My benefit was stopped.",
    }


def _follow_link(html: str) -> str:
    return html.split('id="follow-link" href="', 1)[1].split('"', 1)[0]


def test_files_are_kept_and_handlers_download_them(app_client, container, world, published):
    files = [
        ("attachments", ("letter.pdf", PDF, "application/pdf")),
        ("attachments", ("..\\..\\etc/<b>screen.png", PNG, "image/png")),
        ("attachments", ("note.txt", "Zeugnis: ü".encode(), "text/plain")),
    ]
    sent = app_client.post(
        f"/register/{published.id}/report", data=_form(app_client, published.id), files=files
    )
    assert sent.status_code == 201, sent.text
    follow = _follow_link(sent.text)
    page = app_client.get(follow)
    assert "letter.pdf" in page.text
    assert "&lt;b&gt;screen.png" in page.text  # the path is gone, the name escaped
    assert "<b>screen" not in page.text
    status = app_client.get(follow, headers={"Accept": "application/json"}).json()
    assert [a["name"] for a in status["attachments"]] == [
        "letter.pdf",
        "<b>screen.png",
        "note.txt",
    ]
    case = container.remedies.cases(world["city-editor@example.org"]).items[0]
    view = container.remedies.get(world["city-editor@example.org"], case.id)
    assert [a.content_type for a in view.attachments] == [
        "application/pdf",
        "image/png",
        "text/plain",
    ]
    login(app_client, "city-editor@example.org")
    handler_page = app_client.get(f"/cases/{case.id}").text
    assert "&lt;b&gt;screen.png" in handler_page
    first = view.attachments[0]
    got = app_client.get(f"/cases/{case.id}/attachments/{first.id}")
    assert got.status_code == 200
    assert got.content == PDF
    assert got.headers["content-disposition"].startswith('attachment; filename="letter.pdf"')
    assert got.headers["x-content-type-options"] == "nosniff"
    text = app_client.get(f"/cases/{case.id}/attachments/{view.attachments[2].id}")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert "filename*=UTF-8''note.txt" in text.headers["content-disposition"]


def test_other_organisations_and_anonymous_users_cannot_download(
    app_client, container, world, published
):
    app_client.post(
        f"/register/{published.id}/report",
        data=_form(app_client, published.id),
        files=[("attachments", ("shot.png", PNG, "image/png"))],
    )
    case = container.remedies.cases(world["city-editor@example.org"]).items[0]
    att = container.remedies.get(world["city-editor@example.org"], case.id).attachments[0]
    url = f"/cases/{case.id}/attachments/{att.id}"
    anonymous = app_client.get(url, follow_redirects=False)
    assert anonymous.status_code in (303, 401)
    assert PNG not in anonymous.content
    login(app_client, "agency-admin@example.org")
    assert app_client.get(url).status_code == 404
    login(app_client, "city-viewer@example.org")  # a viewer does not handle cases
    assert app_client.get(url).status_code == 404
    # the tracking code without the key reveals nothing, files included
    wrong = app_client.get(
        f"/follow/{case.tracking_code}/wrong-key", headers={"Accept": "application/json"}
    )
    assert wrong.status_code == 404
    assert "shot.png" not in wrong.text


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("screenshot.png", EXE)], "screenshot.png is not a PNG file"),
        ([("setup.exe", EXE)], "setup.exe: only JPG, PDF, PNG or TXT files are accepted"),
        ([("scan.pdf", b"%PDF-" + b"0" * 2_100_000)], "scan.pdf is 2.1 MB; the limit is 2.0 MB"),
        ([("a.png", PNG)] * 4, "At most 3 files at a time; you chose 4"),
        ([("empty.txt", b"")], "empty.txt is empty"),
        ([("bin.txt", b"abc\x00def")], "bin.txt is not a text file"),
    ],
)
def test_refused_files_say_what_and_which_and_keep_the_text(
    app_client, container, world, published, files, message
):
    data = _form(app_client, published.id)
    data["description"] = "Kept <i>as typed</i>"
    refused = app_client.post(
        f"/register/{published.id}/report",
        data=data,
        files=[("attachments", (name, content, "image/png")) for name, content in files],
    )
    assert refused.status_code == 422
    assert message in refused.text
    assert "Please choose the files again" in refused.text
    assert "Kept &lt;i&gt;as typed&lt;/i&gt;" in refused.text
    assert container.remedies.cases(world["city-editor@example.org"]).total == 0


def test_a_large_body_is_cut_off_early(app_client, published):
    data = _form(app_client, published.id)
    huge = b"%PDF-" + b"0" * 20_000_000
    refused = app_client.post(
        f"/register/{published.id}/report",
        data=data,
        files=[("attachments", ("big.pdf", huge, "application/pdf"))],
    )
    assert refused.status_code == 413
    assert "larger than" in refused.text


def test_adding_files_later_with_the_key_and_the_case_limit(app_client, container, published):
    sent = app_client.post(f"/register/{published.id}/report", data=_form(app_client, published.id))
    follow = _follow_link(sent.text)
    page = app_client.get(follow)
    token = csrf_from(page.text)
    for n in range(3):
        added = app_client.post(
            follow,
            data={"csrf_token": token, "text": ""},
            files=[("attachments", (f"p{n}{i}.png", PNG, "image/png")) for i in range(3)],
            follow_redirects=False,
        )
        assert added.status_code == 303, added.text
    over = app_client.post(
        follow,
        data={"csrf_token": token, "text": "one more <script>x</script>"},
        files=[("attachments", ("p.png", PNG, "image/png"))] * 2,
    )
    assert over.status_code == 422
    assert "A case holds at most 10 files; 1 more can be added" in over.text
    assert "one more &lt;script&gt;" in over.text
    status = app_client.get(follow, headers={"Accept": "application/json"}).json()
    assert len(status["attachments"]) == 9


def test_api_attachments_in_base64(app_client, container, world, published):
    body = {
        "system": published.id,
        "kind": "incident",
        "category": "deepfake",
        "description": "A fake video of me.",
        "attachments": [
            {
                "name": "frame.png",
                "content_type": "image/png",
                "data_base64": base64.b64encode(PNG).decode(),
            }
        ],
    }
    created = app_client.post("/api/v1/public/reports", json=body)
    assert created.status_code == 201, created.text
    case = container.remedies.cases(world["city-editor@example.org"]).items[0]
    view = container.remedies.get(world["city-editor@example.org"], case.id)
    assert [a.name for a in view.attachments] == ["frame.png"]
    bad = {**body, "attachments": [{"name": "x.png", "data_base64": "not base64!"}]}
    refused = app_client.post("/api/v1/public/reports", json=bad)
    assert refused.status_code == 422
    assert "attachments[0] (x.png): data_base64 is not valid base64" in refused.text
    wrong_type = {
        **body,
        "attachments": [{"name": "x.png", "data_base64": base64.b64encode(EXE).decode()}],
    }
    refused = app_client.post("/api/v1/public/reports", json=wrong_type)
    assert refused.status_code == 422
    assert "x.png is not a PNG file" in refused.text


def test_honeypot_and_form_token(app_client, container, world, published):
    data = _form(app_client, published.id)
    assert (
        app_client.post(
            f"/register/{published.id}/report", data={**data, "website": "http://spam"}
        ).status_code
        == 422
    )
    missing = app_client.post(f"/register/{published.id}/report", data={**data, "form_token": ""})
    assert missing.status_code == 422
    assert "This form is incomplete" in missing.text
    forged = app_client.post(
        f"/register/{published.id}/report",
        data={**data, "form_token": data["form_token"].split(".")[0] + ".deadbeef"},
    )
    assert forged.status_code == 422
    secret = container.settings.resolved_secret_key()
    stale = app_client.post(
        f"/register/{published.id}/report",
        data={**data, "form_token": form_token(secret, time.time() - 2 * 86400)},
    )
    assert "more than a day ago" in stale.text
    assert container.remedies.cases(world["city-editor@example.org"]).total == 0


def test_the_default_refuses_a_form_sent_too_fast(container, published, database_url, tmp_path):
    settings = make_settings(database_url, tmp_path, public_min_fill_seconds=2.0)
    container.settings = settings
    with TestClient(create_app(container), base_url="http://127.0.0.1") as client:
        data = _form(client, published.id)
        fast = client.post(f"/register/{published.id}/report", data=data)
        assert fast.status_code == 422
        assert "sent very quickly" in fast.text
        assert (
            'value="My benefit was stopped."' in fast.text or "My benefit was stopped." in fast.text
        )
