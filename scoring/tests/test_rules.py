"""Tests for the pure scoring module: no database, no clock (`NOW` is passed in)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.rules import (
    ENGAGEMENT,
    FACT_FIELDS,
    FIT,
    MAX_RULE_POINTS,
    RULE_KINDS,
    SCORE_LIMIT,
    ActivityFact,
    FactRuleKind,
    LeadFacts,
    ParamField,
    RuleSet,
    RuleSpec,
    ScoringModelSpec,
    apply_cap,
    classify_stage,
    kind_choices,
    round_points,
    rule_kind,
    score,
    validate_rule,
)

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
MODEL = ScoringModelSpec(half_life_days=30, mql_threshold=60, nurture_threshold=20)
SENIORITY_ORDER = ["student", "individual", "manager", "director", "vp", "c_level"]
SENIORITY_AT_LEAST_DIRECTOR = {"field": "seniority", "order": SENIORITY_ORDER, "minimum": "director"}
WEBINARS_IN_30_DAYS = {"activity_kind": "webinar_attended", "within_days": 30}
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def _rule(
    kind: str,
    params: Mapping[str, Any],
    *,
    points: int = 10,
    cap: int | None = None,
    dimension: str = FIT,
    rule_id: int | None = 1,
    name: str = "Rule",
) -> RuleSpec:
    return RuleSpec(id=rule_id, name=name, kind=kind, dimension=dimension, points=points, cap=cap, params=params)


def _activity_rule(params: Mapping[str, Any] = WEBINARS_IN_30_DAYS, **kwargs: Any) -> RuleSpec:
    return _rule("activity", params, **{"dimension": ENGAGEMENT, **kwargs})


def _days_ago(days: float, kind: str = "webinar_attended") -> ActivityFact:
    return ActivityFact(kind=kind, occurred_at=NOW - timedelta(days=days))


def _evaluate(
    rule: RuleSpec,
    facts: LeadFacts | None = None,
    activities: Sequence[ActivityFact] = (),
    half_life_days: float = 30.0,
) -> float:
    kind = RULE_KINDS[rule.kind]
    return kind.evaluate(facts or LeadFacts(), activities, rule.params, rule, NOW, half_life_days)


def _matches(kind: str, facts: LeadFacts, params: Mapping[str, Any]) -> bool:
    rule = _rule(kind, params)
    return RULE_KINDS[kind].matches(facts, (), params, rule, NOW, MODEL.half_life_days)


# --- Facts -----------------------------------------------------------------------------------------


def test_value_of_prefers_declared_field_over_attribute() -> None:
    facts = LeadFacts(industry="Software", attributes={"industry": "Retail"})

    value = facts.value_of("industry")

    assert value == "Software"


def test_value_of_falls_back_to_custom_attributes() -> None:
    facts = LeadFacts(attributes={"budget": "approved"})

    value = facts.value_of("budget")

    assert value == "approved"


def test_value_of_gives_none_for_unknown_name() -> None:
    facts = LeadFacts()

    value = facts.value_of("no_such_fact")

    assert value is None


def test_fact_fields_list_declared_fields_but_not_the_attribute_bag() -> None:
    assert "employee_count" in FACT_FIELDS
    assert "attributes" not in FACT_FIELDS


def test_activity_fact_rejects_naive_occurred_at() -> None:
    naive = datetime(2025, 3, 1, 12, 0)

    with pytest.raises(ValueError, match="timezone-aware"):
        ActivityFact(kind="webinar_attended", occurred_at=naive)


@pytest.mark.parametrize("half_life_days", [0, -1, float("nan"), float("inf")])
def test_scoring_model_spec_rejects_non_positive_half_life(half_life_days: float) -> None:
    with pytest.raises(ValueError, match="half_life_days"):
        ScoringModelSpec(half_life_days=half_life_days, mql_threshold=60, nurture_threshold=20)


def test_scoring_model_spec_rejects_nurture_threshold_above_mql_threshold() -> None:
    with pytest.raises(ValueError, match="nurture_threshold"):
        ScoringModelSpec(half_life_days=30, mql_threshold=20, nurture_threshold=60)


# --- Fact rule kinds: evaluation tables ------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "params", "expected"),
    [
        (LeadFacts(industry="Software"), {"field": "industry", "value": "software"}, 10),
        (LeadFacts(industry=" SOFTWARE "), {"field": "industry", "value": "Software"}, 10),
        (LeadFacts(industry="Retail"), {"field": "industry", "value": "software"}, 0),
        (LeadFacts(industry=""), {"field": "industry", "value": "software"}, 0),
        (LeadFacts(employee_count=50), {"field": "employee_count", "value": "50"}, 10),
        (LeadFacts(attributes={"budget": "Yes"}), {"field": "budget", "value": "yes"}, 10),
        (LeadFacts(attributes={"products": ["CRM", "ERP"]}), {"field": "products", "value": "erp"}, 10),
        (LeadFacts(attributes={}), {"field": "budget", "value": "yes"}, 0),
    ],
    ids=["same", "case-and-space", "other", "blank", "number", "attribute", "multi-choice", "missing"],
)
def test_attribute_equals_gives_points_on_case_insensitive_match(
    facts: LeadFacts, params: dict[str, Any], expected: float
) -> None:
    rule = _rule("attribute_equals", params)

    raw = _evaluate(rule, facts)

    assert raw == expected


@pytest.mark.parametrize(
    ("country", "expected"),
    [("DE", 10), ("at", 10), ("US", 0), ("", 0)],
)
def test_attribute_in_gives_points_when_value_is_listed(country: str, expected: float) -> None:
    rule = _rule("attribute_in", {"field": "country", "values": ["de", "AT", "ch"]})

    raw = _evaluate(rule, LeadFacts(country=country))

    assert raw == expected


@pytest.mark.parametrize(
    ("job_title", "expected"),
    [("Head of Marketing", 10), ("MARKETING OPS", 10), ("Sales Director", 0), ("", 0)],
)
def test_attribute_contains_gives_points_when_substring_found(job_title: str, expected: float) -> None:
    rule = _rule("attribute_contains", {"field": "job_title", "substring": "marketing"})

    raw = _evaluate(rule, LeadFacts(job_title=job_title))

    assert raw == expected


@pytest.mark.parametrize(
    ("value", "low", "high", "expected"),
    [
        (200, 200, 5000, 10),
        (5000, 200, 5000, 10),
        (1200, 200, 5000, 10),
        (199, 200, 5000, 0),
        (5001, 200, 5000, 0),
        (None, 200, 5000, 0),
        (10, None, 50, 10),
        (51, None, 50, 0),
        (999, 1000, None, 0),
        (1_000_000, 1000, None, 10),
        ("250", 200, 5000, 10),
        ("lots", 200, 5000, 0),
    ],
)
def test_numeric_range_gives_points_inside_inclusive_bounds(
    value: int | str | None, low: float | None, high: float | None, expected: float
) -> None:
    rule = _rule("numeric_range", {"field": "size", "min": low, "max": high})

    raw = _evaluate(rule, LeadFacts(attributes={"size": value}))

    assert raw == expected


@pytest.mark.parametrize(
    ("seniority", "expected"),
    [("director", 10), ("Director", 10), ("vp", 10), ("c_level", 10), ("manager", 0), ("intern", 0), ("", 0)],
)
def test_ordered_at_least_gives_points_from_minimum_upwards(seniority: str, expected: float) -> None:
    rule = _rule("ordered_at_least", SENIORITY_AT_LEAST_DIRECTOR)

    raw = _evaluate(rule, LeadFacts(seniority=seniority))

    assert raw == expected


def test_fact_rule_gives_its_negative_points_when_it_matches() -> None:
    rule = _rule("attribute_equals", {"field": "country", "value": "us"}, points=-25)

    raw = _evaluate(rule, LeadFacts(country="US"))

    assert raw == -25


# --- Activity kind ---------------------------------------------------------------------------------


def test_activity_gives_full_points_for_an_occurrence_now() -> None:
    rule = _activity_rule(points=7)

    raw = _evaluate(rule, activities=[_days_ago(0)])

    assert raw == pytest.approx(7)


def test_activity_occurrence_one_half_life_old_gives_half_the_points() -> None:
    rule = _activity_rule(points=7)

    raw = _evaluate(rule, activities=[_days_ago(30)], half_life_days=30)

    assert raw == pytest.approx(3.5)


def test_activity_adds_up_each_occurrence() -> None:
    rule = _activity_rule(points=10)

    raw = _evaluate(rule, activities=[_days_ago(0), _days_ago(0), _days_ago(30)], half_life_days=30)

    assert raw == pytest.approx(25)


def test_activity_counts_occurrence_exactly_at_window_edge() -> None:
    rule = _activity_rule({"activity_kind": "webinar_attended", "within_days": 10}, points=10)

    raw = _evaluate(rule, activities=[_days_ago(10)], half_life_days=10)

    assert raw == pytest.approx(5)


@pytest.mark.parametrize(
    "activity",
    [_days_ago(30.01), _days_ago(-0.01), _days_ago(-5), _days_ago(1, kind="email_opened")],
    ids=["older-than-window", "just-in-future", "future", "other-kind"],
)
def test_activity_ignores_occurrences_outside_window_or_of_other_kinds(activity: ActivityFact) -> None:
    rule = _activity_rule(points=10)

    raw = _evaluate(rule, activities=[activity])

    assert raw == 0


def test_activity_rule_rejects_naive_now() -> None:
    rule = _activity_rule()
    naive_now = datetime(2025, 3, 10, 12, 0)

    with pytest.raises(ValueError, match="timezone-aware"):
        RULE_KINDS["activity"].evaluate(LeadFacts(), [], rule.params, rule, naive_now, 30)


# --- Disqualifier kinds: match tables --------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain_kind", "expected"),
    [("free_mail", True), ("company", False), ("disposable", False), ("", False)],
)
def test_free_mail_matches_free_mail_domains_only(domain_kind: str, expected: bool) -> None:
    facts = LeadFacts(email_domain="gmail.com", domain_kind=domain_kind)

    assert _matches("free_mail", facts, {"effect": "floor"}) is expected


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (LeadFacts(company_domain="rival.com"), True),
        (LeadFacts(company_domain="eu.rival.com"), True),
        (LeadFacts(email_domain="mail.rival.com"), True),
        (LeadFacts(company_domain="RIVAL.COM"), True),
        (LeadFacts(email_domain="rival.io"), True),
        (LeadFacts(company_domain="notrival.com"), False),
        (LeadFacts(company_domain="rival.com.example.org"), False),
        (LeadFacts(company_domain="acme.com", email_domain="acme.com"), False),
        (LeadFacts(), False),
    ],
    ids=["company", "subdomain", "email-subdomain", "case", "second-domain", "suffix", "prefix", "other", "blank"],
)
def test_competitor_domain_matches_listed_domains_and_subdomains(facts: LeadFacts, expected: bool) -> None:
    params = {"domains": ["rival.com", "@Rival.io"], "effect": "disqualify"}

    assert _matches("competitor_domain", facts, params) is expected


@pytest.mark.parametrize(
    ("seniority", "expected"),
    [("student", True), (" Student ", True), ("individual", False), ("", False)],
)
def test_student_matches_student_seniority(seniority: str, expected: bool) -> None:
    facts = LeadFacts(seniority=seniority)

    assert _matches("student", facts, {"effect": "floor"}) is expected


# --- Parameter validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("attribute_equals", {"field": "industry", "value": "Software"}),
        ("attribute_equals", {"field": "budget", "value": "yes"}),
        ("attribute_in", {"field": "country", "values": ["DE", "AT"]}),
        ("attribute_contains", {"field": "job_title", "substring": "market"}),
        ("numeric_range", {"field": "employee_count", "min": 200, "max": 5000}),
        ("numeric_range", {"field": "employee_count", "min": 200.5, "max": None}),
        ("numeric_range", {"field": "employee_count", "max": 50}),
        ("numeric_range", {"field": "employee_count", "min": 10, "max": 10}),
        ("ordered_at_least", SENIORITY_AT_LEAST_DIRECTOR),
        ("ordered_at_least", {"field": "seniority", "order": ["Student", "VP"], "minimum": "vp"}),
        ("activity", {"activity_kind": "webinar_attended", "within_days": 30}),
        ("free_mail", {"effect": "floor"}),
        ("free_mail", {"effect": "floor", "floor_score": -10}),
        ("free_mail", {"effect": "disqualify", "floor_score": None}),
        ("competitor_domain", {"domains": ["rival.com", "eu.rival.io"], "effect": "disqualify"}),
        ("student", {"effect": "disqualify", "floor_score": 0}),
    ],
)
def test_validate_params_accepts_valid_params(kind: str, params: dict[str, Any]) -> None:
    errors = RULE_KINDS[kind].validate_params(params)

    assert errors == {}


@pytest.mark.parametrize(
    ("kind", "params", "error_key"),
    [
        ("attribute_equals", {"value": "x"}, "field"),
        ("attribute_equals", {"field": "  ", "value": "x"}, "field"),
        ("attribute_equals", {"field": "industry"}, "value"),
        ("attribute_equals", {"field": "industry", "value": 5}, "value"),
        ("attribute_equals", {"field": "industry", "value": "x", "extra": 1}, "extra"),
        ("attribute_in", {"field": "country", "values": []}, "values"),
        ("attribute_in", {"field": "country", "values": "DE"}, "values"),
        ("attribute_in", {"field": "country", "values": ["DE", ""]}, "values"),
        ("attribute_in", {"field": "country", "values": [1, 2]}, "values"),
        ("attribute_contains", {"field": "job_title"}, "substring"),
        ("numeric_range", {"field": "employee_count", "min": 5000, "max": 200}, "max"),
        ("numeric_range", {"field": "employee_count", "min": None, "max": None}, "min"),
        ("numeric_range", {"field": "employee_count"}, "min"),
        ("numeric_range", {"field": "employee_count", "min": "ten"}, "min"),
        ("numeric_range", {"field": "employee_count", "min": True}, "min"),
        ("numeric_range", {"field": "employee_count", "max": float("nan")}, "max"),
        ("ordered_at_least", {**SENIORITY_AT_LEAST_DIRECTOR, "minimum": "cto"}, "minimum"),
        ("ordered_at_least", {**SENIORITY_AT_LEAST_DIRECTOR, "order": []}, "order"),
        ("ordered_at_least", {**SENIORITY_AT_LEAST_DIRECTOR, "order": ["vp", "VP", "director"]}, "order"),
        ("ordered_at_least", {"field": "seniority", "order": SENIORITY_ORDER}, "minimum"),
        ("activity", {"activity_kind": "webinar_attended", "within_days": 0}, "within_days"),
        ("activity", {"activity_kind": "webinar_attended", "within_days": 1.5}, "within_days"),
        ("activity", {"activity_kind": "webinar_attended", "within_days": "30"}, "within_days"),
        ("activity", {"within_days": 30}, "activity_kind"),
        ("free_mail", {}, "effect"),
        ("free_mail", {"effect": "delete"}, "effect"),
        ("free_mail", {"effect": "floor", "floor_score": "0"}, "floor_score"),
        ("free_mail", {"effect": "floor", "domains": ["gmail.com"]}, "domains"),
        ("competitor_domain", {"domains": [], "effect": "floor"}, "domains"),
        ("competitor_domain", {"domains": ["not a domain"], "effect": "floor"}, "domains"),
        ("competitor_domain", {"domains": ["rival"], "effect": "floor"}, "domains"),
        ("student", {"effect": None}, "effect"),
    ],
)
def test_validate_params_rejects_invalid_params(kind: str, params: dict[str, Any], error_key: str) -> None:
    errors = RULE_KINDS[kind].validate_params(params)

    assert error_key in errors


def test_validate_params_rejects_params_that_are_not_an_object() -> None:
    errors = RULE_KINDS["attribute_equals"].validate_params(["industry", "software"])  # type: ignore[arg-type]

    assert errors == {"params": "Parameters must be a JSON object."}


def test_validate_rule_rejects_unknown_kind() -> None:
    rule = _rule("telepathy", {})

    errors = validate_rule(rule)

    assert "Unknown rule kind 'telepathy'" in errors["kind"]


def test_validate_rule_rejects_activity_rule_counted_as_fit() -> None:
    rule = _activity_rule(dimension=FIT)

    errors = validate_rule(rule)

    assert "dimension" in errors


@pytest.mark.parametrize("cap", [0, -5])
def test_validate_rule_rejects_cap_below_one(cap: int) -> None:
    rule = _rule("attribute_equals", {"field": "industry", "value": "x"}, cap=cap)

    errors = validate_rule(rule)

    assert "cap" in errors


def test_validate_rule_prefixes_param_errors() -> None:
    rule = _rule("numeric_range", {"field": "employee_count", "min": 10, "max": 1})

    errors = validate_rule(rule)

    assert errors == {"params.max": "The maximum must not be below the minimum."}


# --- The registry ----------------------------------------------------------------------------------


@pytest.fixture
def restore_registry() -> Iterator[None]:
    saved = dict(RULE_KINDS)
    yield
    RULE_KINDS.clear()
    RULE_KINDS.update(saved)


@pytest.mark.usefixtures("restore_registry")
def test_rule_kind_registers_a_new_kind_that_score_can_use() -> None:
    @rule_kind("has_phone_answer")
    class HasPhoneAnswer(FactRuleKind):
        label = "Custom answer given"
        param_fields = (ParamField("field", "str"),)

        def test(self, value: Any, params: Mapping[str, Any]) -> bool:
            return bool(value)

        def describe(self, value: Any, params: Mapping[str, Any]) -> str:
            return f"Answered {params['field']}"

    rule = _rule("has_phone_answer", {"field": "phone_ok"}, points=4)

    result = score(LeadFacts(attributes={"phone_ok": "yes"}), [], [rule], MODEL, NOW)

    assert result.breakdown[0].reason == "Answered phone_ok (+4)"


@pytest.mark.usefixtures("restore_registry")
def test_rule_kind_refuses_a_second_kind_under_the_same_name() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @rule_kind("attribute_equals")
        class Duplicate(FactRuleKind):
            label = "Duplicate"


def test_kind_choices_offer_every_registered_kind() -> None:
    names = {name for name, _label in kind_choices()}

    assert names == set(RULE_KINDS)


@pytest.mark.parametrize("kind", sorted(RULE_KINDS))
def test_every_kind_describes_its_params_for_the_admin_form(kind: str) -> None:
    rule_kind_ = RULE_KINDS[kind]
    names = [f.name for f in rule_kind_.param_fields]

    assert rule_kind_.label
    assert len(names) == len(set(names))
    assert all(f.type in {"str", "int", "float", "list", "choice"} for f in rule_kind_.param_fields)
    assert all(f.choices for f in rule_kind_.param_fields if f.type == "choice")


# --- Rounding and caps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(2.5, 3), (-2.5, -3), (2.4, 2), (2.6, 3), (0.5, 1), (-0.4, 0), (0.0, 0), (12.0, 12)],
)
def test_round_points_rounds_half_away_from_zero(raw: float, expected: int) -> None:
    assert round_points(raw) == expected


@pytest.mark.parametrize(
    ("points", "cap", "expected"),
    [(50, 25, 25), (10, 25, 10), (-50, 25, -25), (-10, 25, -10), (50, None, 50), (-50, None, -50)],
)
def test_apply_cap_clamps_absolute_value(points: int, cap: int | None, expected: int) -> None:
    assert apply_cap(points, cap) == expected


def test_score_caps_a_positive_rule() -> None:
    rule = _activity_rule(points=10, cap=25)
    activities = [_days_ago(0)] * 5

    result = score(LeadFacts(), activities, [rule], MODEL, NOW)

    assert result.engagement == 25


def test_score_caps_a_negative_rule() -> None:
    rule = _rule("attribute_equals", {"field": "country", "value": "us"}, points=-40, cap=15)

    result = score(LeadFacts(country="US"), [], [rule], MODEL, NOW)

    assert result.fit == -15


# --- score(): totals and breakdown -----------------------------------------------------------------


def test_score_sums_fit_and_engagement_into_total() -> None:
    rules = [
        _rule("attribute_equals", {"field": "industry", "value": "software"}, points=15),
        _rule("numeric_range", {"field": "employee_count", "min": 200, "max": 5000}, points=20),
        _activity_rule(points=8),
    ]
    facts = LeadFacts(industry="Software", employee_count=1200)

    result = score(facts, [_days_ago(0)], rules, MODEL, NOW)

    assert (result.fit, result.engagement, result.total, result.disqualified) == (35, 8, 43, False)


@pytest.mark.parametrize(
    ("rule", "facts", "activities", "reason"),
    [
        (
            _rule("attribute_equals", {"field": "industry", "value": "software"}, points=15),
            LeadFacts(industry="Software"),
            [],
            "Industry is Software (+15)",
        ),
        (
            _rule("attribute_in", {"field": "country", "values": ["US", "CA"]}, points=-10),
            LeadFacts(country="US"),
            [],
            "Country is US, one of the listed values (-10)",
        ),
        (
            _rule("attribute_contains", {"field": "job_title", "substring": "marketing"}, points=5),
            LeadFacts(job_title="Head of Marketing"),
            [],
            "Job title 'Head of Marketing' contains 'marketing' (+5)",
        ),
        (
            _rule("numeric_range", {"field": "employee_count", "min": 200.0, "max": 5000}, points=20),
            LeadFacts(employee_count=1200),
            [],
            "Employee count is 1200, between 200 and 5000 (+20)",
        ),
        (
            _rule("numeric_range", {"field": "employee_count", "max": 10}, points=-5),
            LeadFacts(employee_count=3),
            [],
            "Employee count is 3, at most 10 (-5)",
        ),
        (
            _rule("ordered_at_least", SENIORITY_AT_LEAST_DIRECTOR, points=10),
            LeadFacts(seniority="vp"),
            [],
            "Seniority is vp, at least director (+10)",
        ),
        (
            _activity_rule(points=10),
            LeadFacts(),
            [_days_ago(0), _days_ago(30)],
            "2 × webinar_attended in 30 days, decayed (+15)",  # noqa: RUF001 - the sign is in the spec
        ),
    ],
    ids=["equals", "in-negative", "contains", "range", "range-max-only", "ordered", "activity"],
)
def test_breakdown_explains_each_rule_with_its_points(
    rule: RuleSpec, facts: LeadFacts, activities: list[ActivityFact], reason: str
) -> None:
    result = score(facts, activities, [rule], MODEL, NOW)

    assert [o.reason for o in result.breakdown] == [reason]


def test_breakdown_carries_rule_identity_and_dimension() -> None:
    rule = _activity_rule(points=6, rule_id=42, name="Webinar attendance")

    result = score(LeadFacts(), [_days_ago(0)], [rule], MODEL, NOW)

    outcome = result.breakdown[0]
    assert (outcome.rule_id, outcome.name, outcome.kind, outcome.dimension, outcome.points) == (
        42,
        "Webinar attendance",
        "activity",
        ENGAGEMENT,
        6,
    )


def test_breakdown_leaves_out_rules_that_give_no_points() -> None:
    rules = [
        _rule("attribute_equals", {"field": "industry", "value": "software"}, rule_id=1),
        _rule("attribute_equals", {"field": "country", "value": "de"}, rule_id=2),
    ]

    result = score(LeadFacts(industry="Software", country="US"), [], rules, MODEL, NOW)

    assert [o.rule_id for o in result.breakdown] == [1]


def test_score_raises_for_unknown_kind() -> None:
    rule = _rule("telepathy", {})

    with pytest.raises(ValueError, match="Unknown rule kind"):
        score(LeadFacts(), [], [rule], MODEL, NOW)


def test_score_raises_for_invalid_params() -> None:
    rule = _rule("numeric_range", {"field": "employee_count"}, name="Company size")

    with pytest.raises(ValueError, match=r"'Company size'.*params\.min"):
        score(LeadFacts(), [], [rule], MODEL, NOW)


def test_score_raises_for_naive_now() -> None:
    naive_now = datetime(2025, 3, 10, 12, 0)

    with pytest.raises(ValueError, match="timezone-aware"):
        score(LeadFacts(), [], [], MODEL, naive_now)


# --- score(): disqualifiers ------------------------------------------------------------------------


def _high_fit_rule() -> RuleSpec:
    return _rule("attribute_equals", {"field": "industry", "value": "software"}, points=100, rule_id=1)


def test_floor_disqualifier_caps_high_total_at_its_floor_score() -> None:
    rules = [_high_fit_rule(), _rule("free_mail", {"effect": "floor", "floor_score": 5}, rule_id=2)]
    facts = LeadFacts(industry="Software", email_domain="gmail.com", domain_kind="free_mail")

    result = score(facts, [], rules, MODEL, NOW)

    assert (result.total, result.fit, result.disqualified) == (5, 100, False)


def test_a_floor_below_what_a_score_column_holds_scores_the_lowest_storable_score() -> None:
    rules = [_high_fit_rule(), _rule("free_mail", {"effect": "floor", "floor_score": -(10**20)}, rule_id=2)]
    facts = LeadFacts(industry="Software", email_domain="gmail.com", domain_kind="free_mail")

    result = score(facts, [], rules, MODEL, NOW)

    assert result.total == -SCORE_LIMIT


@pytest.mark.parametrize("points", [MAX_RULE_POINTS + 1, -(10**20)])
def test_points_beyond_the_limit_are_refused(points: int) -> None:
    errors = validate_rule(_rule("attribute_equals", {"field": "industry", "value": "software"}, points=points))

    assert "points" in errors


def test_floor_disqualifier_floors_at_zero_by_default() -> None:
    rules = [_high_fit_rule(), _rule("student", {"effect": "floor"}, rule_id=2)]

    result = score(LeadFacts(industry="Software", seniority="student"), [], rules, MODEL, NOW)

    assert result.total == 0


def test_floor_disqualifier_never_raises_a_lower_total() -> None:
    rules = [
        _rule("attribute_equals", {"field": "country", "value": "us"}, points=-20),
        _rule("student", {"effect": "floor"}, rule_id=2),
    ]

    result = score(LeadFacts(country="US", seniority="student"), [], rules, MODEL, NOW)

    assert result.total == -20


def test_disqualify_effect_marks_lead_disqualified_despite_high_points() -> None:
    rules = [_high_fit_rule(), _rule("competitor_domain", {"domains": ["rival.com"], "effect": "disqualify"})]

    result = score(LeadFacts(industry="Software", company_domain="rival.com"), [], rules, MODEL, NOW)

    assert (result.disqualified, result.total, result.fit) == (True, 0, 100)


def test_lowest_floor_wins_when_several_disqualifiers_match() -> None:
    rules = [
        _high_fit_rule(),
        _rule("free_mail", {"effect": "floor", "floor_score": 30}, rule_id=2),
        _rule("student", {"effect": "floor", "floor_score": 10}, rule_id=3),
    ]
    facts = LeadFacts(industry="Software", domain_kind="free_mail", seniority="student")

    result = score(facts, [], rules, MODEL, NOW)

    assert result.total == 10


def test_breakdown_explains_a_matching_disqualifier() -> None:
    rule = _rule("free_mail", {"effect": "disqualify"}, rule_id=7, name="No free mail")
    facts = LeadFacts(email_domain="gmail.com", domain_kind="free_mail")

    result = score(facts, [], [rule], MODEL, NOW)

    outcome = result.breakdown[0]
    assert (outcome.is_disqualifier, outcome.points, outcome.reason) == (
        True,
        0,
        "Free-mail address (gmail.com): disqualified, score capped at 0",
    )


def test_disqualifier_that_does_not_match_changes_nothing() -> None:
    rules = [_high_fit_rule(), _rule("free_mail", {"effect": "disqualify"}, rule_id=2)]

    result = score(LeadFacts(industry="Software", domain_kind="company"), [], rules, MODEL, NOW)

    assert (result.total, result.disqualified, len(result.breakdown)) == (100, False, 1)


# --- classify_stage --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "disqualified", "expected"),
    [
        (60, False, "mql"),
        (150, False, "mql"),
        (59, False, ""),
        (20, False, ""),
        (19, False, "nurture"),
        (-30, False, "nurture"),
        (150, True, "disqualified"),
        (0, True, "disqualified"),
    ],
)
def test_classify_stage_follows_thresholds_with_disqualified_first(
    total: int, disqualified: bool, expected: str
) -> None:
    assert classify_stage(total, disqualified, MODEL) == expected


# --- Properties ------------------------------------------------------------------------------------

_POINTS_RULE_TEMPLATES: list[tuple[str, str, dict[str, Any]]] = [
    ("attribute_equals", FIT, {"field": "industry", "value": "software"}),
    ("attribute_in", FIT, {"field": "country", "values": ["de", "at", "ch"]}),
    ("attribute_contains", FIT, {"field": "job_title", "substring": "market"}),
    ("numeric_range", FIT, {"field": "employee_count", "min": 200, "max": 5000}),
    ("numeric_range", FIT, {"field": "employee_count", "min": None, "max": 50}),
    ("ordered_at_least", FIT, SENIORITY_AT_LEAST_DIRECTOR),
    ("attribute_equals", ENGAGEMENT, {"field": "source", "value": "webinar"}),
    ("activity", ENGAGEMENT, WEBINARS_IN_30_DAYS),
    ("activity", ENGAGEMENT, {"activity_kind": "email_opened", "within_days": 90}),
]

facts_strategy = st.builds(
    LeadFacts,
    industry=st.sampled_from(["Software", "software", "Retail", ""]),
    country=st.sampled_from(["DE", "at", "US", ""]),
    employee_count=st.none() | st.integers(min_value=0, max_value=100_000),
    seniority=st.sampled_from([*SENIORITY_ORDER, "Director", ""]),
    job_title=st.sampled_from(["Head of Marketing", "CTO", ""]),
    source=st.sampled_from(["webinar", "ads", ""]),
    email_domain=st.sampled_from(["gmail.com", "acme.com", ""]),
    domain_kind=st.sampled_from(["company", "free_mail", ""]),
)

activities_strategy = st.lists(
    st.builds(
        _days_ago,
        days=st.floats(min_value=-10, max_value=120),
        kind=st.sampled_from(["webinar_attended", "email_opened", "page_view"]),
    ),
    max_size=8,
)


@st.composite
def points_rules(draw: st.DrawFn) -> RuleSpec:
    kind, dimension, params = draw(st.sampled_from(_POINTS_RULE_TEMPLATES))
    return RuleSpec(
        id=draw(st.integers(min_value=1, max_value=10_000)),
        name="Generated",
        kind=kind,
        dimension=dimension,
        points=draw(st.integers(min_value=-100, max_value=100)),
        cap=draw(st.none() | st.integers(min_value=1, max_value=60)),
        params=params,
    )


@PROPERTY_SETTINGS
@given(facts=facts_strategy, activities=activities_strategy, rules=st.lists(points_rules(), max_size=10))
def test_total_is_sum_of_capped_rule_points_without_disqualifiers(
    facts: LeadFacts, activities: list[ActivityFact], rules: list[RuleSpec]
) -> None:
    expected = sum(apply_cap(round_points(_evaluate(r, facts, activities, MODEL.half_life_days)), r.cap) for r in rules)

    result = score(facts, activities, rules, MODEL, NOW)

    assert result.total == result.fit + result.engagement == expected
    assert result.total == sum(o.points for o in result.breakdown)


@PROPERTY_SETTINGS
@given(facts=facts_strategy, activities=activities_strategy, rules=st.lists(points_rules(), max_size=10))
def test_no_rule_contributes_more_than_its_cap(
    facts: LeadFacts, activities: list[ActivityFact], rules: list[RuleSpec]
) -> None:
    rules = [replace(rule, id=index) for index, rule in enumerate(rules)]
    cap_of = {rule.id: rule.cap for rule in rules}

    result = score(facts, activities, rules, MODEL, NOW)

    assert all(cap_of[o.rule_id] is None or abs(o.points) <= cap_of[o.rule_id] for o in result.breakdown)


@PROPERTY_SETTINGS
@given(
    half_life_days=st.floats(min_value=0.5, max_value=365, exclude_min=True),
    points=st.integers(min_value=-100, max_value=100),
)
def test_decay_halves_points_at_one_half_life(half_life_days: float, points: int) -> None:
    rule = _activity_rule({"activity_kind": "webinar_attended", "within_days": 366}, points=points)

    raw = _evaluate(rule, activities=[_days_ago(half_life_days)], half_life_days=half_life_days)

    assert raw == pytest.approx(points / 2, abs=1e-6)


_DISQUALIFIER_CASES: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("free_mail", {}, {"domain_kind": "free_mail"}),
    ("competitor_domain", {"domains": ["rival.com"]}, {"company_domain": "eu.rival.com"}),
    ("student", {}, {"seniority": "student"}),
]


@PROPERTY_SETTINGS
@given(
    facts=facts_strategy,
    activities=activities_strategy,
    rules=st.lists(points_rules(), max_size=10),
    case=st.sampled_from(_DISQUALIFIER_CASES),
    position=st.integers(min_value=0, max_value=10),
    floor_score=st.none() | st.integers(min_value=-50, max_value=50),
)
def test_matching_disqualify_effect_always_disqualifies(
    facts: LeadFacts,
    activities: list[ActivityFact],
    rules: list[RuleSpec],
    case: tuple[str, dict[str, Any], dict[str, str]],
    position: int,
    floor_score: int | None,
) -> None:
    kind, extra_params, matching_facts = case
    disqualifier = _rule(kind, {**extra_params, "effect": "disqualify", "floor_score": floor_score})
    facts = replace(facts, **matching_facts)
    rules.insert(position, disqualifier)

    result = score(facts, activities, rules, MODEL, NOW)

    assert result.disqualified is True
    assert result.total <= (0 if floor_score is None else floor_score)
    assert classify_stage(result.total, result.disqualified, MODEL) == "disqualified"


def test_a_rule_set_tells_apart_values_python_finds_equal() -> None:
    rule_set = RuleSet((_rule("numeric_range", {"field": "budget", "min": 0}),))

    results = [score(LeadFacts(attributes={"budget": v}), [], rule_set, MODEL, NOW) for v in (True, 1, 1.0, -0.0)]

    assert [r.breakdown[0].reason if r.breakdown else None for r in results] == [
        None,
        "Budget is 1, at least 0 (+10)",
        "Budget is 1.0, at least 0 (+10)",
        "Budget is -0.0, at least 0 (+10)",
    ]


answers_strategy = st.builds(
    LeadFacts,
    industry=st.sampled_from(["Software", " software", ""]),
    attributes=st.fixed_dictionaries(
        {"budget": st.sampled_from([True, False, 1, 1.0, 0, -0.0, 0.0, "1", " 1 ", None, [1, "1"], ["x"]])}
    ),
)
_ANSWER_RULES = [
    _rule("numeric_range", {"field": "budget", "min": 0}),
    _rule("attribute_equals", {"field": "budget", "value": "1"}, points=3, rule_id=2),
    _rule("attribute_in", {"field": "budget", "values": ["true", "x"]}, points=-4, rule_id=3),
]


@PROPERTY_SETTINGS
@given(
    leads=st.lists(st.tuples(facts_strategy | answers_strategy, activities_strategy), min_size=1, max_size=8),
    rules=st.lists(points_rules(), max_size=8),
)
def test_a_rule_set_scores_many_leads_as_the_rule_list_scores_each(
    leads: list[tuple[LeadFacts, list[ActivityFact]]], rules: list[RuleSpec]
) -> None:
    rule_set = RuleSet((*rules, *_ANSWER_RULES))

    scored = [score(facts, activities, rule_set, MODEL, NOW) for facts, activities in leads]

    assert scored == [score(facts, activities, [*rules, *_ANSWER_RULES], MODEL, NOW) for facts, activities in leads]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


def _typed_param_values(spec: ParamField) -> st.SearchStrategy[Any]:
    """Values of the param's declared type, drawn so that whole param sets often validate."""
    return {
        "str": st.sampled_from(["industry", "seniority", "director", "webinar_attended"]) | st.text(max_size=8),
        "int": st.integers(min_value=-5, max_value=400),
        "float": st.none() | st.integers(min_value=-10, max_value=10_000) | st.floats(allow_nan=False),
        "list": (
            st.lists(st.sampled_from(SENIORITY_ORDER), unique=True)
            | st.lists(st.sampled_from(["rival.com", "eu.rival.io"]))
            | st.lists(st.text(max_size=6), max_size=3)
        ),
        "choice": st.sampled_from(spec.choices or ("",)),
    }[spec.type]


