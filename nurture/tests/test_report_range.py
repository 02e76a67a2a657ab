"""The track report counts the enrollments and sends of the leads created in its range, joined to each lead."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Lead
from leads.tests.factories import FIXED_NOW, LeadFactory
from nurture.models import Track
from nurture.selectors import track_report
from nurture.tests.factories import EnrollmentFactory, TrackFactory

pytestmark = pytest.mark.django_db


def _enrolled(track: Track, *, created_on: date) -> None:
    lead = LeadFactory()
    noon = datetime.combine(created_on, time(12), tzinfo=timezone.get_current_timezone())
    Lead.objects.filter(pk=lead.pk).update(created_at=noon)
    EnrollmentFactory(lead=lead, track=track)


def test_the_range_takes_the_leads_created_on_its_first_and_last_day_and_no_other() -> None:
    track = TrackFactory()
    day = timezone.localdate(FIXED_NOW)
    for offset in (-1, 0, 2, 3):
        _enrolled(track, created_on=day + timedelta(days=offset))

    [row] = track_report(created_from=day, created_to=day + timedelta(days=2))

    assert row.enrolled == 2


def test_the_report_asks_for_no_list_of_leads() -> None:
    _enrolled(TrackFactory(), created_on=timezone.localdate(FIXED_NOW))

    with CaptureQueriesContext(connection) as queries:
        track_report(created_from=timezone.localdate(FIXED_NOW), created_to=None)

    assert not [query["sql"] for query in queries if "IN (SELECT" in query["sql"]]
