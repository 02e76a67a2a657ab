"""A data subject request as one operation (``integrations.privacy``): every app's part, in one transaction.

Each app's own step has its tests beside it (``<app>/tests/test_erasure.py``); these check the whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from pytest_django import DjangoCaptureOnCommitCallbacks

from handoff import services as handoff_services
from handoff.models import Assignment, AssignmentOutcome, ContactKind, ContactLog, Team
from handoff.tests.factories import MQLFactory, TeamFactory, route
from integrations import privacy
from integrations.tests.factories import WebhookEndpointFactory
from leads.models import Lead, ProposedChange, ProviderRun, ProviderRunStatus, Stage, Touch
from leads.tests.factories import FIXED_NOW, ActivityFactory, ConsentFactory, SubmissionFactory
from nurture.models import Send
from nurture.tests.factories import EnrollmentFactory
from reports import services as reports_services

pytestmark = pytest.mark.django_db

LATER = FIXED_NOW + timedelta(days=30)
EMAIL, PHONE, FIRST_NAME, LAST_NAME = "augusta.kingsbury@acme.example", "+447700900123", "Augusta", "Kingsbury"
WHO = (EMAIL, PHONE, FIRST_NAME, LAST_NAME)


@pytest.fixture(autouse=True)
def _no_sending(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Deliveries are recorded (their payloads are what the scan reads); sending is test_webhooks.py's.
    monkeypatch.setattr("integrations.services.webhooks.async_task", lambda *args: None)
    yield


@pytest.fixture
def team(rep: User, manager: User) -> Team:
    return TeamFactory(slug="london", name="London", members=[rep], managers=[manager])


@pytest.fixture
def person(
    team: Team,
    rep: User,
    manager: User,
    marketer: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> Lead:
    """A lead whose person is named in every app: captured, assigned, called, qualified, corrected, sent out."""
    WebhookEndpointFactory()  # subscribed to every event, so each app's changes reach a payload
    lead = MQLFactory(
        email=EMAIL, phone=PHONE, first_name=FIRST_NAME, last_name=LAST_NAME, custom_answers={"nickname": FIRST_NAME}
    )
    ConsentFactory(lead=lead, ip_address="203.0.113.9")
    SubmissionFactory(lead=lead, payload={"email": EMAIL, "first_name": FIRST_NAME, "phone": PHONE})
    Touch.objects.create(
        lead=lead, occurred_at=FIXED_NOW, source="google", medium="cpc", channel="paid_search",
        landing_page=f"https://acme.example/?e={EMAIL}",
    )  # fmt: skip
    podcast = Touch.objects.create(
        lead=lead, occurred_at=FIXED_NOW, source="b2b-growth", medium="podcast", channel="other"
    )
    ActivityFactory(lead=lead, metadata={"attendee": f"{FIRST_NAME} {LAST_NAME}"})
    enrollment = EnrollmentFactory(lead=lead, reason=f"Recycled: {FIRST_NAME} asked for June")
    Send.objects.create(
        enrollment=enrollment, track=enrollment.track, lead=lead, position=1, subject=f"{FIRST_NAME}, your report",
        to_email=EMAIL, created_at=FIXED_NOW,
    )  # fmt: skip
    ProposedChange.objects.create(lead=lead, field="last_name", value=f"{LAST_NAME}-Byron", created_at=FIXED_NOW)
    ProviderRun.objects.create(
        lead=lead, provider_name="clearbit", status=ProviderRunStatus.FAILED, error=f"No match: {EMAIL}",
        started_at=FIXED_NOW,
    )  # fmt: skip
    LogEntry.objects.create(
        user=marketer, content_type=ContentType.objects.get_for_model(Lead), object_id=str(lead.pk),
        object_repr=str(lead), action_flag=CHANGE,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assignment = handoff_services.assign_lead(lead=lead, team=team, now=FIXED_NOW)
        note = f"{FIRST_NAME} asked to be called on {PHONE}"
        handoff_services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.CALL, note=note, now=FIXED_NOW)
        bant = handoff_services.BANT(budget=f"{FIRST_NAME} has 50k", authority="Signs", need="Speed", timing="Q3")
        handoff_services.qualify_lead(assignment=assignment, rep=rep, bant=bant, now=FIXED_NOW)
        why = f"{FIRST_NAME} said so"
        reports_services.correct_first_touch(lead=lead, touch=podcast, by=manager, reason=why, now=FIXED_NOW)
    return lead


def columns_naming(values: Iterable[str]) -> list[str]:
    """Each ``table.column`` of the database that holds one of ``values`` in any row (case-insensitive).

    Read with plain SQL from every table, models or not (admin history, django-q, sessions), so nothing the
    ORM or an app forgets is left out.
    """
    needles = [value.casefold() for value in values]
    found: set[str] = set()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [column.name for column in connection.introspection.get_table_description(cursor, table)]
            cursor.execute(f"SELECT {', '.join(map(quote, columns))} FROM {quote(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = _as_text(value).casefold()
                    if any(needle in text for needle in needles):
                        found.add(f"{table}.{column}")
    return sorted(found)


def _as_text(value: object) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode(errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


def erase(lead: Lead, by: User, *, now: datetime = LATER) -> None:
    privacy.erase_lead(lead=lead, now=now, by=by, reason="Erasure request by email, ticket 1234")


# --- Erasure: nothing left anywhere --------------------------------------------------------------------


def test_before_erasure_the_scan_finds_the_person_in_every_app(person: Lead) -> None:
    found = columns_naming(WHO)

    assert set(found) >= {
        "leads_lead.email", "leads_submission.payload", "leads_providerrun.error", "django_admin_log.object_repr",
        "handoff_contactlog.note", "handoff_qualificationnotes.budget", "handoff_notification.subject",
        "reports_firsttouchcorrection.reason", "integrations_webhookdelivery.payload", "nurture_send.to_email",
        "nurture_send.subject", "nurture_enrollment.reason",
    }  # fmt: skip


def test_erase_leaves_the_person_in_no_column_of_any_table(
    person: Lead, marketer: User, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # and the webhooks the erasure itself sends
        erase(person, marketer)

    assert columns_naming(WHO) == []


def test_erasing_twice_changes_nothing_more(person: Lead, marketer: User) -> None:
    erase(person, marketer)
    first = privacy.export_lead_data(lead=person)

    erase(person, marketer, now=LATER + timedelta(days=1))

    assert privacy.export_lead_data(lead=person) == first


# --- Erasure: one transaction, in order ------------------------------------------------------------------


def test_a_step_that_fails_leaves_every_app_unchanged(
    person: Lead, marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(**kwargs: object) -> None:
        raise RuntimeError("reports is down")

    monkeypatch.setattr(reports_services, "erase_lead_personal_data", fail)

    with pytest.raises(RuntimeError):
        erase(person, marketer)

    assert Lead.objects.get(pk=person.pk).erased_at is None
    assert list(ContactLog.objects.values_list("note", flat=True)) == [f"{FIRST_NAME} asked to be called on {PHONE}"]


def test_erase_without_a_reason_changes_nothing_in_any_app(person: Lead, marketer: User) -> None:
    with pytest.raises(ValidationError):
        privacy.erase_lead(lead=person, now=LATER, by=marketer, reason=" ")

    assert ContactLog.objects.get().note != ""


def test_erase_takes_a_lead_out_of_sales_hands_and_out_of_marketing_s_stages(
    team: Team, marketer: User, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assignment = handoff_services.assign_lead(lead=MQLFactory(), team=team, now=FIXED_NOW)

    erase(assignment.lead, marketer)

    assignment.refresh_from_db()
    lead = Lead.objects.get(pk=assignment.lead_id)
    assert (assignment.ended_at, assignment.outcome) == (LATER, AssignmentOutcome.REJECTED)
    assert (lead.owner_id, lead.stage) == (None, Stage.DISQUALIFIED)


def test_an_erased_lead_is_not_assigned_again(
    team: Team, marketer: User, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assignment = handoff_services.assign_lead(lead=MQLFactory(), team=team, now=FIXED_NOW)
    Lead.objects.filter(pk=assignment.lead_id).update(routed_at=FIXED_NOW)
    route(assignment.lead, team=team)

    erase(assignment.lead, marketer, now=FIXED_NOW)

    assert handoff_services.assign_waiting_leads(now=FIXED_NOW + timedelta(days=1)) == 0
    assert Assignment.objects.open().count() == 0


# --- Export ----------------------------------------------------------------------------------------------


def test_export_holds_every_app_s_part(person: Lead) -> None:
    data = privacy.export_lead_data(lead=person)

    assert data["lead"]["email"] == EMAIL
    assert [c["note"] for c in data["handoff"]["assignments"][0]["contacts"]] == [
        f"{FIRST_NAME} asked to be called on {PHONE}"
    ]
    assert data["reports"]["first_touch_corrections"][0]["reason"] == f"{FIRST_NAME} said so"
    assert {d["payload"]["lead"]["email"] for d in data["webhook_deliveries"]} == {EMAIL}


def test_export_is_plain_json_with_iso_8601_times(person: Lead) -> None:
    data = privacy.export_lead_data(lead=person)

    assert json.loads(json.dumps(data)) == data
    assert data["lead"]["created_at"] == "2026-03-02T10:00:00Z"


def test_export_refuses_two_apps_exporting_the_same_part(person: Lead, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports_services, "lead_personal_data", lambda *, lead: {"handoff": {}})

    with pytest.raises(ValueError, match="handoff"):
        privacy.export_lead_data(lead=person)
