"""The lead page's cheaper reads and printing show what the ORM and the template language showed before them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date

from handoff import selectors, services
from handoff.forms import ContactForm, FollowUpForm
from handoff.models import Assignment, Team
from handoff.tests.factories import MQLFactory, TeamFactory
from handoff.timeline import TimelineEntry, timeline_items_html
from leads.models import ProposedChange
from leads.tests.factories import ConsentFactory
from nurture.models import EnrollmentStatus, ExitReason, Send, SendStatus
from nurture.tests.factories import EnrollmentFactory, TrackFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 3, 2, 10, 0, tzinfo=UTC),  # GMT
        datetime(2026, 7, 1, 8, 5, 30, 120, tzinfo=UTC),  # BST, with seconds and microseconds
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST: the clocks show 01:30 twice that night
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT, the second time
    ],
)
def test_timeline_times_read_as_the_date_filter_prints_them(at: datetime) -> None:
    html = timeline_items_html([TimelineEntry(at, "stage", "Stage")], LONDON)

    local = at.astimezone(LONDON)
    assert f'datetime="{format_date(local, "c")}">{format_date(local, "j M Y, H:i T")}</time>' in html


def test_timeline_items_escape_every_text() -> None:
    entry = TimelineEntry(datetime(2026, 3, 2, tzinfo=UTC), "x<y", "<b>title</b>", "a & b", '"actor"')

    html = timeline_items_html([entry], LONDON)

    assert "<b>" not in html and 'data-kind="x&lt;y"' in html
    assert "&lt;b&gt;title&lt;/b&gt;" in html and "a &amp; b" in html and "&quot;actor&quot;" in html


def test_an_empty_follow_up_form_prints_its_own_initial_due_time_in_the_active_zone(now: datetime) -> None:
    def printed(due_at: datetime, zone: str) -> str:
        with timezone.override(ZoneInfo(zone)):
            return FollowUpForm(now=now, initial={"due_at": due_at}).fields_html()

    eleven = datetime(2026, 3, 3, 11, tzinfo=LONDON)

    assert 'value="2026-03-03T11:00"' in printed(eleven, "Europe/London")
    assert 'value="2026-03-03T12:00"' in printed(eleven + timedelta(hours=1), "Europe/London")
    assert 'value="2026-03-03T06:00"' in printed(eleven, "America/New_York")


def test_an_action_forms_errors_and_values_stay_its_own_though_its_fields_are_shared() -> None:
    refused = ContactForm({"contact-kind": "nope", "contact-note": "First tab"})
    refused_html = refused.fields_html()

    accepted = ContactForm({"contact-kind": "call", "contact-note": "Second tab"})

    assert "Select a valid choice" in refused_html and "First tab" in refused_html
    assert accepted.is_valid() and accepted.cleaned_data["note"] == "Second tab"
    html = accepted.fields_html()
    assert "invalid" not in html and "First tab" not in html and "Second tab" in html
    assert "Select a valid choice" in refused.fields_html()


def test_a_lead_id_no_database_column_can_hold_is_a_404(rep: object) -> None:
    response = client_for(rep).get(reverse("handoff:lead", args=[2**64]))

    assert response.status_code == 404


def test_the_consent_warning_and_the_proposed_changes_ask_no_query_of_their_own(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    ConsentFactory(lead=assignment.lead)
    ProposedChange.objects.create(lead=assignment.lead, field="company_name", value="Acme Two", created_at=now)
    page = selectors.lead_page(user=rep, lead_id=assignment.lead_id)  # type: ignore[arg-type]
    assert page is not None

    with CaptureQueriesContext(connection) as queries:
        usable = page.lead.has_usable_consent
        current_values = [change.current_display for change in page.proposed_changes]
        leads = [assignment.lead for assignment in page.assignments]

    assert len(queries) == 0
    assert usable and current_values == ["Acme"] and leads == [assignment.lead]


def test_the_timeline_shows_a_nurture_enrollments_end_and_each_email_sent_with_its_clicks(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    track = TrackFactory(name="Start-up")
    enrollment = EnrollmentFactory(
        lead=assignment.lead,
        track=track,
        reason="Recycled by sales",
        started_at=now - timedelta(days=9),
        status=EnrollmentStatus.EXITED,
        ended_at=now - timedelta(days=1),
        exit_reason=ExitReason.MQL,
    )
    for position, clicks in ((1, 0), (2, 3)):
        at = now - timedelta(days=8 - position)
        Send.objects.create(
            enrollment=enrollment, track=track, lead=assignment.lead, position=position, subject=f"Step {position}",
            status=SendStatus.SENT, created_at=at, sent_at=at, click_count=clicks,
        )  # fmt: skip
    Send.objects.create(
        enrollment=enrollment, track=track, lead=assignment.lead, position=3, subject="Not sent", created_at=now
    )

    html = client_for(rep).get(reverse("handoff:lead", args=[assignment.lead_id])).content.decode()

    assert "Left nurture track “Start-up”</strong>" in html and "Became an MQL" in html
    assert "Nurture email “Step 2”</strong>" in html and "Start-up, step 2: Sent; 3 click(s)" in html
    assert "Start-up, step 1: Sent</div>" in html
    assert "Not sent" not in html
    titles = [title for title in ("Left nurture", "Step 2", "Step 1", "Enrolled in nurture") if title in html]
    assert sorted(titles, key=html.index) == titles  # newest first


def test_a_manager_working_a_lead_in_a_team_they_do_not_run_gets_the_reps_actions_not_the_managers(
    manager: object, team: Team, now: datetime
) -> None:
    elsewhere = services.assign_lead(lead=MQLFactory(), team=TeamFactory(members=[manager]), now=now)

    html = client_for(manager).get(reverse("handoff:lead", args=[elsewhere.lead_id])).content.decode()

    assert 'data-testid="lead-actions"' in html
    assert 'data-testid="manager-actions"' not in html
