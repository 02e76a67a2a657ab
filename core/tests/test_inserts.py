"""``insert(obj)`` stores the row ``obj.save(force_insert=True)`` stores, and tells the same signal receivers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, connections, models, transaction
from django.db.models.signals import post_save, pre_save
from django.test import override_settings

from core.inserts import _adapts_aware_datetimes, _passes_none, _plain_types, insert, insert_unless_conflict
from core.tests.threads import connection_outlives_thread
from leads.models import Activity, ActivityKind, Consent, Lead, Submission, Touch
from leads.tests.factories import ConsentFactory, LeadFactory, SubmissionFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 12, 4, 12, 30, 15, 123456, tzinfo=UTC)


@dataclass(frozen=True)
class Related:
    """Rows the objects under test point at, the same for the inserted and the saved one."""

    rep: User
    lead: Lead
    submission: Submission


@pytest.fixture
def related(rep: User) -> Related:
    return Related(rep=rep, lead=LeadFactory(), submission=SubmissionFactory())


def _new_lead(related: Related) -> Lead:
    # JSON of several shapes, aware datetimes, a set and an unset nullable foreign key, the other columns defaults.
    return Lead(
        email="grace@navy.example",
        first_name="Grace",
        country="US",
        custom_answers={"seats": 40, "tags": ["a", "ü"], "nested": {"ok": True, "none": None}},
        field_sources={"email": {"source": "person", "at": MOMENT.isoformat()}},
        owner=related.rep,
        created_at=MOMENT,
        stage_changed_at=MOMENT,
    )


def _new_submission(related: Related) -> Submission:
    return Submission(
        form=related.submission.form,
        consent_text=related.submission.consent_text,
        idempotency_key="nonce-inserted",
        payload={"email": "grace@navy.example", "seats": 40, "tags": ["a"], "opt_in": True},
        attribution={"utm_source": "newsletter"},
        ip_address="2001:DB8:0:0::1",
        user_agent="Mozilla/5.0",
        rendered_at=MOMENT,
        submitted_at=MOMENT,
        lead=related.lead,
    )


def _new_consent(related: Related) -> Consent:
    return Consent(
        lead=related.lead,
        legal_basis="opt_in",
        text="You may email me.",
        source="form",
        given_at=MOMENT,
        ip_address="203.0.113.9",
    )


def _new_touch(related: Related) -> Touch:
    return Touch(lead=related.lead, occurred_at=MOMENT, source="newsletter", medium="email", is_meaningful=True)


def _new_activity(related: Related) -> Activity:
    metadata = {"form": "white-paper", "submission": 7, "list": [1, "two"]}
    return Activity(lead=related.lead, kind=ActivityKind.FORM_SUBMITTED, occurred_at=MOMENT, metadata=metadata)


BUILDERS: list[Callable[[Related], models.Model]] = [
    _new_lead,
    _new_submission,
    _new_consent,
    _new_touch,
    _new_activity,
]


def _stored_row(obj: models.Model) -> dict[str, Any]:
    """Every column of the object's row as the database gives it back, but the primary key."""
    row = type(obj)._default_manager.filter(pk=obj.pk).values().get()
    del row["id"]
    return row


@time_machine.travel(MOMENT, tick=False)
@pytest.mark.parametrize("build", BUILDERS, ids=lambda build: build.__name__)
def test_insert_stores_every_column_as_save_does(build: Callable[[Related], models.Model], related: Related) -> None:
    inserted = insert(build(related))
    by_insert = _stored_row(inserted)
    type(inserted)._default_manager.filter(pk=inserted.pk).delete()  # its unique values are free again

    saved = build(related)
    saved.save(force_insert=True)  # at the same instant: default and auto_now times are equal

    assert by_insert == _stored_row(saved)


def test_insert_gives_the_object_its_primary_key_and_stored_state(related: Related) -> None:
    lead = _new_lead(related)

    insert(lead)

    assert lead.pk == Lead.objects.get(email="grace@navy.example").pk
    assert (lead._state.adding, lead._state.db) == (False, "default")


def test_insert_sets_auto_now_fields_on_the_object_and_the_row(related: Related) -> None:
    lead = _new_lead(related)

    insert(lead)

    assert lead.updated_at is not None
    assert Lead.objects.get(pk=lead.pk).updated_at == lead.updated_at


