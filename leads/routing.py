"""Pure routing-rule matching: which rule (and so which team or nurture track) a lead goes to.

No ORM and no clock: ``leads.services`` builds the facts and the rule conditions from the database
and stores the decision. The first matching rule wins; an empty condition matches anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RoutingFacts:
    size_band: str = ""
    employee_count: int | None = None
    industry: str = ""
    country: str = ""
    seniority: str = ""
    job_function: str = ""
    score: int = 0
    source: str = ""


@dataclass(frozen=True)
class RoutingConditions:
    size_bands: frozenset[str] = field(default_factory=frozenset)
    industries: frozenset[str] = field(default_factory=frozenset)
    countries: frozenset[str] = field(default_factory=frozenset)
    seniorities: frozenset[str] = field(default_factory=frozenset)
    job_functions: frozenset[str] = field(default_factory=frozenset)
    sources: frozenset[str] = field(default_factory=frozenset)
    employee_min: int | None = None
    employee_max: int | None = None
    score_min: int | None = None
    score_max: int | None = None

    @classmethod
    def build(cls, **values: Any) -> RoutingConditions:
        """Conditions from loose values: lists are folded to lower case, blanks dropped."""
        lists = {
            name: frozenset(str(v).strip().lower() for v in (values.get(name) or ()) if str(v).strip())
            for name in ("size_bands", "industries", "countries", "seniorities", "job_functions", "sources")
        }
        bounds = {name: values.get(name) for name in ("employee_min", "employee_max", "score_min", "score_max")}
        return cls(**lists, **bounds)  # type: ignore[arg-type]


def _in(allowed: frozenset[str], value: str) -> bool:
    return not allowed or value.strip().lower() in allowed


def _within(value: int | None, low: int | None, high: int | None) -> bool:
    if low is None and high is None:
        return True
    if value is None:
        return False  # an unknown size cannot satisfy a size condition
    return (low is None or value >= low) and (high is None or value <= high)


def matches(conditions: RoutingConditions, facts: RoutingFacts) -> bool:
    """Whether every condition that is set holds for these facts."""
    return (
        _in(conditions.size_bands, facts.size_band)
        and _in(conditions.industries, facts.industry)
        and _in(conditions.countries, facts.country)
        and _in(conditions.seniorities, facts.seniority)
        and _in(conditions.job_functions, facts.job_function)
        and _in(conditions.sources, facts.source)
        and _within(facts.employee_count, conditions.employee_min, conditions.employee_max)
        and _within(facts.score, conditions.score_min, conditions.score_max)
    )


def first_match(rules: Iterable[tuple[int, RoutingConditions]], facts: RoutingFacts) -> int | None:
    """The id of the first rule, in the given order, whose conditions hold; None when none does."""
    return next((rule_id for rule_id, conditions in rules if matches(conditions, facts)), None)
