"""A rep and a manager at work in a real browser: sort, filter, saved views, bulk actions, shortcuts, live updates,
the timeline, and phones at 390 px."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page
from pytest_django.live_server_helper import LiveServer

from handoff import services
from handoff.models import Assignment, AssignmentOutcome, SavedView
from handoff.tests.factories import MQLFactory
from tests.browser.daily_work import assign_leads, demo_team, horizontal_overflow
from tests.browser.signing_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row_ids(page: Page) -> list[int]:
    return [int(pk) for pk in page.locator("tr[data-row]").evaluate_all("rows => rows.map(r => r.dataset.leadId)")]


def test_rep_sorts_filters_and_saves_a_view_they_reuse(live_server: LiveServer, page: Page, artifacts: Path) -> None:
    users, team = demo_team()
    made = assign_leads(team, users["rep1"], 6)
    sign_in(page, live_server.url, "rep1", "/inbox/")

    page.click("[data-testid=sort-assigned]")  # newest first
    page.wait_for_url("**sort=-assigned**")
    newest_first = row_ids(page)
    page.select_option("#id_campaign", "spring-webinar")
    page.click("[data-testid=inbox-filters] button[type=submit]")
    page.wait_for_url("**campaign=spring-webinar**")
    filtered = row_ids(page)
    page.click("[data-testid=save-view] summary")
    page.fill("#id_view_name", "Spring webinar")
    page.click("[data-testid=save-view] button[type=submit]")
    page.wait_for_selector("text=View “Spring webinar” saved.")
    page.goto(f"{live_server.url}/inbox/")
    page.click("[data-testid=saved-views-toggle]")
    page.click("[data-testid=saved-views] >> text=Spring webinar")
    page.wait_for_url("**campaign=spring-webinar**")
    page.screenshot(path=str(artifacts / "inbox-saved-view.png"), full_page=True)

    assert newest_first == [a.lead_id for a in reversed(made)]
    assert filtered == [a.lead_id for a in reversed(made) if a.lead.first_touch_campaign == "spring-webinar"]
    assert row_ids(page) == filtered
    assert page.locator("[aria-sort=descending]").count() == 1
    assert SavedView.objects.get(owner=users["rep1"]).name == "Spring webinar"


def test_a_search_with_no_match_says_so_not_that_the_inbox_is_empty(live_server: LiveServer, page: Page) -> None:
    users, team = demo_team()
    assign_leads(team, users["rep1"], 2)
    sign_in(page, live_server.url, "rep1", "/inbox/")

    page.fill("#id_q", "no-such-company")
    page.press("#id_q", "Enter")
    page.wait_for_selector("[data-testid=inbox-empty]")

    assert page.get_attribute("[data-testid=inbox-empty]", "data-empty") == "no-match"
    assert "Nothing matches these filters." in page.inner_text("[data-testid=inbox-empty]")


def test_rep_bulk_accepts_ticked_leads_after_a_confirmation(
    live_server: LiveServer, page: Page, artifacts: Path
) -> None:
    users, team = demo_team()
    made = assign_leads(team, users["rep1"], 3)
    sign_in(page, live_server.url, "rep1", "/inbox/")

    page.check("[data-select-all]")
    ticked = page.inner_text("[data-selected-count]")
    page.select_option("#id_bulk_action", "accept")
    page.click("[data-testid=bulk-apply]")
    page.wait_for_selector("[data-testid=bulk-confirm]")
    page.screenshot(path=str(artifacts / "inbox-bulk-confirm.png"), full_page=True)
    states_before = set(Assignment.objects.filter(pk__in=[a.pk for a in made]).values_list("state", flat=True))
    page.click("[data-testid=bulk-confirm-submit]")
    page.wait_for_selector("text=3 leads accepted.")

    assert ticked == "3 ticked"
    assert states_before == {"assigned"}
    assert set(Assignment.objects.filter(pk__in=[a.pk for a in made]).values_list("state", flat=True)) == {"accepted"}


def test_keyboard_moves_through_the_inbox_and_opens_and_accepts_a_lead(live_server: LiveServer, page: Page) -> None:
    users, team = demo_team()
    made = assign_leads(team, users["rep1"], 3)
    sign_in(page, live_server.url, "rep1", "/inbox/")
    ids = row_ids(page)

    page.keyboard.press("?")
    page.wait_for_selector("#shortcuts-help.show")
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('#shortcuts-help') !== null")
    help_text = page.inner_text("[data-testid=shortcuts]")
    page.keyboard.press("Escape")
    page.wait_for_selector("#shortcuts-help", state="hidden")
    page.keyboard.press("/")
    search_focused = page.evaluate("document.activeElement.id")
    page.locator("#id_q").blur()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    focused = page.evaluate("document.querySelector('tr.row-focused').dataset.leadId")
    page.keyboard.press("a")
    page.wait_for_url(f"**/inbox/lead/{ids[1]}/")
    page.go_back()
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"**/inbox/lead/{ids[0]}/")

    assert "Accept the lead" in help_text
    assert search_focused == "id_q"
    assert int(focused) == ids[1]
    accepted = Assignment.objects.get(lead_id=ids[1], ended_at__isnull=True)
    assert accepted.state == "accepted" and {a.lead_id for a in made} == set(ids)


def test_a_new_assignment_appears_without_reload_with_a_count_in_the_title(live_server: LiveServer, page: Page) -> None:
    users, team = demo_team()
    assign_leads(team, users["rep1"], 1)
    page.add_init_script("window.localStorage.setItem('inbox-poll-ms', '500')")
    sign_in(page, live_server.url, "rep1", "/inbox/")
    page.wait_for_function("() => document.title.startsWith('(1)')")
    page.evaluate("window.__notReloaded = true")

    lead = MQLFactory(first_name="Ingrid", last_name="Arrival", company_name="Live Update AS")
    services.assign_lead(lead=lead, team=team, rep=users["rep1"], now=timezone.now())
    page.wait_for_selector(f'tr[data-lead-id="{lead.pk}"]', timeout=10000)

    assert page.evaluate("window.__notReloaded") is True
    page.wait_for_function("() => document.title.startsWith('(2)')")
    assert "A new lead was assigned to you." in page.inner_text("[data-live-status]")


def test_the_lead_page_shows_one_timeline_newest_first_in_the_viewers_zone(
    live_server: LiveServer, page: Page, artifacts: Path
) -> None:
    users, team = demo_team()
    (assignment,) = assign_leads(team, users["rep1"], 1)
    now = timezone.now()
    services.log_contact(assignment=assignment, rep=users["rep1"], kind="call", note="Wants a demo on Tuesday", now=now)
    sign_in(page, live_server.url, "rep1", f"/inbox/lead/{assignment.lead_id}/")

    page.click("text=Change time zone")
    page.select_option("#id_timezone", "America/New_York")
    page.click(".handoff-tz button[type=submit]")
    page.wait_for_selector("text=Times are now shown in America/New_York.")
    page.screenshot(path=str(artifacts / "lead-timeline.png"), full_page=True)
    entries = page.locator("[data-testid=timeline-entry]")
    kinds = entries.evaluate_all("items => items.map(i => i.dataset.kind)")
    times = entries.locator("time").evaluate_all("items => items.map(i => i.getAttribute('datetime'))")
    first_text = entries.first.inner_text()

    assert page.inner_text("[data-testid=timeline-zone]") == "America/New_York"
    assert kinds[0] == "contact" and "Call logged" in first_text and ("EST" in first_text or "EDT" in first_text)
    assert {"contact", "assignment"} <= set(kinds)
    assert times == sorted(times, reverse=True)
    assert page.locator("text=Handoff history").count() == 0


def test_a_rep_sets_a_follow_up_that_shows_in_the_inbox(live_server: LiveServer, page: Page) -> None:
    users, team = demo_team()
    (assignment,) = assign_leads(team, users["rep1"], 1)
    sign_in(page, live_server.url, "rep1", f"/inbox/lead/{assignment.lead_id}/")

    page.fill("#id_followup-note", "Send the pricing deck")
    page.click("input[name=followup-submit]")
    page.wait_for_selector("text=Follow-up set for")
    page.goto(f"{live_server.url}/inbox/")

    assert "Send the pricing deck" in page.inner_text("[data-testid=follow-ups]")


def test_manager_selects_all_and_bulk_rejects_from_the_team_queue(
    live_server: LiveServer, page: Page, artifacts: Path
) -> None:
    users, team = demo_team()
    made = assign_leads(team, users["rep1"], 3)
    sign_in(page, live_server.url, "manager", "/inbox/team/?show=open")

    page.select_option("#id_queue_rep", str(users["rep1"].pk))
    page.click("[data-testid=queue-filters] button[type=submit]")
    page.wait_for_url("**rep=**")
    page.check("[data-testid=select-all]")
    page.select_option("[data-testid=bulk-action]", "reject")
    page.click("[data-testid=bulk-submit]")
    page.wait_for_selector("[data-testid=bulk-confirm]")
    page.fill("#id_reason", "Duplicates of existing customers")
    page.screenshot(path=str(artifacts / "team-queue-bulk-reject.png"), full_page=True)
    page.click("[data-testid=bulk-confirm-submit]")
    page.wait_for_selector("text=3 leads rejected.")

    outcomes = set(Assignment.objects.filter(pk__in=[a.pk for a in made]).values_list("outcome", flat=True))
    assert outcomes == {AssignmentOutcome.REJECTED}


@pytest.mark.parametrize("width", [390])
def test_inbox_and_lead_page_fit_a_phone(
    live_server: LiveServer, chromium: Browser, artifacts: Path, width: int
) -> None:
    users, team = demo_team()
    assign_leads(team, users["rep1"], 3)
    email = "a.very.long.address.for.testing@an-extremely-long-company-domain.example"
    made = assign_leads(team, users["rep1"], 1, email=email, company_name="Internationale Handelsgesellschaft mbH")
    # The longest clock label ("breached … ago in business hours") and the enrichment table, on a lead of its own.
    enriched = MQLFactory(
        industry="Financial services",
        enrichment_sources={
            "industry": {"provider": "Company directory", "confidence": 0.9, "at": "2026-12-04T09:00:00+00:00"}
        },
    )
    breached = services.assign_lead(lead=enriched, team=team, rep=users["rep1"], now=timezone.now() - timedelta(days=9))
    services.flag_sla_events(now=timezone.now())
    context = chromium.new_context(viewport={"width": width, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "rep1", "/inbox/")
        page.screenshot(path=str(artifacts / "phone-inbox.png"), full_page=True)
        inbox_overflow = horizontal_overflow(page)
        card = page.locator("tr[data-row]").first.bounding_box()
        company_shown = page.locator("tr[data-row] td[data-label=Company]").first.is_visible()
        page.goto(f"{live_server.url}/inbox/lead/{made[0].lead_id}/")
        page.screenshot(path=str(artifacts / "phone-lead.png"), full_page=True)
        lead_overflow = horizontal_overflow(page)
        page.goto(f"{live_server.url}/inbox/lead/{breached.lead_id}/")
        page.wait_for_selector("[data-testid=enrichment-provenance]")
        breached_label = page.locator(".sla-clock-lg .sla-clock").inner_text()
        page.screenshot(path=str(artifacts / "phone-lead-breached.png"), full_page=True)
        breached_overflow = horizontal_overflow(page)
        page.goto(f"{live_server.url}/inbox/lead/{made[0].lead_id}/")
        actions_top = page.locator("[data-testid=lead-actions]").bounding_box()
        timeline_top = page.locator("[data-testid=timeline]").bounding_box()
    finally:
        context.close()

    assert inbox_overflow == 0 and lead_overflow == 0
    assert "breached" in breached_label and breached_overflow == 0
    assert card is not None and card["width"] <= width
    assert company_shown
    assert actions_top is not None and timeline_top is not None and actions_top["y"] < timeline_top["y"]


def test_a_phone_cards_assigned_line_ends_a_long_team_name_with_an_ellipsis_inside_the_card(
    live_server: LiveServer, chromium: Browser, artifacts: Path
) -> None:
    users, team = demo_team()
    team.name = "Enterprise — senior account directors, northern Europe"
    team.save(update_fields=["name"])
    assign_leads(team, users["rep1"], 1)
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "rep1", "/inbox/")
        cell = page.locator("tr[data-row] td[data-label=Assigned]").first
        cell.screenshot(path=str(artifacts / "phone-inbox-assigned.png"))
        seen = cell.evaluate(
            """cell => {
                const team = cell.querySelector(".handoff-team"), style = getComputedStyle(team);
                return {cellOverflow: cell.scrollWidth - cell.clientWidth,
                        teamRight: team.getBoundingClientRect().right,
                        cellRight: cell.getBoundingClientRect().right, display: style.display,
                        ellipsis: style.textOverflow, truncated: team.scrollWidth > team.clientWidth};
            }"""
        )
    finally:
        context.close()

    assert seen["cellOverflow"] == 0 and seen["teamRight"] <= seen["cellRight"]
    # An inline box shows no ellipsis: the name must be a block, cut by its own box, to end with one.
    assert (seen["display"], seen["ellipsis"], seen["truncated"]) == ("block", "ellipsis", True)


def test_a_lead_no_longer_yours_shows_the_sites_404_page_with_where_to_go(
    live_server: LiveServer, page: Page, artifacts: Path
) -> None:
    demo_team()
    sign_in(page, live_server.url, "rep1", "/inbox/")

    response = page.goto(f"{live_server.url}/inbox/lead/999999/")
    page.screenshot(path=str(artifacts / "not-found.png"), full_page=True)

    assert response.status == 404  # type: ignore[union-attr]  # None only for a same-page (#anchor) goto
    assert "We could not find that page" in page.inner_text("[data-testid=not-found]")
    assert page.locator("[data-testid=not-found] a[href='/inbox/']").count() == 1