@pytest.fixture
def heard() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    calls: list[tuple[str, dict[str, Any]]] = []

    def pre(**kwargs: Any) -> None:
        calls.append(("pre_save", {k: v for k, v in kwargs.items() if k != "signal"}))

    def post(**kwargs: Any) -> None:
        calls.append(("post_save", {k: v for k, v in kwargs.items() if k != "signal"}))

    pre_save.connect(pre, sender=Touch, dispatch_uid="test_inserts.pre")
    post_save.connect(post, sender=Touch, dispatch_uid="test_inserts.post")
    yield calls
    pre_save.disconnect(sender=Touch, dispatch_uid="test_inserts.pre")
    post_save.disconnect(sender=Touch, dispatch_uid="test_inserts.post")


def test_insert_sends_pre_save_and_post_save_as_save_does(
    related: Related, heard: list[tuple[str, dict[str, Any]]]
) -> None:
    saved = _new_touch(related)
    saved.save(force_insert=True)
    by_save = [(name, {**kwargs, "instance": None}) for name, kwargs in heard]
    heard.clear()
    inserted = _new_touch(related)

    insert(inserted)

    assert [kwargs.pop("instance") for _, kwargs in heard] == [inserted, inserted]
    assert [(name, {**kwargs, "instance": None}) for name, kwargs in heard] == by_save


def test_insert_refuses_an_object_already_stored() -> None:
    consent = ConsentFactory()

    with pytest.raises(ValueError, match="new objects only"):
        insert(consent)


def test_insert_refuses_an_unsaved_related_object() -> None:
    touch = Touch(lead=Lead(email="unsaved@acme.example"), occurred_at=MOMENT)

    with pytest.raises(ValueError, match="unsaved related object"):
        insert(touch)


def test_a_failed_insert_marks_the_transaction_for_rollback(related: Related) -> None:
    LeadFactory(email="grace@navy.example")

    with transaction.atomic():
        with pytest.raises(IntegrityError):
            insert(_new_lead(related))
        is_marked = transaction.get_rollback()  # leaving the block then rolls back to its savepoint

    assert is_marked


class _ShoutedField(models.CharField):
    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(value).upper()


def test_insert_passes_on_unchanged_only_the_values_a_field_stores_unchanged() -> None:
    assert _plain_types(models.CharField()) == {str, type(None)}
    assert _plain_types(models.EmailField()) == {str, type(None)}
    assert _plain_types(models.TextField()) == {str, type(None)}
    assert _plain_types(models.BooleanField()) == {bool}
    # A field that changes a value on its way to the database, or stores it in another form somewhere, goes
    # through its own methods.
    assert _plain_types(_ShoutedField()) == set()
    assert _plain_types(models.IntegerField()) == set()
    assert _plain_types(models.DateTimeField(auto_now=True)) == set()
    assert _plain_types(models.GenericIPAddressField()) == set()
    assert _plain_types(models.JSONField()) == set()


class _DayStartField(models.DateTimeField):
    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return value.replace(hour=0) if value is not None else None


def test_insert_passes_on_none_where_the_field_s_own_methods_store_none() -> None:
    assert _passes_none(models.DateTimeField(null=True), connection)
    assert _passes_none(models.IntegerField(null=True), connection)
    assert _passes_none(models.ForeignKey(User, null=True, on_delete=models.CASCADE), connection)
    # A time set on save is not the None the object holds.
    assert not _passes_none(models.DateTimeField(auto_now=True, null=True), connection)


def test_insert_hands_an_aware_datetime_to_the_database_s_adapter_only_for_a_stock_datetime_field() -> None:
    assert _adapts_aware_datetimes(models.DateTimeField())
    assert not _adapts_aware_datetimes(models.DateTimeField(auto_now_add=True))
    assert not _adapts_aware_datetimes(_DayStartField())
    assert not _adapts_aware_datetimes(models.DateField())


