"""An impact assessment in a real browser: answers autosave, survive a reload, are
submitted, refused sign-off by their author, signed by another approver, and the
PDF report names the system and its level."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.conftest import PASSWORD
from tests.factories import (
    SCREENING_ANSWERS,
    SCREENING_URN,
    complete_details,
    hudera_answers,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="AI systems")).to_be_visible()


def test_fill_reload_submit_refuse_sign_and_download(
    page: Page, live_server: str, world, container
) -> None:
    base = live_server
    assessor = world["city-assessor@example.org"]
    approver = world["city-approver@example.org"]
    system = container.register.create(
        world["city-editor@example.org"],
        world.city.id,
        complete_details("Housing allocation support"),
    )
    screening = container.assessments.start(assessor, system.id, SCREENING_URN)
    container.assessments.save_answers(assessor, screening.id, SCREENING_ANSWERS)
    container.assessments.submit(assessor, screening.id)
    container.assessments.sign(approver, screening.id)

    sign_in(page, base, "city-assessor@example.org")
    page.goto(f"{base}/systems/{system.id}/assessments")
    page.get_by_label("Start an assessment").select_option(
        label="Human rights, democracy and rule of law impact assessment (v1.0)"
    )
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name=re.compile("impact assessment"))).to_be_visible()
    url = page.url
    aid = int(url.rsplit("/", 1)[1])

    # Answer a few questions; HTMX saves each change.
    purpose = page.locator("#in-purpose_and_use")
    purpose.fill("Ranks applicants on the social-housing waiting list for caseworkers.")
    purpose.blur()
    expect(page.locator("#save-status")).to_contain_text("Saved (revision")
    page.locator('select[name="q-rights-0-right"]').select_option("equality_non_discrimination")
    for column, value in (
        ("gravity", "3"),
        ("scope", "3"),
        ("reversibility", "2"),
        ("probability", "3"),
    ):
        cell = page.locator(f'input[name="q-rights-0-{column}"]')
        cell.fill(value)
        cell.blur()
    expect(page.locator("#save-status")).to_contain_text("Level now: high")

    # Reload mid-way: the answers are there.
    page.reload()
    expect(page.locator("#in-purpose_and_use")).to_have_value(
        "Ranks applicants on the social-housing waiting list for caseworkers."
    )
    expect(page.locator('input[name="q-rights-0-probability"]')).to_have_value("3")

    # The remaining answers (the same service the form calls), then submit in the page.
    rest = {k: v for k, v in hudera_answers().items() if k not in ("purpose_and_use", "rights")}
    current = container.assessments.get(assessor, aid).assessment
    container.assessments.save_answers(assessor, aid, rest, current.revision)
    page.reload()
    page.get_by_role("button", name="Save and submit for sign-off").click()
    expect(page.get_by_text("Submitted for sign-off.")).to_be_visible()
    # The author sees no sign-off button: four eyes.
    expect(
        page.get_by_text("An approver who did not answer this assessment signs it off")
    ).to_be_visible()

    # Another approver signs.
    page.context.clear_cookies()
    sign_in(page, base, "city-approver@example.org")
    page.goto(url)
    page.get_by_label("Review date").fill("2027-11-30")
    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text(re.compile("Signed. Content sha256"))).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").click()
    data = Path(download.value.path()).read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Housing allocation support" in text
    assert "high" in text