@PROPERTY_SETTINGS
@given(data=st.data(), kind=st.sampled_from(sorted(RULE_KINDS)), is_corrupted=st.booleans())
def test_params_that_validate_can_always_be_scored(data: st.DataObject, kind: str, is_corrupted: bool) -> None:
    rule_kind_ = RULE_KINDS[kind]
    param_fields = rule_kind_.param_fields
    params = data.draw(
        st.fixed_dictionaries(
            {spec.name: _typed_param_values(spec) for spec in param_fields if spec.required},
            optional={spec.name: _typed_param_values(spec) for spec in param_fields if not spec.required},
        )
    )
    if is_corrupted:  # arbitrary JSON under a known or unknown key must give errors, never a crash
        params[data.draw(st.sampled_from([spec.name for spec in param_fields] + ["extra"]))] = data.draw(json_values)
    rule = _rule(kind, params, dimension=rule_kind_.dimensions[0])
    facts = data.draw(facts_strategy)

    errors = rule_kind_.validate_params(params)

    if not errors:
        score(facts, [_days_ago(1)], [rule], MODEL, NOW)


# --- Numeric text and windows ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" 250 ", 10),
        ("+1e2", 10),
        ("500.", 10),
        (".5e3", 10),
        ("1_000", 0),
        ("inf", 0),
        ("١٢٠٠", 0),
        ("1" * 201, 0),
        (10**400, 0),
        (True, 0),
    ],
    ids=["spaces", "exponent", "trailing-point", "leading-point", "underscore", "inf", "arabic-digits", "too-long",
         "huge-int", "bool"],
)  # fmt: skip
def test_numeric_range_reads_only_plain_decimal_numbers(value: object, expected: float) -> None:
    rule = _rule("numeric_range", {"field": "budget", "min": 100})

    raw = _evaluate(rule, LeadFacts(attributes={"budget": value}))

    assert raw == expected


def test_activity_window_is_bounded() -> None:
    errors = RULE_KINDS["activity"].validate_params({"activity_kind": "webinar_attended", "within_days": 10**9})

    assert errors == {"within_days": "Enter at most 36,500 days."}


def test_only_activity_rules_look_back_in_time() -> None:
    assert RULE_KINDS["activity"].lookback_days(WEBINARS_IN_30_DAYS) == 30
    assert RULE_KINDS["attribute_equals"].lookback_days({"field": "industry", "value": "x"}) == 0


@PROPERTY_SETTINGS
@given(
    facts=facts_strategy,
    activities=activities_strategy,
    rules=st.lists(points_rules(), max_size=10),
    floor_score=st.integers(min_value=-50, max_value=50),
)
def test_matching_floor_disqualifier_caps_the_total_whatever_the_points(
    facts: LeadFacts, activities: list[ActivityFact], rules: list[RuleSpec], floor_score: int
) -> None:
    rules.append(_rule("student", {"effect": "floor", "floor_score": floor_score}, rule_id=99_999))
    facts = replace(facts, seniority="student")

    result = score(facts, activities, rules, MODEL, NOW)

    assert result.total <= floor_score
    assert result.disqualified is False