def test_a_field_that_changes_a_datetime_on_its_way_to_the_database_still_changes_it() -> None:
    # Touch.occurred_at as a field whose own method moves the time: insert() must go through it.
    touch = Touch(lead=LeadFactory(), occurred_at=MOMENT)
    field = Touch._meta.get_field("occurred_at")
    original = type(field)
    field.__class__ = _DayStartField
    try:
        vars(connections["default"]).pop("_core_inserts", None)
        insert(touch)
    finally:
        field.__class__ = original
        vars(connections["default"]).pop("_core_inserts", None)

    stored = Touch.objects.values_list("occurred_at", flat=True).get(pk=touch.pk)
    assert stored == MOMENT.replace(hour=0)


@pytest.mark.django_db(transaction=True)
def test_a_finished_thread_s_connection_is_not_kept_by_its_inserts() -> None:
    lead = LeadFactory()

    def request() -> None:
        insert(Touch(lead=lead, occurred_at=MOMENT))

    outlives = connection_outlives_thread(request)

    assert not outlives


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite's OR IGNORE would drop other broken rows too")
def test_insert_unless_conflict_stores_nothing_and_raises_nothing_when_the_unique_value_is_taken() -> None:
    LeadFactory(email="taken@acme.example")
    heard: list[object] = []
    post_save.connect(heard.append, sender=Lead, dispatch_uid="test-unless-conflict")
    lead = Lead(email="taken@acme.example", created_at=MOMENT, stage_changed_at=MOMENT)
    try:
        with transaction.atomic():
            stored = insert_unless_conflict(lead, unique_field="email")
            still_usable = Lead.objects.filter(email="taken@acme.example").count()
    finally:
        post_save.disconnect(dispatch_uid="test-unless-conflict", sender=Lead)

    assert (stored, lead.pk, heard, still_usable) == (False, None, [], 1)


def test_insert_unless_conflict_stores_a_new_row_as_insert_does() -> None:
    lead = Lead(email="new@acme.example", created_at=MOMENT, stage_changed_at=MOMENT)

    assert insert_unless_conflict(lead, unique_field="email") is True
    assert Lead.objects.get(pk=lead.pk).email == "new@acme.example"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_insert_unless_conflict_on_sqlite_is_a_plain_insert() -> None:
    LeadFactory(email="taken@acme.example")

    with transaction.atomic(), pytest.raises(IntegrityError):
        insert_unless_conflict(
            Lead(email="taken@acme.example", created_at=MOMENT, stage_changed_at=MOMENT), unique_field="email"
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the conflict clause is PostgreSQL's")
def test_insert_unless_conflict_still_raises_a_conflict_on_another_unique_column() -> None:
    existing = LeadFactory()
    with connection.cursor() as cursor:  # the id sequence behind the table, as after a careless restore
        cursor.execute("SELECT setval(pg_get_serial_sequence('leads_lead', 'id'), %s, false)", [existing.pk])

    with transaction.atomic(), pytest.raises(IntegrityError, match="leads_lead_pkey"):
        insert_unless_conflict(
            Lead(email="new@acme.example", created_at=MOMENT, stage_changed_at=MOMENT), unique_field="email"
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the conflict clause is PostgreSQL's")
def test_insert_unless_conflict_refuses_a_column_that_is_not_unique() -> None:
    with pytest.raises(ImproperlyConfigured, match="not unique"):
        insert_unless_conflict(Touch(lead=LeadFactory(), occurred_at=MOMENT), unique_field="source")


@override_settings(TIME_ZONE="Asia/Kolkata")
@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
def test_insert_stores_a_naive_datetime_as_save_does(related: Related) -> None:
    # A naive time is read in the site's time zone (with a warning), not handed to the database as it is.
    naive = MOMENT.replace(tzinfo=None)
    inserted = insert(Touch(lead=related.lead, occurred_at=naive))
    saved = Touch(lead=related.lead, occurred_at=naive)
    saved.save(force_insert=True)

    assert _stored_row(inserted)["occurred_at"] == _stored_row(saved)["occurred_at"] != MOMENT


class _NoneAsEpochField(models.DateTimeField):
    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        return super().get_db_prep_save(MOMENT if value is None else value, connection)


def test_insert_passes_on_none_only_where_the_field_gives_none() -> None:
    assert not _passes_none(_NoneAsEpochField(null=True), connection)
