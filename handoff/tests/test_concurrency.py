"""Concurrency on PostgreSQL, with real threads and connections (SQLite serialises writers by itself)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pytest
from django.db import connection

from handoff import services
from handoff.models import Assignment, ContactKind, Team
from handoff.tests.factories import MembershipFactory, MQLFactory, RepFactory, TeamFactory
from leads.models import Lead

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and real concurrency"),
]

THREADS = 12


def run_at_once(work: list[Callable[[], object]]) -> list[object]:
    """Run each callable in its own thread (and database connection), all released together."""
    barrier = threading.Barrier(len(work))
    results: list[object] = [None] * len(work)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work[index]()
        except Exception as error:  # the test looks at what each thread got
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_simultaneous_assignments_never_share_a_turn(now: datetime) -> None:
    team = TeamFactory()
    for username, weight in (("ann", 1), ("bob", 2)):
        MembershipFactory(team=team, user=RepFactory(username=username), capacity_weight=weight)
    leads = Lead.objects.bulk_create(MQLFactory.build() for _ in range(THREADS))

    results = run_at_once([lambda lead=lead: services.assign_lead(lead=lead, team=team, now=now) for lead in leads])

    assert not [result for result in results if isinstance(result, Exception)]
    assert sorted(Assignment.objects.filter(team=team).values_list("turn", flat=True)) == list(range(1, THREADS + 1))
    assert Counter(Assignment.objects.values_list("rep__username", flat=True)) == {"ann": 4, "bob": 8}
    assert Team.objects.get(pk=team.pk).turns_taken == THREADS


def test_the_same_lead_assigned_twice_at_once_is_assigned_once(now: datetime) -> None:
    team = TeamFactory(members=[RepFactory(username="ann"), RepFactory(username="bob")])
    lead = MQLFactory()

    results = run_at_once([lambda: services.assign_lead(lead=lead, team=team, now=now) for _ in range(4)])

    assert sum(isinstance(result, Assignment) for result in results) == 1
    assert all(isinstance(r, (Assignment, services.AlreadyAssignedError)) for r in results)
    assert Assignment.objects.filter(lead=lead).count() == 1


def test_of_two_people_acting_on_a_lead_at_once_exactly_one_succeeds(now: datetime) -> None:
    rep, colleague = RepFactory(username="ann"), RepFactory(username="bob")
    team = TeamFactory(members=[rep, colleague])
    assignment = services.assign_lead(lead=MQLFactory(), team=team, now=now, rep=rep)
    services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.CALL, note="", now=now)
    bant = services.BANT("b", "a", "n", "t")

    results = run_at_once(
        [
            lambda: services.qualify_lead(
                assignment=Assignment.objects.get(pk=assignment.pk), rep=rep, bant=bant, now=now
            ),
            lambda: services.reassign_lead(
                assignment=Assignment.objects.get(pk=assignment.pk), now=now, by=None, reason="Cover", rep=colleague
            ),
        ]
    )

    assert sum(isinstance(result, Assignment) for result in results) == 1
    assert sum(isinstance(result, services.AssignmentConflictError) for result in results) == 1
