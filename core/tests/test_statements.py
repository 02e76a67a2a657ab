"""A Statement runs its queryset's own SQL with each run's values and gives back what the queryset would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.statements import Statement
from core.tests.threads import connection_outlives_thread
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

_SINCE = Statement(
    lambda since: (
        Lead.objects.filter(created_at__gte=since)
        .order_by("created_at", "pk")
        .values_list("pk", "created_at", "custom_answers", "owner_id")
    ),
    since=datetime,
)


def test_rows_are_the_querysets_rows_converted_as_the_orm_converts_them(rep: User) -> None:
    LeadFactory(created_at=MOMENT, custom_answers={"seats": 40, "tags": ["a"]}, owner=rep)
    LeadFactory(created_at=MOMENT + timedelta(hours=1), custom_answers={}, owner=None)
    query = Lead.objects.filter(created_at__gte=MOMENT).order_by("created_at", "pk")

    rows = _SINCE.rows(since=MOMENT)

    assert rows == list(query.values_list("pk", "created_at", "custom_answers", "owner_id"))
    assert rows[0][1].tzinfo is not None  # aware, as the ORM gives it


def test_each_run_uses_its_own_values() -> None:
    early = LeadFactory(created_at=MOMENT)
    late = LeadFactory(created_at=MOMENT + timedelta(days=2))

    everything = _SINCE.rows(since=MOMENT - timedelta(days=1))
    later_only = _SINCE.rows(since=MOMENT + timedelta(days=1))

    assert [row[0] for row in everything] == [early.pk, late.pk]
    assert [row[0] for row in later_only] == [late.pk]


def test_a_statement_compiles_once_and_runs_one_query_each_time() -> None:
    lead = LeadFactory(email="ada@example.com")
    by_email = Statement(lambda email: Lead.objects.filter(email=email).values_list("pk", flat=True), email=str)
    by_email.rows(email="someone@example.com")

    with CaptureQueriesContext(connection) as queries:
        found = by_email.rows(email="ada@example.com")

    assert found == [lead.pk]
    assert len(queries) == 1


def test_model_querysets_give_instances_with_their_related_rows(rep: User) -> None:
    lead = LeadFactory(owner=rep, custom_answers={"seats": 3})
    with_owner = Statement(lambda pk: Lead.objects.select_related("owner").filter(pk=pk), pk=int)

    found = with_owner.first(pk=lead.pk)

    assert isinstance(found, Lead)
    assert (found.pk, found.email, found.custom_answers, found.created_at) == (
        lead.pk,
        lead.email,
        {"seats": 3},
        Lead.objects.get(pk=lead.pk).created_at,
    )
    with CaptureQueriesContext(connection) as queries:
        assert found.owner is not None and found.owner.username == rep.username
    assert len(queries) == 0
    assert found._state.adding is False and found._state.db == "default"


def test_values_and_named_values_keep_their_names() -> None:
    lead = LeadFactory(first_name="Ada", email="ada@example.com")
    as_dicts = Statement(lambda pk: Lead.objects.filter(pk=pk).values("first_name", "email"), pk=int)
    as_named = Statement(lambda pk: Lead.objects.filter(pk=pk).values_list("first_name", "email", named=True), pk=int)

    assert as_dicts.rows(pk=lead.pk) == [{"first_name": "Ada", "email": "ada@example.com"}]
    named = as_named.first(pk=lead.pk)
    assert named is not None and (named.first_name, named.email) == ("Ada", "ada@example.com")


def test_no_row_gives_none() -> None:
    by_pk = Statement(lambda pk: Lead.objects.filter(pk=pk).values_list("pk"), pk=int)

    assert by_pk.first(pk=987_654) is None


def test_dates_are_values_too() -> None:
    lead = LeadFactory(created_at=MOMENT)
    on_or_after = Statement(
        lambda day: Lead.objects.filter(created_at__date__gte=day).values_list("pk", flat=True), day=date
    )

    assert on_or_after.rows(day=MOMENT.date()) == [lead.pk]
    assert on_or_after.rows(day=MOMENT.date() + timedelta(days=1)) == []


def test_each_shape_compiles_its_own_query() -> None:
    ada = LeadFactory(first_name="Ada", score=10)
    bob = LeadFactory(first_name="Bob", score=20)
    ordered = Statement(
        lambda floor, descending: (
            Lead.objects.filter(score__gte=floor)
            .order_by("-score" if descending else "score")
            .values_list("pk", flat=True)
        ),
        floor=int,
    )

    assert ordered.rows(floor=0, descending=False) == [ada.pk, bob.pk]
    assert ordered.rows(floor=0, descending=True) == [bob.pk, ada.pk]
    assert ordered.rows(floor=15, descending=False) == [bob.pk]


def test_a_lookup_that_rewrites_its_value_is_refused() -> None:
    by_name = Statement(lambda name: Lead.objects.filter(first_name__contains=name).values_list("pk"), name=str)

    with pytest.raises(ImproperlyConfigured, match="a lookup rewrites its value"):
        by_name.rows(name="ada")


def test_a_value_the_query_does_not_use_is_refused() -> None:
    unused = Statement(lambda pk, email: Lead.objects.filter(pk=pk).values_list("pk"), pk=int, email=str)

    with pytest.raises(ImproperlyConfigured, match="'email' is not among the query's parameters"):
        unused.rows(pk=1, email="ada@example.com")


def test_a_constant_equal_to_a_stand_in_stays_a_constant() -> None:
    LeadFactory(score=30_001)
    LeadFactory(score=5)
    # 30,001 is the first int stand-in: the query's own 30,001 must not be taken for the value's place.
    both = Statement(
        lambda floor: Lead.objects.filter(score__gte=floor, score__lte=30_001).values_list("score", flat=True),
        floor=int,
    )

    assert sorted(both.rows(floor=0)) == [5, 30_001]
    assert both.rows(floor=10) == [30_001]


@pytest.mark.django_db(transaction=True)
def test_a_finished_thread_s_connection_is_not_kept_by_its_statements() -> None:
    lead = LeadFactory()
    by_pk = Statement(lambda pk: Lead.objects.filter(pk=pk).values_list("pk", flat=True), pk=int)
    found: list[list[int]] = []

    outlives = connection_outlives_thread(lambda: found.append(by_pk.rows(pk=lead.pk)))

    assert found == [[lead.pk]]
    assert not outlives


def test_a_kind_it_cannot_stand_in_for_is_refused_at_once() -> None:
    with pytest.raises(ImproperlyConfigured, match="'flag'"):
        Statement(lambda flag: Lead.objects.filter(owner__is_active=flag), flag=bool)
