"""Pure routing-rule matching, with its reasons: which rule a lead goes to, which conditions held, which failed.

No ORM and no clock: ``handoff.services.routing`` builds the facts and the rule conditions from the
database and stores the decision with the reasons this module gives. The first matching rule wins; an
empty condition matches anything. Each condition that is set is checked and explained in words a
marketer reads on the lead's page ("size band “Enterprise” is one of Enterprise").
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


# Each list condition: its name on RoutingConditions, the fact it reads, and its label.
LIST_CONDITIONS = (
    ("size_bands", "size_band", "size band"),
    ("industries", "industry", "industry"),
    ("countries", "country", "country"),
    ("seniorities", "seniority", "seniority"),
    ("job_functions", "job_function", "job function"),
    ("sources", "source", "first-touch source"),
)
RANGE_CONDITIONS = (
    ("employee_min", "employee_max", "employee_count", "employees"),
    ("score_min", "score_max", "score", "score"),
)


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
    # How the rule spells each list's values, for the reasons; matching uses the folded sets above.
    shown: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def build(cls, **values: Any) -> RoutingConditions:
        """Conditions from loose values: lists are folded to lower case, blanks dropped."""
        spelled = {
            name: tuple(str(v).strip() for v in (values.get(name) or ()) if str(v).strip())
            for name, _, _ in LIST_CONDITIONS
        }
        lists = {name: frozenset(value.lower() for value in spelled[name]) for name in spelled}
        bounds = {name: values.get(name) for low, high, _, _ in RANGE_CONDITIONS for name in (low, high)}
        return cls(**lists, **bounds, shown=spelled)  # type: ignore[arg-type]

    def listed(self, name: str) -> str:
        """The values of the list condition ``name`` as the rule spells them (folded when built directly)."""
        return ", ".join(self.shown.get(name) or sorted(getattr(self, name)))


@dataclass(frozen=True)
class Check:
    """One condition of a rule, checked against a lead: whether it held, and why, in words."""

    condition: str
    held: bool
    detail: str


def _shown(value: object) -> str:
    return f"“{value}”" if value not in ("", None) else "unknown"


def _list_check(label: str, allowed: frozenset[str], value: str, listed: str) -> Check:
    held = value.strip().lower() in allowed
    return Check(label, held, f"{label} {_shown(value)} is {'' if held else 'not '}one of {listed}")


def _range_check(label: str, value: int | None, low: int | None, high: int | None) -> Check:
    bounds = _bounds(low, high)
    if value is None:  # an unknown size cannot satisfy a size condition
        return Check(label, False, f"{label} unknown, needs {bounds}")
    held = (low is None or value >= low) and (high is None or value <= high)
    return Check(label, held, f"{label} {value} is {'' if held else 'not '}{bounds}")


def explain(conditions: RoutingConditions, facts: RoutingFacts) -> list[Check]:
    """Every condition that is set, checked against ``facts``; empty when the rule has none (it matches anything)."""
    checks = [
        _list_check(label, getattr(conditions, name), getattr(facts, fact), conditions.listed(name))
        for name, fact, label in LIST_CONDITIONS
        if getattr(conditions, name)
    ]
    for low_name, high_name, fact, label in RANGE_CONDITIONS:
        low, high = getattr(conditions, low_name), getattr(conditions, high_name)
        if low is not None or high is not None:
            checks.append(_range_check(label, getattr(facts, fact), low, high))
    return checks


def describe(conditions: RoutingConditions) -> str:
    """The conditions that are set, in words ("size band: enterprise, smb; employees at least 10000")."""
    parts = [f"{label}: {conditions.listed(name)}" for name, _, label in LIST_CONDITIONS if getattr(conditions, name)]
    for low_name, high_name, _, label in RANGE_CONDITIONS:
        low, high = getattr(conditions, low_name), getattr(conditions, high_name)
        if low is not None or high is not None:
            parts.append(f"{label} {_bounds(low, high)}")
    return "; ".join(parts) or "any lead"


def _bounds(low: int | None, high: int | None) -> str:
    return f"at least {low}" if high is None else f"at most {high}" if low is None else f"{low} to {high}"


def matches(conditions: RoutingConditions, facts: RoutingFacts) -> bool:
    """Whether every condition that is set holds for these facts."""
    return all(check.held for check in explain(conditions, facts))


@dataclass(frozen=True)
class PassedOver:
    """A rule tried before the one that matched, and the first of its conditions that failed."""

    rule_id: int
    failed: Check


@dataclass(frozen=True)
class RuleMatch:
    """The rule that matched (None: none did), the conditions that held for it, and the rules passed over."""

    rule_id: int | None
    held: list[Check]
    passed_over: list[PassedOver]


def first_match(rules: Iterable[tuple[int, RoutingConditions]], facts: RoutingFacts) -> RuleMatch:
    """The first rule, in the given order, whose conditions all hold, with the reasons for each rule tried."""
    passed_over: list[PassedOver] = []
    for rule_id, conditions in rules:
        checks = explain(conditions, facts)
        failed = next((check for check in checks if not check.held), None)
        if failed is None:
            return RuleMatch(rule_id, checks, passed_over)
        passed_over.append(PassedOver(rule_id, failed))
    return RuleMatch(None, [], passed_over)
