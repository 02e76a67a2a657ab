"""The audit trail: old and new values for each audited model, no secrets, the admin pages, and erasure."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff.models import ClosedDate, RoutingRule, TeamHours
from handoff.tests.factories import MembershipFactory, SLAPolicyFactory, TeamFactory
from integrations import audit, privacy
from integrations.tests.factories import ApiKeyFactory, WebhookEndpointFactory
from leads import imports as lead_imports
from leads.models import ImportedLead, ImportEvent, ImportStatus, Lead, LeadImport
from leads.tests.factories import (
    FIXED_NOW,
    CaptureFormFactory,
    ConsentTextFactory,
    FormFieldFactory,
    LeadFactory,
    UserFactory,
)
from scoring.tests.factories import ScoringModelFactory, ScoringRuleFactory

pytestmark = pytest.mark.django_db


def last_change(obj: Model) -> dict[str, Any]:
    entry = (
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk))
        .order_by("-pk")
        .first()
    )
    assert entry is not None, f"no audit entry for {obj!r}"
    return entry.changes_dict


def _routing_rule() -> Model:
    return RoutingRule.objects.create(name="Enterprise EMEA", order=5)


def _closed_date() -> Model:
    return ClosedDate.objects.create(team=TeamFactory(), date=FIXED_NOW.date(), reason="Bank holiday")


def _team_hours() -> Model:
    return TeamHours.objects.create(team=TeamFactory(hours={}), weekday=0, opens_at=time(9), closes_at=time(17))


# (how to make one, the field changed, its new value, the old value as the log records it, the new likewise)
AUDITED: list[tuple[str, Callable[[], Model], str, object, object, object]] = [
    ("scoring model", lambda: ScoringModelFactory(mql_threshold=60), "mql_threshold", 70, "60", "70"),
    ("scoring rule", lambda: ScoringRuleFactory(points=10), "points", 25, "10", "25"),
    ("routing rule", _routing_rule, "order", 9, "5", "9"),
    ("SLA policy", lambda: SLAPolicyFactory(priority=100), "priority", 10, "100", "10"),
    ("team", lambda: TeamFactory(timezone="Europe/London"), "timezone", "Europe/Berlin",
     "Europe/London", "Europe/Berlin"),
    ("team hours", _team_hours, "closes_at", time(18), "17:00:00", "18:00:00"),
    ("closed date", _closed_date, "reason", "Strike", "Bank holiday", "Strike"),
    ("membership", lambda: MembershipFactory(capacity_weight=1), "capacity_weight", 3, "1", "3"),
    ("form", lambda: CaptureFormFactory(headline="Old"), "headline", "New", "Old", "New"),
    ("form field", lambda: FormFieldFactory(label="Job title"), "label", "Role", "Job title", "Role"),
    ("consent text", lambda: ConsentTextFactory(text="You may email me."), "text", "You may call me.",
     "You may email me.", "You may call me."),
    ("API key", lambda: ApiKeyFactory(name="Webinar sync"), "name", "Event app", "Webinar sync", "Event app"),
    ("webhook endpoint", lambda: WebhookEndpointFactory(is_active=True), "is_active", False, "True", "False"),
    ("lead", lambda: LeadFactory(job_title="CTO"), "job_title", "CEO", "CTO", "CEO"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "make", "field", "value", "old", "new"), AUDITED, ids=[row[0] for row in AUDITED])
def test_audit_records_old_and_new_value(
    what: str, make: Callable[[], Model], field: str, value: object, old: object, new: object
) -> None:
    obj = make()

    setattr(obj, field, value)
    obj.save()

    assert [str(v) for v in last_change(obj)[field]] == [old, new]


def test_a_create_entry_names_the_models_own_columns_only() -> None:
    form = CaptureFormFactory(headline="New report")

    entry = LogEntry.objects.get_for_object(form).get(action=LogEntry.Action.CREATE)

    assert entry.changes_dict["headline"] == [None, "New report"]
    assert not {"fields", "submissions", "daily_stats", "consent_texts"} & set(entry.changes_dict)


def test_audit_records_team_managers_added() -> None:
    team = TeamFactory()
    manager = UserFactory(username="mona")

    team.managers.add(manager)

    assert last_change(team)["managers"]["objects"] == ["mona"]


def test_every_audited_model_is_registered() -> None:
    from auditlog.registry import auditlog

    registered = set(auditlog.get_models())

    assert set(audit.audited_models()) <= registered


def test_api_key_hash_is_never_logged() -> None:
    key = ApiKeyFactory()

    key.hashed_key = "0" * 64
    key.save()

    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(key), object_pk=str(key.pk))
    assert entries.exists()
    assert all("hashed_key" not in (entry.changes_dict or {}) for entry in entries)
    assert key.hashed_key not in json.dumps([entry.changes for entry in entries])


def test_webhook_secret_is_never_logged() -> None:
    endpoint = WebhookEndpointFactory(secret="whsec_first")

    endpoint.secret = "whsec_rotated"
    endpoint.save()

    logged = json.dumps(list(LogEntry.objects.values_list("changes", "changes_text", "serialized_data")))
    assert "whsec_first" not in logged
    assert "whsec_rotated" not in logged


def test_lead_creation_and_machine_fields_are_not_audited() -> None:
    lead = LeadFactory()

    lead.score = 80
    lead.pipeline_reason = "score 80"
    lead.save()

    assert not LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(lead)).exists()


def test_admin_change_is_recorded_with_its_actor_and_shown_on_the_history_page(marketer: User, client: Client) -> None:
    key = ApiKeyFactory(name="Webinar sync", created_by=marketer)
    client.force_login(marketer)
    client.post(
        reverse("admin:integrations_apikey_change", args=[key.pk]),
        {"name": "Event app sync", "scope": key.scope, "expires_at": ""},
    )

    page = client.get(reverse("admin:integrations_apikey_history", args=[key.pk]))

    assert page.status_code == 200
    [newest, *_] = page.context["audit_entries"]
    assert newest.entry.actor == marketer
    assert ("Webinar sync", "Event app sync") in [(change.old, change.new) for change in newest.changes]
    assert "Event app sync" in page.content.decode()


def test_audit_list_is_searchable_by_value(marketer: User, client: Client) -> None:
    first = ScoringRuleFactory(name="Seniority at least director")
    other = ScoringRuleFactory(name="Free mail", scoring_model=first.scoring_model)
    other.name = "Free-mail domain"
    other.save()
    client.force_login(marketer)

    page = client.get(reverse("admin:auditlog_logentry_changelist"), {"q": "Free-mail"})

    assert page.status_code == 200
    shown = list(page.context["cl"].result_list)
    assert [entry.object_pk for entry in shown] == [str(other.pk)] * len(shown)
    assert shown


def test_manager_cannot_read_the_audit_list(manager: User, client: Client) -> None:
    client.force_login(manager)

    page = client.get(reverse("admin:auditlog_logentry_changelist"))

    assert page.status_code == 403


def test_erasure_leaves_no_personal_data_in_the_audit_log(marketer: User) -> None:
    lead = LeadFactory(email="ada@acme.example", first_name="Ada", last_name="Lovelace", phone="+44 20 7946 0000")
    lead.job_title = "Chief Analyst"
    lead.phone = "+44 20 7946 0999"
    lead.save()

    privacy.erase_lead(lead=lead, now=FIXED_NOW, by=marketer, reason="Email of 2 March")

    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(lead), object_pk=str(lead.pk))
    logged = json.dumps(
        list(entries.values_list("object_repr", "changes", "changes_text", "serialized_data", "additional_data"))
    )
    assert entries.exists()
    for personal in ("ada@acme.example", "Ada", "Lovelace", "Chief Analyst", "7946"):
        assert personal not in logged


def test_erasure_keeps_which_fields_changed_and_by_whom(marketer: User) -> None:
    lead = LeadFactory(job_title="CTO")
    with set_actor(marketer):
        lead.job_title = "CEO"
        lead.save()

    privacy.erase_lead(lead=lead, now=FIXED_NOW, by=marketer, reason="Email of 2 March")

    first = LogEntry.objects.filter(object_pk=str(lead.pk)).order_by("pk").first()
    assert first is not None
    assert first.changes_dict == {"job_title": [audit.ERASED, audit.ERASED]}
    assert first.actor == marketer
    assert first.object_repr == f"Lead #{lead.pk}"


def test_a_deleted_lead_leaves_no_personal_data_in_the_audit_log(marketer: User) -> None:
    lead = LeadFactory(email="grace@navy.example", first_name="Grace", last_name="Hopper")
    lead_id = lead.pk
    with set_actor(marketer):
        lead.job_title = "Rear Admiral"
        lead.save()
        lead.delete()

    entries = LogEntry.objects.filter(object_pk=str(lead_id), content_type=ContentType.objects.get_for_model(Lead))
    logged = json.dumps(list(entries.values_list("object_repr", "changes", "changes_text", "serialized_data")))
    assert sorted(entries.values_list("action", flat=True)) == [LogEntry.Action.UPDATE, LogEntry.Action.DELETE]
    assert entries.get(action=LogEntry.Action.DELETE).actor == marketer
    for personal in ("grace@navy.example", "Grace", "Hopper", "Rear Admiral"):
        assert personal not in logged


# --- Leads deleted in bulk (undoing an import): the same entries, written per batch --------------------------


def _audited_lead(email: str, marketer: User) -> Lead:
    lead = LeadFactory(email=email, first_name="Grace", last_name="Hopper", company_name="Navy", phone="")
    with set_actor(marketer):
        lead.job_title = "Rear Admiral"
        lead.save()
    return lead


def _entries_of(lead_id: int) -> list[tuple[int, str, dict[str, Any], User | None]]:
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Lead), object_pk=str(lead_id))
    return [(e.action, e.object_repr, e.changes_dict, e.actor) for e in entries.order_by("action")]


def test_leads_deleted_in_bulk_get_the_entries_a_lead_deleted_alone_gets(marketer: User) -> None:
    alone, first, second = (_audited_lead(f"{name}@navy.example", marketer) for name in ("alone", "first", "second"))
    ids = {"alone": alone.pk, "first": first.pk, "second": second.pk}
    with set_actor(marketer):
        alone.delete()
    with audit.lead_deletions_logged_in_bulk(actor=marketer):
        Lead.objects.filter(pk__in=[first.pk, second.pk]).delete()

    logged = {name: _entries_of(lead_id) for name, lead_id in ids.items()}

    for name, lead_id in ids.items():
        shape = [(action, changes, actor) for action, _, changes, actor in logged[name]]
        assert shape == [(action, changes, actor) for action, _, changes, actor in logged["alone"]]
        assert {repr_ for _, repr_, _, _ in logged[name]} == {f"Lead #{lead_id}"}
    assert "Rear Admiral" not in json.dumps([changes for rows in logged.values() for _, _, changes, _ in rows])


def test_leads_deleted_in_bulk_are_logged_in_the_same_few_statements_however_many(marketer: User) -> None:
    def statements_on_the_log(count: int) -> int:
        leads = [_audited_lead(f"p{count}-{i}@navy.example", marketer) for i in range(count)]
        with CaptureQueriesContext(connection) as queries, audit.lead_deletions_logged_in_bulk(actor=marketer):
            Lead.objects.filter(pk__in=[lead.pk for lead in leads]).delete()
        return sum("auditlog_logentry" in query["sql"] for query in queries.captured_queries)

    assert statements_on_the_log(2) == statements_on_the_log(12)


def test_undoing_an_import_logs_each_deleted_lead_with_who_undid_it(marketer: User) -> None:
    event = ImportEvent.objects.create(name="Expo", source="expo", notice="Scans are shared.")
    batch = LeadImport.objects.create(
        event=event, file_name="scans.csv", consent_text="Scans are shared.", status=ImportStatus.DONE,
        created_count=2, started_at=FIXED_NOW,
    )  # fmt: skip
    leads = [_audited_lead(f"scan{i}@navy.example", marketer) for i in range(2)]
    for row, lead in enumerate(leads, start=2):
        ImportedLead.objects.create(batch=batch, lead=lead, is_new=True, row=row)

    lead_imports.start_undo(batch=batch, by=marketer, now=FIXED_NOW)
    lead_imports.run_undo(batch_id=batch.pk, clock=lambda: FIXED_NOW, budget=timedelta(minutes=1))

    deleted = LogEntry.objects.filter(action=LogEntry.Action.DELETE, object_pk__in=[str(lead.pk) for lead in leads])
    assert sorted(deleted.values_list("actor", "object_repr")) == sorted(
        (marketer.pk, f"Lead #{lead.pk}") for lead in leads
    )
