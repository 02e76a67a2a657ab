"""The first rule-effectiveness build, by the scheduled refresh, works within the task budget.

Each refresh counts the recent days and then older days, newest first, until its time is up; the next refresh
goes on. Cut into many runs, with a lead of a day already counted changed between two runs and new leads
arriving, the build ends with the rollups a build in one go gives. Until it ends, the page counts live and
says how many days are left to count.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import count

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse

from leads import services as lead_services
from leads.models import Lead, Stage
from scoring import tasks
from scoring.effectiveness_rollups import mark_days_changed, rebuild_rollups, refresh_rollups, rollup_freshness
from scoring.models import EffectivenessDirtyDay, EffectivenessState, ScoringModel
from scoring.tests.test_effectiveness_rollups import NOW, generated_leads, new_lead, rollup_rows
from scoring.tests.test_effectiveness_rollups import model as model

pytestmark = pytest.mark.django_db

NO_TIME = timedelta(0)  # each refresh counts the recent days and one run of older days, then its time is up


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    """The receivers of stage changes read the clock: it shows NOW."""
    with time_machine.travel(NOW, tick=False):
        yield


def is_built() -> bool:
    return EffectivenessState.objects.filter(rebuilt_at__isnull=False).exists()


def a_lead_a_day(days: int) -> None:
    """A lead on each of the ``days`` days before today, none today: every day of the build has leads."""
    rng = random.Random(5)
    for n in range(days, 0, -1):
        new_lead(rng, NOW - timedelta(days=n))


def left_after_one_run() -> int:
    """The days with leads but the two recent ones and the three older ones counted."""
    return len(set(Lead.objects.values_list("created_at__date", flat=True))) - 2 - 3


@pytest.mark.usefixtures("model")
def test_a_build_cut_into_runs_equals_a_build_in_one_go() -> None:
    leads = generated_leads()
    refresh_rollups(now=NOW, budget=NO_TIME)
    refresh_rollups(now=NOW, budget=NO_TIME)  # the days of the last week are counted now
    counted = next(lead for lead in leads if lead.created_at.date() == (NOW - timedelta(days=4)).date())
    lead_services.change_stage(lead=Lead.objects.get(pk=counted.pk), to_stage=Stage.SQL, now=NOW)
    new_lead(random.Random(3), NOW)
    runs = 2

    while not is_built():
        refresh_rollups(now=NOW, budget=NO_TIME)
        runs += 1
    in_runs = rollup_rows()
    rebuild_rollups(now=NOW)

    assert (in_runs, runs > 5) == (rollup_rows(), True)
    assert not EffectivenessDirtyDay.objects.exists()


@pytest.mark.usefixtures("model")
def test_the_build_ends_while_changes_to_older_leads_keep_marking_days() -> None:
    generated_leads(days=10, per_day=1)
    older = Lead.objects.order_by("created_at").first()
    assert older is not None
    ticks = count()

    def busy_clock() -> datetime:
        mark_days_changed(created=[older.created_at], now=NOW)  # another change committed as the refresh runs
        return NOW + timedelta(seconds=next(ticks))

    refresh_rollups(now=NOW, clock=busy_clock, budget=timedelta(hours=1))
    refresh_rollups(now=NOW, clock=busy_clock, budget=timedelta(hours=1))

    assert is_built() and EffectivenessDirtyDay.objects.exists()


@pytest.mark.usefixtures("model")
def test_the_build_is_not_done_while_days_are_left_to_count() -> None:
    a_lead_a_day(20)

    refresh_rollups(now=NOW, budget=NO_TIME)

    assert (is_built(), rollup_freshness().is_building, rollup_freshness().days_to_count) == (
        False,
        True,
        left_after_one_run(),
    )


@pytest.mark.usefixtures("model")
@override_settings(PIPELINE_TASK_BUDGET=NO_TIME)
def test_the_scheduled_refresh_builds_within_the_pipeline_task_budget() -> None:
    a_lead_a_day(20)

    tasks.refresh_rule_effectiveness()

    assert (is_built(), EffectivenessDirtyDay.objects.values("day").distinct().count()) == (False, left_after_one_run())


def test_the_page_counts_live_and_says_how_many_days_the_build_has_left(
    model: ScoringModel,
    marketer: object,
    client: Client,
) -> None:
    a_lead_a_day(20)
    refresh_rollups(now=NOW, budget=NO_TIME)
    client.force_login(marketer)  # type: ignore[arg-type]

    page = client.get(reverse("scoring_rule_effectiveness"))

    assert page.context["report"].counted_at is None
    assert "the daily rollups are being built" in page.content.decode()
    assert f"{left_after_one_run()} days are still to count" in " ".join(page.content.decode().split())


def test_the_page_says_how_many_older_days_are_still_to_be_counted_again(
    model: ScoringModel,
    marketer: object,
    client: Client,
) -> None:
    a_lead_a_day(20)
    rebuild_rollups(now=NOW)
    EffectivenessDirtyDay.objects.bulk_create(
        EffectivenessDirtyDay(day=(NOW - timedelta(days=n)).date()) for n in (5, 6)
    )
    client.force_login(marketer)  # type: ignore[arg-type]

    page = client.get(reverse("scoring_rule_effectiveness"))

    assert "2 older days with changes since" in " ".join(page.content.decode().split())
