"""A rep sorts the inbox by score and by company in a real browser: from the column headers, and on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from pytest_django.live_server_helper import LiveServer

from handoff.models import Assignment
from tests.browser.daily_work import assign_leads, demo_team
from tests.browser.signing_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row_ids(page: Page) -> list[int]:
    return [int(pk) for pk in page.locator("tr[data-row]").evaluate_all("rows => rows.map(r => r.dataset.leadId)")]


def scored(made: list[Assignment], scores: list[int]) -> list[Assignment]:
    for assignment, score in zip(made, scores, strict=True):
        assignment.lead.score = score
        assignment.lead.save(update_fields=["score"])
    return made


def test_rep_sorts_the_inbox_by_score_then_by_company(live_server: LiveServer, page: Page, artifacts: Path) -> None:
    users, team = demo_team()
    made = scored(assign_leads(team, users["rep1"], 5), [40, 95, 12, 67, 81])
    sign_in(page, live_server.url, "rep1", "/inbox/")

    page.click("[data-testid=sort-score]")
    page.wait_for_url("**sort=-score**")
    highest_first = row_ids(page)
    page.screenshot(path=str(artifacts / "inbox-sorted-by-score.png"), full_page=True)
    page.click("[data-testid=sort-score]")
    page.wait_for_url("**sort=score**")
    lowest_first = row_ids(page)
    page.click("[data-testid=sort-company]")
    page.wait_for_url("**sort=company**")
    by_company = row_ids(page)
    page.screenshot(path=str(artifacts / "inbox-sorted-by-company.png"), full_page=True)

    by_score = [a.lead_id for a in sorted(made, key=lambda a: -a.lead.score)]
    assert highest_first == by_score
    assert lowest_first == by_score[::-1]
    assert by_company == [a.lead_id for a in sorted(made, key=lambda a: (a.lead.company_name, a.lead_id))]
    assert page.locator("th[aria-sort=ascending] [data-testid=sort-company]").count() == 1


def test_on_a_phone_the_rep_sorts_from_the_filter_bar(
    live_server: LiveServer, chromium: Browser, artifacts: Path
) -> None:
    users, team = demo_team()
    made = scored(assign_leads(team, users["rep1"], 3), [10, 90, 50])
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "rep1", "/inbox/")

        page.select_option("[data-testid=sort-select]", "-score")
        page.click("[data-testid=inbox-filters] button[type=submit]")
        page.wait_for_url("**sort=-score**")
        page.screenshot(path=str(artifacts / "inbox-phone-sorted-by-score.png"), full_page=True)

        assert row_ids(page) == [a.lead_id for a in sorted(made, key=lambda a: -a.lead.score)]
    finally:
        context.close()
