import pytest

from handoff.routing import RoutingConditions, RoutingFacts, describe, explain, first_match, matches

ENTERPRISE_DIRECTOR = RoutingFacts(
    size_band="Enterprise", employee_count=5000, industry="Software", country="GB", seniority="director",
    job_function="marketing", score=70, source="google",
)  # fmt: skip


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (RoutingConditions(), True),
        (RoutingConditions.build(size_bands=["enterprise"]), True),
        (RoutingConditions.build(size_bands=["Start-up", "SMB"]), False),
        (RoutingConditions.build(industries=[" software ", "Fintech"]), True),
        (RoutingConditions.build(countries=["DE", "FR"]), False),
        (RoutingConditions.build(seniorities=["vp", "c_level", "director"]), True),
        (RoutingConditions.build(job_functions=["sales"]), False),
        (RoutingConditions.build(sources=["google", "bing"]), True),
        (RoutingConditions.build(employee_min=1000), True),
        (RoutingConditions.build(employee_min=200, employee_max=999), False),
        (RoutingConditions.build(employee_max=5000), True),
        (RoutingConditions.build(score_min=50, score_max=80), True),
        (RoutingConditions.build(score_min=71), False),
        (RoutingConditions.build(size_bands=["enterprise"], countries=["US"]), False),
    ],
)
def test_rule_matches_when_every_set_condition_holds(conditions: RoutingConditions, expected: bool) -> None:
    assert matches(conditions, ENTERPRISE_DIRECTOR) is expected


def test_unknown_employee_count_fails_a_size_condition() -> None:
    facts = RoutingFacts(employee_count=None)

    assert not matches(RoutingConditions.build(employee_min=1), facts)
    assert matches(RoutingConditions.build(industries=[]), facts)


def test_blank_list_entries_are_ignored() -> None:
    assert RoutingConditions.build(countries=["", "  ", "gb"]).countries == frozenset({"gb"})


def test_first_matching_rule_wins_in_order() -> None:
    rules = [
        (1, RoutingConditions.build(countries=["US"])),
        (2, RoutingConditions.build(size_bands=["enterprise"])),
        (3, RoutingConditions()),
    ]

    assert first_match(rules, ENTERPRISE_DIRECTOR).rule_id == 2


def test_no_matching_rule_gives_none() -> None:
    assert first_match([(1, RoutingConditions.build(countries=["US"]))], ENTERPRISE_DIRECTOR).rule_id is None


def test_the_match_says_which_conditions_held() -> None:
    rules = [(1, RoutingConditions.build(size_bands=["Enterprise"], score_min=50))]

    match = first_match(rules, ENTERPRISE_DIRECTOR)

    assert [check.detail for check in match.held] == [
        "size band “Enterprise” is one of Enterprise",
        "score 70 is at least 50",
    ]


def test_the_match_names_each_rule_passed_over_with_the_condition_that_failed() -> None:
    rules = [
        (1, RoutingConditions.build(size_bands=["enterprise"], countries=["US", "CA"])),
        (2, RoutingConditions.build(employee_max=1000)),
        (3, RoutingConditions()),
    ]

    match = first_match(rules, ENTERPRISE_DIRECTOR)

    assert [(row.rule_id, row.failed.detail) for row in match.passed_over] == [
        (1, "country “GB” is not one of US, CA"),
        (2, "employees 5000 is not at most 1000"),
    ]


def test_an_unknown_value_is_named_as_unknown_in_the_reasons() -> None:
    checks = explain(RoutingConditions.build(industries=["Software"], employee_min=10), RoutingFacts())

    assert [check.detail for check in checks] == [
        "industry unknown is not one of Software",
        "employees unknown, needs at least 10",
    ]


def test_conditions_are_described_in_words() -> None:
    conditions = RoutingConditions.build(countries=["GB", "IE"], employee_min=200, employee_max=999)

    assert describe(conditions) == "country: GB, IE; employees 200 to 999"
    assert describe(RoutingConditions()) == "any lead"
