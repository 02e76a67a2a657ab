"""The rule-effectiveness rollups kept current by the writes equal a from-scratch computation.

Generated leads over six weeks, scored by the scoring service on the day they were created, some moved on to
SQL; rollups built. Then the changes the app makes to older and new leads through its services: a lead
rescored twice in one day (its facts changed in between), a lead moved to SQL, an erased lead, a deleted lead
(an import undone), a rule's points changed and every lead rescored, leads created and scored today. After one
refresh, the rollup tables equal a rebuild from scratch, and the page's numbers read from them equal the same
numbers counted live from the leads, for several periods. (A changed threshold has a test of its own: it
recounts every day, which would hide a missing mark here.)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from leads import services as lead_services
from leads.models import Lead, Stage
from leads.tests.factories import LeadFactory
from scoring import effectiveness, services
from scoring.effectiveness_rollups import DAYS_PER_REFRESH, rebuild_rollups, refresh_rollups
from scoring.models import (
    EffectivenessDay,
    EffectivenessDirtyDay,
    EffectivenessState,
    RuleDayRollup,
    ScoringModel,
    ScoringRule,
)
from scoring.services import lead_scoring
from scoring.tests.factories import ScoringModelFactory, ScoringRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    """The receivers of stage changes read the clock: it shows NOW, the day the changes below happen."""
    with time_machine.travel(NOW, tick=False):
        yield


NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
INDUSTRIES = ("Software", "Fintech", "Retail")
COUNTRIES = ("GB", "FR", "DE")
SENIORITIES = ("c_level", "manager", "")


@pytest.fixture
def model() -> ScoringModel:
    """The active model: MQL at 50; rules on industry (+30), country (+20), seniority (+15)."""
    model = ScoringModelFactory(mql_threshold=50, nurture_threshold=10, baseline_fields=[])
    for name, field, values, points in (
        ("ICP industry", "industry", ["Software", "Fintech"], 30),
        ("Home market", "country", ["GB"], 20),
        ("Decision maker", "seniority", ["c_level"], 15),
    ):
        ScoringRuleFactory(scoring_model=model, name=name, points=points, params={"field": field, "values": values})
    return model


def new_lead(rng: random.Random, created_at: datetime) -> Lead:
    """A generated lead, scored by the scoring service an hour after it was created (as the pipeline does)."""
    lead = LeadFactory(
        industry=rng.choice(INDUSTRIES),
        country=rng.choice(COUNTRIES),
        seniority=rng.choice(SENIORITIES),
        created_at=created_at,
        stage_changed_at=created_at,
    )
    services.score_lead(lead_id=lead.pk, now=created_at + timedelta(hours=1))
    return Lead.objects.get(pk=lead.pk)


def generated_leads(days: int = 42, per_day: int = 4, seed: int = 17) -> list[Lead]:
    """``per_day`` leads on each of the ``days`` days before NOW; a third of the MQLs moved on to SQL."""
    rng = random.Random(seed)
    leads = []
    for n in range(days, 0, -1):
        for _ in range(per_day):
            created_at = NOW - timedelta(days=n, hours=rng.randint(0, 20))
            lead = new_lead(rng, created_at)
            if lead.stage == Stage.MQL and rng.random() < 0.35:
                lead_services.change_stage(lead=lead, to_stage=Stage.SQL, now=created_at + timedelta(days=1))
            leads.append(lead)
    return leads


def rollup_rows() -> tuple[set[tuple], set[tuple]]:
    days = set(EffectivenessDay.objects.values_list("day", "leads", "reached_mql", "reached_sql"))
    rules = set(
        RuleDayRollup.objects.values_list(
            "day", "rule_id", "mql_threshold", "fired", "reached_mql", "reached_sql", "points", "carried_over_threshold"
        )
    )
    return days, rules


def page_numbers(model: ScoringModel, first_day: date, last_day: date) -> tuple:
    report = effectiveness.rule_effectiveness(model=model, first_day=first_day, last_day=last_day)
    return report.totals, [(row.rule.pk, row.fired, row.mql_rate_fired, row.sql_rate_fired, row.average_points,
                            row.carried_over_threshold, row.suggested_points) for row in report.rules]  # fmt: skip


def counted_live(model: ScoringModel, first_day: date, last_day: date) -> tuple:
    """The same numbers with the rollups switched off: what the page counts before they are built."""
    state = EffectivenessState.objects.get()
    EffectivenessState.objects.filter(pk=state.pk).update(rebuilt_at=None)
    try:
        return page_numbers(model, first_day, last_day)
    finally:
        EffectivenessState.objects.filter(pk=state.pk).update(rebuilt_at=state.rebuilt_at)


def change_older_and_new_leads(model: ScoringModel, leads: list[Lead]) -> None:
    """What the app does to older and new leads during a day, each through its own service, each on leads of a
    day of its own (so that a missing mark of one is not hidden by another's), and a refresh in between."""
    rng = random.Random(5)
    later: Callable[[int], datetime] = lambda hours: NOW + timedelta(hours=hours)  # noqa: E731
    # Every lead rescored after a rule's points changed marks nearly every day: refreshed before the rest.
    ScoringRule.objects.filter(scoring_model=model, name="Home market").update(points=25)
    services.rescore_all(now=later(1))
    refresh_rollups(now=later(1))
    twice = leads[20]  # created about five weeks ago: rescored twice today, its facts changed in between
    Lead.objects.filter(pk=twice.pk).update(industry="Software", country="FR", seniority="")
    services.score_lead(lead_id=twice.pk, now=later(2))
    Lead.objects.filter(pk=twice.pk).update(seniority="c_level")
    services.score_lead(lead_id=twice.pk, now=later(3))
    to_sql = next(lead for lead in leads[60:] if Lead.objects.get(pk=lead.pk).stage == Stage.MQL)
    lead_services.change_stage(lead=Lead.objects.get(pk=to_sql.pk), to_stage=Stage.SQL, now=later(3))
    erased = next(lead for lead in leads[100:] if Lead.objects.get(pk=lead.pk).stage == Stage.MQL)
    lead_services.erase_lead_personal_data(lead=erased, now=later(4), by=None, reason="Asked by email")
    Lead.objects.filter(pk=leads[40].pk).delete()  # an import undone
    for hour in range(3):
        new_lead(rng, later(hour))


def test_rollups_kept_current_equal_a_rebuild_from_scratch(model: ScoringModel) -> None:
    leads = generated_leads()
    rebuild_rollups(now=NOW)
    change_older_and_new_leads(model, leads)

    refresh_rollups(now=NOW + timedelta(hours=6))
    kept_current = rollup_rows()
    rebuild_rollups(now=NOW + timedelta(hours=6))

    assert kept_current == rollup_rows()
    assert EffectivenessDirtyDay.objects.count() == 0


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2026, 3, 1), date(2026, 6, 15)), (date(2026, 5, 10), date(2026, 5, 31)), (date(2026, 6, 15),) * 2],
)
def test_page_numbers_from_the_rollups_equal_the_live_count(model: ScoringModel, first: date, last: date) -> None:
    leads = generated_leads()
    rebuild_rollups(now=NOW)
    change_older_and_new_leads(model, leads)
    refresh_rollups(now=NOW + timedelta(hours=6))
    model.refresh_from_db()

    from_rollups = page_numbers(model, first, last)

    assert from_rollups == counted_live(model, first, last)
    assert from_rollups[0].leads > 0


