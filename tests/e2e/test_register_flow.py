"""The whole loop in a real browser: sign in, register, publish, find it publicly,
see the change in the history and in the ledger."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="AI systems")).to_be_visible()


def test_register_publish_find_and_trace(page: Page, live_server: str, world) -> None:
    base = live_server
    sign_in(page, base, "city-admin@example.org")

    # Register a system through the form.
    page.get_by_role("link", name="Register an AI system").click()
    page.get_by_label("Name (required)").fill("Snow-clearing route planner")
    page.get_by_label("Sector").select_option("transport")
    page.get_by_label("Purpose", exact=True).fill("Plans snow-clearing routes after snowfall.")
    page.get_by_label("Legal basis").fill("Roads Act, section 9.")
    page.get_by_label("Human oversight").fill("The depot manager approves every route plan.")
    page.get_by_label("How to contest a decision").fill("Call the roads desk.")
    page.get_by_label("Contact point").fill("roads@lindholm.example")
    page.get_by_label("Data source 1 name").fill("Street network")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Snow-clearing route planner")).to_be_visible()
    system_url = page.url
    system_id = system_url.rsplit("/", 1)[1]

    # Publish it.
    page.get_by_role("button", name="Publish on the public register").click()
    expect(page.get_by_text("Publication state: published.")).to_be_visible()

    # Edit it: a significant change to the purpose.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Purpose", exact=True).fill(
        "Plans snow-clearing and gritting routes after snowfall."
    )
    page.get_by_label("Note on this change").fill("Gritting added")
    page.get_by_role("button", name="Save revision").click()
    expect(page.get_by_text("Saved a new revision.")).to_be_visible()

    # Find it on the public register, signed out, with search-as-you-type (HTMX).
    public = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    public.goto(f"{base}/register")
    public.get_by_label("Search").press_sequentially("gritting", delay=20)
    result = public.get_by_role("link", name="Snow-clearing route planner")
    expect(result).to_be_visible()
    expect(public).to_have_url(re.compile(r"q=gritting"))
    result.click()
    expect(public.get_by_text("The depot manager approves every route plan.")).to_be_visible()
    public.context.close()

    # The change in the history, field by field, flagged significant.
    page.goto(f"{base}/systems/{system_id}/history")
    expect(page.get_by_role("heading", name=re.compile("Revision 2"))).to_be_visible()
    expect(page.get_by_text("Significant modification").first).to_be_visible()
    new_purpose = "Plans snow-clearing and gritting routes after snowfall."
    expect(page.get_by_role("cell", name=new_purpose)).to_be_visible()

    # ... and in the ledger, with the chain verified.
    page.goto(f"{base}/admin/ledger?entity_type=ai_system&entity_id={system_id}")
    rows = page.locator("table.ledger tbody tr")
    # create, publication, update and the significant modification it made
    expect(rows).to_have_count(4)
    expect(rows.filter(has_text="significant_modification")).to_have_count(1)
    page.goto(f"{base}/admin/ledger?entity_id={system_id}&verify=1")
    expect(page.get_by_text(re.compile(r"Chain verified: \d+ entries intact"))).to_be_visible()


def test_pages_work_without_javascript(browser, live_server: str, world) -> None:
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{live_server}/register")
    page.get_by_label("Search").fill("nothing-matches-this")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No published AI system matches your search.")).to_be_visible()
    context.close()
