"""Rule effectiveness against a hand-computed example, the suggestion rule, and the admin page."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from leads.models import Lead, Stage, StageChange
from leads.tests.factories import FIXED_NOW, LeadFactory
from scoring import effectiveness
from scoring.effectiveness_rollups import rebuild_rollups
from scoring.models import ScoringModel, ScoringRule
from scoring.tests.factories import ScoringModelFactory, ScoringRuleFactory

pytestmark = pytest.mark.django_db

START = FIXED_NOW - timedelta(days=30)
FIRST_DAY, LAST_DAY = START.date(), FIXED_NOW.date()


def scored(rules: list[tuple[ScoringRule, int]], *, score: int, stage: str, created_at: datetime = FIXED_NOW) -> Lead:
    breakdown = [
        {"rule_id": rule.pk, "name": rule.name, "kind": rule.kind, "dimension": "fit", "points": points, "reason": ""}
        for rule, points in rules
    ]
    return LeadFactory(score=score, score_breakdown=breakdown, stage=stage, created_at=created_at)


@pytest.fixture
def example() -> tuple[ScoringModel, ScoringRule, ScoringRule, ScoringRule]:
    """Five leads in the period, one before it; threshold 50; rules A (20), B (10) and C (never fires).

    lead  fired   score  reached MQL  reached SQL
    L1    A, B    55     yes (SQL)    yes
    L2    A       60     yes (MQL)    no
    L3    A       30     yes (moved to MQL once, nurture now)  no
    L4    B       20     no           no
    L5    —       0      yes (SQL)    yes
    L6    A       70     SQL, but created before the period: not counted
    """
    model = ScoringModelFactory(mql_threshold=50, nurture_threshold=10)
    a = ScoringRuleFactory(scoring_model=model, name="A", points=20)
    b = ScoringRuleFactory(scoring_model=model, name="B", points=10)
    c = ScoringRuleFactory(scoring_model=model, name="C", points=5)
    scored([(a, 20), (b, 10)], score=55, stage=Stage.SQL)
    scored([(a, 20)], score=60, stage=Stage.MQL)
    l3 = scored([(a, 20)], score=30, stage=Stage.NURTURE)
    StageChange.objects.create(lead=l3, from_stage=Stage.NEW, to_stage=Stage.MQL, changed_at=FIXED_NOW)
    scored([(b, 10)], score=20, stage=Stage.NEW)
    scored([], score=0, stage=Stage.SQL)
    scored([(a, 20)], score=70, stage=Stage.SQL, created_at=START - timedelta(days=1))
    return model, a, b, c


def row(report: effectiveness.Effectiveness, rule: ScoringRule) -> effectiveness.RuleEffectiveness:
    [found] = [r for r in report.rules if r.rule.pk == rule.pk]
    return found


def test_totals_count_the_period_leads_and_their_outcomes(example: tuple) -> None:
    model = example[0]

    report = effectiveness.rule_effectiveness(model=model, first_day=FIRST_DAY, last_day=LAST_DAY)

    assert report.totals == effectiveness.Totals(leads=5, reached_mql=4, reached_sql=2)


def test_rule_a_matches_the_hand_computed_numbers(example: tuple) -> None:
    model, a, _, _ = example

    result = row(effectiveness.rule_effectiveness(model=model, first_day=FIRST_DAY, last_day=LAST_DAY), a)

    assert (result.fired, result.not_fired) == (3, 2)
    assert result.mql_rate_fired == 1.0
    assert result.mql_rate_not_fired == 0.5
    assert result.mql_lift == 2.0
    assert result.sql_rate_fired == pytest.approx(1 / 3)
    assert result.sql_rate_not_fired == 0.5
    assert result.sql_lift == pytest.approx(2 / 3)
    assert result.average_points == 20
    assert result.carried_over_threshold == 2  # L1 (55 - 20 = 35) and L2 (60 - 20 = 40); L3 is below anyway


def test_rule_b_matches_the_hand_computed_numbers(example: tuple) -> None:
    model, _, b, _ = example

    result = row(effectiveness.rule_effectiveness(model=model, first_day=FIRST_DAY, last_day=LAST_DAY), b)

    assert (result.fired, result.not_fired) == (2, 3)
    assert result.mql_lift == pytest.approx(0.5 / 1.0)
    assert result.sql_lift == pytest.approx(0.5 / (1 / 3))
    assert result.average_points == 10
    assert result.carried_over_threshold == 1  # L1: 55 - 10 = 45


def test_a_rule_that_never_fired_has_no_rates(example: tuple) -> None:
    model, _, _, c = example

    result = row(effectiveness.rule_effectiveness(model=model, first_day=FIRST_DAY, last_day=LAST_DAY), c)

    assert (result.fired, result.not_fired) == (0, 5)
    assert result.mql_rate_fired is None
    assert result.average_points is None
    assert result.suggested_points is None


def test_small_samples_get_no_suggestion(example: tuple) -> None:
    model, a, _, _ = example

    result = row(effectiveness.rule_effectiveness(model=model, first_day=FIRST_DAY, last_day=LAST_DAY), a)

    assert result.suggested_points is None
    assert result.sample_size == "3 fired / 2 not"


def test_strong_data_suggests_points_scaled_by_the_sql_lift() -> None:
    # 40 % of 200 fired leads reached SQL against 20 % of 800 others: lift 2, z ≈ 5.9.
    z = effectiveness._z_two_proportions(80, 200, 160, 800)

    suggested = effectiveness.suggest_points(points=15, fired=200, not_fired=800, lift=2.0, z=z)

    assert z is not None and z > effectiveness.Z_95
    assert suggested == 30


def test_the_suggestion_is_at_most_half_the_points() -> None:
    assert effectiveness.suggest_points(points=20, fired=500, not_fired=500, lift=0.1, z=-8.0) == 10


def test_a_difference_that_may_be_chance_gets_no_suggestion() -> None:
    z = effectiveness._z_two_proportions(9, 40, 7, 40)  # 22 % against 18 %: z ≈ 0.6

    assert effectiveness.suggest_points(points=20, fired=40, not_fired=40, lift=9 / 7, z=z) is None


def test_a_rule_taking_points_away_gets_no_suggestion() -> None:
    assert effectiveness.suggest_points(points=-30, fired=500, not_fired=500, lift=0.2, z=-9.0) is None


def test_page_shows_each_rule_of_the_active_model(example: tuple, marketer: object, client: Client) -> None:
    client.force_login(marketer)  # type: ignore[arg-type]

    page = client.get(reverse("scoring_rule_effectiveness"), {"start": "2026-02-01", "end": "2026-03-02"})

    assert page.status_code == 200
    assert [r.rule.name for r in page.context["report"].rules] == ["A", "B", "C"]
    assert page.context["report"].totals.leads == 5


def test_page_refuses_a_start_after_the_end(example: tuple, marketer: object, client: Client) -> None:
    client.force_login(marketer)  # type: ignore[arg-type]

    page = client.get(reverse("scoring_rule_effectiveness"), {"start": "2026-03-02", "end": "2026-02-01"})

    assert page.status_code == 400
    assert "report" not in page.context
    assert "The start date is after the end date." in page.content.decode()


@pytest.mark.parametrize(
    "dates", [{"start": "2026-03-02", "end": "2026-02-01"}, {"start": "2026-02-30"}, {"end": "yesterday"}]
)
def test_dates_that_do_not_validate_show_their_error_and_no_figures(
    example: tuple, marketer: object, client: Client, dates: dict[str, str]
) -> None:
    client.force_login(marketer)  # type: ignore[arg-type]

    page = client.get(reverse("scoring_rule_effectiveness"), dates)

    html = page.content.decode()
    assert page.status_code == 400
    assert "report" not in page.context and 'id="rule-effectiveness"' not in html
    assert "No figures for these dates: correct the error above to see the report." in html


@pytest.mark.parametrize("dates", [{"end": "9999-12-31"}, {"start": "0001-01-01"}])
def test_a_date_beyond_the_years_a_report_counts_is_a_form_error(
    example: tuple, marketer: object, client: Client, dates: dict[str, str]
) -> None:
    client.force_login(marketer)  # type: ignore[arg-type]

    page = client.get(reverse("scoring_rule_effectiveness"), dates)

    assert page.status_code == 400
    assert "Pick dates between the years 1900 and 9998." in page.content.decode()


def test_dates_that_do_not_validate_stay_as_they_were_typed(example: tuple, marketer: object, client: Client) -> None:
    client.force_login(marketer)  # type: ignore[arg-type]

    page = client.get(reverse("scoring_rule_effectiveness"), {"start": "2026-03-02", "end": "yesterday"})

    html = page.content.decode()
    assert 'value="2026-03-02"' in html and 'value="yesterday"' in html


def test_preview_runs_the_what_if_with_the_points_unsaved(example: tuple, marketer: object, client: Client) -> None:
    _, a, _, _ = example
    client.force_login(marketer)  # type: ignore[arg-type]

    page = client.post(reverse("scoring_rule_effectiveness"), {"rule": a.pk, "points": 40})

    assert page.status_code == 200
    assert page.context["what_if"].lead_count == 6
    a.refresh_from_db()
    assert a.points == 20


def test_a_preview_with_dates_that_do_not_validate_shows_their_error_and_no_preview(
    example: tuple, marketer: object, client: Client
) -> None:
    _, a, _, _ = example
    client.force_login(marketer)  # type: ignore[arg-type]

    url = reverse("scoring_rule_effectiveness") + "?start=2026-03-02&end=2026-02-01"
    page = client.post(url, {"rule": a.pk, "points": 40})

    html = page.content.decode()
    assert page.status_code == 400
    assert "what_if" not in page.context and 'id="preview"' not in html
    assert "The start date is after the end date." in html


@pytest.mark.parametrize("query", ["", "?start=2026-03-02&end=2026-02-01"])
def test_a_manager_who_reads_the_rules_may_not_preview_a_change(
    example: tuple, manager: object, client: Client, query: str
) -> None:
    _, a, _, _ = example
    client.force_login(manager)  # type: ignore[arg-type]

    page = client.post(reverse("scoring_rule_effectiveness") + query, {"rule": a.pk, "points": 40})

    assert page.status_code == 403


def test_a_rep_may_not_open_the_page(rep: object, client: Client) -> None:
    client.force_login(rep)  # type: ignore[arg-type]

    page = client.get(reverse("scoring_rule_effectiveness"))

    assert page.status_code == 302  # admin_view sends non-staff to the admin login


def test_once_built_the_page_reads_the_rollups(example: tuple) -> None:
    model, a, _, _ = example
    rebuild_rollups(now=FIXED_NOW)
    scored([(a, 20)], score=60, stage=Stage.SQL, created_at=START + timedelta(days=1))  # no refresh since

    report = effectiveness.rule_effectiveness(model=model, first_day=FIRST_DAY, last_day=LAST_DAY)

    assert report.counted_at == FIXED_NOW
    assert report.totals == effectiveness.Totals(leads=5, reached_mql=4, reached_sql=2)
    assert row(report, a).carried_over_threshold == 2


def test_the_page_says_when_the_rollups_were_refreshed(example: tuple, marketer: object, client: Client) -> None:
    rebuild_rollups(now=FIXED_NOW)
    client.force_login(marketer)  # type: ignore[arg-type]

    page = client.get(reverse("scoring_rule_effectiveness"), {"start": "2026-02-01", "end": "2026-03-02"})

    assert "Counted from the daily rollups" in page.content.decode()
    assert page.context["report"].totals.leads == 5