def test_scoring_an_older_lead_marks_its_day(model: ScoringModel) -> None:
    lead = LeadFactory(industry="Software", country="FR", created_at=NOW - timedelta(days=10))  # 30: stays new

    services.score_lead(lead_id=lead.pk, now=NOW)

    assert list(EffectivenessDirtyDay.objects.values_list("day", flat=True)) == [date(2026, 6, 5)]


def test_scoring_a_lead_created_today_or_yesterday_writes_no_mark(model: ScoringModel) -> None:
    leads = [LeadFactory(industry="Software", created_at=NOW - timedelta(days=days)) for days in (0, 1)]

    lead_scoring.score_leads(lead_ids=[lead.pk for lead in leads], now=NOW)

    assert not EffectivenessDirtyDay.objects.exists()


def test_a_stage_change_of_an_older_lead_marks_its_day(model: ScoringModel) -> None:
    lead = LeadFactory(stage=Stage.MQL, created_at=NOW - timedelta(days=10))

    lead_services.change_stage(lead=lead, to_stage=Stage.SQL, now=NOW)

    assert list(EffectivenessDirtyDay.objects.values_list("day", flat=True)) == [date(2026, 6, 5)]


def test_a_refresh_recomputes_a_bounded_number_of_older_days_and_keeps_the_other_marks(model: ScoringModel) -> None:
    rebuild_rollups(now=NOW)
    EffectivenessDirtyDay.objects.bulk_create(
        EffectivenessDirtyDay(day=date(2025, 1, 1) + timedelta(days=n)) for n in range(DAYS_PER_REFRESH + 5)
    )

    refresh_rollups(now=NOW)

    assert EffectivenessDirtyDay.objects.count() == 5


def test_a_refresh_counts_a_change_its_writer_left_unmarked_before_midnight(model: ScoringModel) -> None:
    # The shared window (core.rollup_days.recent_days): the writer read 23:59:59, so the lead of the day before was
    # recent and got no mark, and it committed after the new day's first refresh had counted that day.
    midnight = datetime(2026, 6, 15, tzinfo=UTC)
    rebuild_rollups(now=midnight + timedelta(seconds=1))
    lead = LeadFactory(industry="Software", country="FR", created_at=datetime(2026, 6, 13, 9, tzinfo=UTC))  # 30
    services.score_lead(lead_id=lead.pk, now=midnight - timedelta(seconds=1))
    assert not EffectivenessDirtyDay.objects.exists()

    refresh_rollups(now=midnight + timedelta(minutes=1))

    assert RuleDayRollup.objects.get(day=date(2026, 6, 13)).fired == 1


def test_a_changed_threshold_is_counted_again_at_the_next_refresh(model: ScoringModel) -> None:
    LeadFactory(industry="Software", country="GB", created_at=NOW - timedelta(days=10))
    services.rescore_all(now=NOW - timedelta(days=10))
    rebuild_rollups(now=NOW)
    rule = ScoringRule.objects.get(name="Home market")
    assert RuleDayRollup.objects.get(rule=rule).carried_over_threshold == 1  # 50 points, 30 without it

    ScoringModel.objects.filter(pk=model.pk).update(mql_threshold=30)
    refresh_rollups(now=NOW)

    assert RuleDayRollup.objects.get(rule=rule).carried_over_threshold == 0  # 30 without it: over anyway


def test_the_command_rebuilds_the_rollups(model: ScoringModel) -> None:
    new_lead(random.Random(1), NOW - timedelta(days=3))

    call_command("rebuild_rule_effectiveness", stdout=StringIO())

    assert EffectivenessDay.objects.get().leads == 1
    assert EffectivenessState.objects.get().rebuilt_at is not None
