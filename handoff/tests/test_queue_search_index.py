"""The inbox's and the team queue's search of assignments reads the lead trigram indexes on PostgreSQL (leads 0029)."""

from __future__ import annotations

import pytest
from django.db import connection

from handoff.models import Assignment
from leads.selectors import lead_search_q
from leads.tests.test_search_indexes import TRIGRAM_INDEXES, indexes_scanned

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's"),
]


def test_a_search_of_assignments_by_their_lead_reads_the_trigram_indexes() -> None:
    assert indexes_scanned(Assignment.objects.filter(lead_search_q("nimbus", prefix="lead__"))) >= TRIGRAM_INDEXES


def test_a_short_term_of_it_reads_none_of_them() -> None:
    assert not TRIGRAM_INDEXES & indexes_scanned(Assignment.objects.filter(lead_search_q("ab", prefix="lead__")))
