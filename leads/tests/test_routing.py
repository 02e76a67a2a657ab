import pytest

from leads.routing import RoutingConditions, RoutingFacts, first_match, matches

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

    assert first_match(rules, ENTERPRISE_DIRECTOR) == 2


def test_no_matching_rule_gives_none() -> None:
    assert first_match([(1, RoutingConditions.build(countries=["US"]))], ENTERPRISE_DIRECTOR) is None
