"""Helpers for page tests: sign in through the real form, read CSRF tokens from pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD

_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def form_token_of(html: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match, "page has no form token"
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through /login; returns the CSRF token of the signed-in session."""
    page = client.get("/login")
    token = csrf_from(page.text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/systems"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/systems").text)


def form_for(details_overrides: dict[str, str] | None = None) -> dict[str, str]:
    """A complete registration form, as a browser would send it."""
    data = {
        "name": "Parking permit chatbot",
        "sector": "public_administration",
        "purpose": "Answers questions about parking permits.",
        "intended_use": "Residents ask questions on the city website.",
        "deployment_context": "City website, all residents.",
        "legal_basis": "Municipal Services Act, section 4.",
        "decisions": "None; it informs.",
        "decision_role": "informational",
        "effect_on_people": "Residents get information faster.",
        "human_oversight": "The service desk reviews transcripts weekly.",
        "affected_groups": "residents\nvisitors",
        "model_technique": "Retrieval-augmented language model",
        "provider": "City IT",
        "vendor": "",
        "sourcing": "built_in_house",
        "scope_exemption": "none",
        "scope_justification": "",
        "risks_and_safeguards": "Wrong answers; links to official pages.",
        "contact_point": "ai@lindholm.example",
        "contest_information": "Ask the service desk for a person to review.",
        "interaction_notice": "You are chatting with an automated assistant.",
        "ds-0-name": "City FAQ pages",
        "ds-0-role": "reference",
        "ds-0-provenance": "city website",
        "ds-0-description": "",
        "lifecycle_stage": "pre_design",
    }
    data.update(details_overrides or {})
    return data
