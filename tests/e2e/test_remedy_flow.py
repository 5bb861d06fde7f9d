"""A member of the public opens a system's notice, files a complaint and gets a
tracking code; a handler triages and decides it; the person sees the outcome."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ombud.register.domain.systems import PublicationState
from tests.conftest import PASSWORD
from tests.factories import complete_details

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_complaint_from_notice_to_outcome(page: Page, live_server: str, world, container) -> None:
    base = live_server
    system = container.register.create(
        world["city-editor@example.org"],
        world.city.id,
        complete_details("Parking permit assistant"),
    )
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )

    # The public: notice -> complaint form -> tracking code and follow link.
    page.goto(f"{base}/register/{system.id}")
    page.get_by_role("link", name="AI notice").click()
    expect(page.get_by_role("heading", name="You are dealing with an AI system")).to_be_visible()
    page.get_by_role("link", name="Send a complaint").click()
    page.get_by_label("Complain about a decision that affects me").check()
    page.get_by_label("What is it about?").select_option("decision_error")
    page.get_by_label("What happened? (required)").fill(
        "My permit was refused because the assistant read my address wrongly."
    )
    page.get_by_role("button", name="Send").click()
    code = page.locator("#tracking-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{5}", code)
    follow = page.locator("#follow-link").get_attribute("href")
    assert follow

    # The handler: triage and decide.
    handler = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    handler.goto(f"{base}/login")
    handler.get_by_label("E-mail address").fill("city-editor@example.org")
    handler.get_by_label("Password").fill(PASSWORD)
    handler.get_by_role("button", name="Sign in").click()
    handler.goto(f"{base}/cases")
    handler.get_by_role("link", name=code).click()
    handler.get_by_label("Move to").select_option("under_review")
    handler.get_by_role("button", name="Move").click()
    expect(handler.get_by_text("Case moved to under_review.")).to_be_visible()
    handler.get_by_label("Move to").select_option("decided")
    handler.get_by_label(re.compile("Reasoned outcome")).fill(
        "The address was misread; your permit is granted from today."
    )
    handler.get_by_role("button", name="Move").click()
    expect(handler.get_by_text("Case moved to decided.")).to_be_visible()
    handler.context.close()

    # The person sees the outcome with the code and key.
    page.goto(f"{base}{follow}")
    expect(page.locator("#case-state")).to_have_text("decided")
    expect(page.locator("#outcome")).to_have_text(
        "The address was misread; your permit is granted from today."
    )
