"""The AI notice in the languages the organisation sets (coe-fc:15.2): French texts
from the message catalogue on the page, the snippet, the PDF and the QR target;
negotiation; complete catalogues; escaping; the setting and who may change it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from pypdf import PdfReader

from ombud.kernel.errors import Forbidden, Invalid
from ombud.register.domain.systems import PublicationState
from tests.factories import complete_details
from tests.web_helpers import csrf_from, login

LOCALE = Path(__file__).parents[2] / "src" / "ombud" / "resources" / "locale"
NAME = "Chatbot <script>alert(1)</script>"


@pytest.fixture
def published(container, world):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details(NAME)
    )
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    container.accounts.set_notice_languages(world["city-admin@example.org"], world.city.id, "en,fr")
    return system


def _pdf_text(content: bytes) -> str:
    return " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split()
    )


def test_the_french_notice(app_client, published):
    page = app_client.get(f"/register/{published.id}/notice?lang=fr")
    assert page.status_code == 200
    assert page.headers["content-language"] == "fr"
    html = page.text
    readable = html.replace("&#39;", "'")
    for phrase in (
        "Vous avez affaire à un système d'intelligence artificielle",
        "Qui en est responsable",
        "Comment contester une décision ou déposer une plainte",
        "Demander une explication d'une décision",
        "Imprimer ou intégrer cet avis",
    ):
        assert phrase in readable, phrase
    assert 'lang="fr"' in html
    assert "You are dealing with an AI system" not in html
    assert re.search(r"Dernière mise à jour.{1,3}: \d{1,2} \w+ 20\d\d", html)  # a French date
    # switcher with hreflang links to the other language
    assert f'href="/register/{published.id}/notice?lang=en" hreflang="en"' in html
    # system-provided text stays as entered, escaped
    assert "Chatbot &lt;script&gt;" in html
    assert "<script>alert(1)" not in html
    # the snippet: French, pointing to the French notice, the name escaped in the HTML
    snippet = html.split('id="snippet"', 1)[1].split("</textarea>", 1)[0]
    assert "Vous avez affaire à un système" in snippet
    assert f"/register/{published.id}/notice?lang=fr" in snippet
    assert "&amp;lt;script&amp;gt;" in snippet  # escaped once in the snippet, once in the page


def test_the_french_pdf_and_qr(app_client, published):
    pdf = app_client.get(f"/register/{published.id}/notice.pdf?lang=fr")
    assert pdf.status_code == 200
    text = _pdf_text(pdf.content)
    assert "Vous avez affaire à un système d'intelligence artificielle" in text
    assert "Convention-cadre du Conseil de l'Europe sur l'intelligence artificielle" in text
    assert "Qui en est responsable" in text
    english = _pdf_text(app_client.get(f"/register/{published.id}/notice.pdf?lang=en").content)
    assert "You are dealing with an AI system" in english
    qr = app_client.get(f"/register/{published.id}/notice.svg?lang=fr")
    assert qr.status_code == 200


def test_accept_language_and_languages_not_offered(app_client, container, world, published):
    fr = app_client.get(
        f"/register/{published.id}/notice", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.5"}
    )
    assert fr.headers["content-language"] == "fr"
    de = app_client.get(f"/register/{published.id}/notice", headers={"Accept-Language": "de"})
    assert de.headers["content-language"] == "en"  # the organisation's default
    refused = app_client.get(f"/register/{published.id}/notice?lang=de")
    assert refused.status_code == 404
    assert "it is in: en, fr" in refused.text
    assert app_client.get(f"/register/{published.id}/notice?lang=x<y").status_code == 422
    container.accounts.set_notice_languages(world["city-admin@example.org"], world.city.id, "en")
    assert app_client.get(f"/register/{published.id}/notice?lang=fr").status_code == 404
    default_fr = container.accounts.set_notice_languages(
        world["city-admin@example.org"], world.city.id, ["fr", "en"]
    )
    assert default_fr.notice_languages == ("fr", "en")
    plain = app_client.get(f"/register/{published.id}/notice")
    assert plain.headers["content-language"] == "fr"


def test_every_catalogue_translates_every_text():
    with (LOCALE / "messages.pot").open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    assert len(wanted) >= 15
    catalogues = sorted(LOCALE.glob("*/LC_MESSAGES/messages.po"))
    assert {p.parts[-3] for p in catalogues} >= {"en", "fr"}
    for path in catalogues:
        with path.open("rb") as fh:
            catalog = read_po(fh)
        have = {m.id: m for m in catalog if m.id}
        assert wanted <= set(have), f"{path}: missing {wanted - set(have)}"
        for msgid in wanted:
            message = have[msgid]
            assert message.string, f"{path}: {msgid!r} is not translated"
            assert "fuzzy" not in message.flags, f"{path}: {msgid!r} is fuzzy"
            for placeholder in re.findall(r"%\(\w+\)s", str(msgid)):
                assert placeholder in str(message.string), f"{path}: {msgid!r} lost {placeholder}"


def test_templates_hold_no_text_missing_from_the_catalogue():
    """Re-extract the texts: a string added to a notice template but not to messages.pot
    (and so to no catalogue) fails here."""
    from babel.messages.extract import extract_from_file
    from jinja2.ext import babel_extract

    root = Path(__file__).parents[2]
    # The templates `make messages` extracts from: babel.cfg's jinja2 sections.
    sections = re.findall(r"^\[jinja2: (.+)\]$", (root / "babel.cfg").read_text(), re.M)
    files = [root / s for s in sections]
    assert len(files) >= 3, sections
    assert all(f.is_file() for f in files), files
    found = set()
    for f in files:
        for _, msg, _, _ in extract_from_file(
            babel_extract, str(f), options={"extensions": "jinja2.ext.i18n"}
        ):
            found.add(msg if isinstance(msg, str) else msg[0])
    with (LOCALE / "messages.pot").open("rb") as fh:
        known = {m.id for m in read_po(fh) if m.id}
    assert found <= known, f"run `make messages` and translate: {found - known}"


def test_setting_the_languages(app_client, container, world):
    admin = world["city-admin@example.org"]
    with pytest.raises(Invalid) as err:
        container.accounts.set_notice_languages(admin, world.city.id, "en,xx")
    assert "'xx' is not an available language (available: en, fr)" in err.value.message or (
        "'xx' is not an available language" in str(err.value.field_messages())
    )
    with pytest.raises(Invalid):
        container.accounts.set_notice_languages(admin, world.city.id, " , ")
    with pytest.raises(Forbidden):
        container.accounts.set_notice_languages(
            world["city-editor@example.org"], world.city.id, "en,fr"
        )
    with pytest.raises(Forbidden):
        container.accounts.set_notice_languages(
            world["agency-admin@example.org"], world.city.id, "en,fr"
        )
    token = login(app_client, "city-admin@example.org")
    page = app_client.get(f"/admin/members?org={world.city.id}")
    assert "Languages of the public AI notices" in page.text
    done = app_client.post(
        f"/admin/members/{world.city.id}/languages",
        data={
            "csrf_token": csrf_from(page.text) or token,
            "languages": ["en", "fr"],
            "default": "fr",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert container.accounts.get_organisation(world.city.slug).notice_languages == ("fr", "en")


def test_notice_languages_in_the_api(api, as_user, world):
    headers = as_user("city-admin@example.org")
    done = api.put(
        f"/organisations/{world.city.slug}/notice-languages",
        json={"languages": ["en", "fr"]},
        headers=headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["notice_languages"] == ["en", "fr"]
    bad = api.put(
        f"/organisations/{world.city.slug}/notice-languages",
        json={"languages": ["klingon"]},
        headers=headers,
    )
    assert bad.status_code == 422
    assert "'klingon' is not an available language" in bad.text
    other = api.put(
        f"/organisations/{world.city.slug}/notice-languages",
        json={"languages": ["en"]},
        headers=as_user("agency-admin@example.org"),
    )
    assert other.status_code == 403
