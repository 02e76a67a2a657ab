"""Pure lead scoring: the rule kinds, their parameter checks and the evaluator.

No Django, no ORM and no clock in here: callers pass plain dataclasses and `now` (see STYLE.md,
"Scoring rules stay pluggable"). Adding a rule kind means one class decorated with
``@rule_kind("name")`` plus its tests; neither the model nor the admin changes.

This is the only implementation of the scoring policy: one lead (``score_lead``), bulk rescoring and
the what-if preview all call `score()`. Many leads are scored with one `RuleSet`, whose rules are
checked once instead of once per lead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import lru_cache, partial
from typing import Any, ClassVar, Literal, TypeVar

FIT = "fit"
ENGAGEMENT = "engagement"
DIMENSIONS: tuple[str, ...] = (FIT, ENGAGEMENT)

EFFECT_FLOOR = "floor"
EFFECT_DISQUALIFY = "disqualify"

STAGE_MQL = "mql"
STAGE_NURTURE = "nurture"
STAGE_DISQUALIFIED = "disqualified"

_SECONDS_PER_DAY = 86_400
MAX_WINDOW_DAYS = 36_500  # an activity window of a hundred years is already more than anyone means
_DOMAIN_RE = re.compile(r"^[\w-]+(\.[\w-]+)+$")
_COLLECTIONS = (list, tuple, set, frozenset)  # a multi-choice answer; a tuple, as isinstance is faster with one


# --- Plain data in and out ----------------------------------------------------------------------


@dataclass(frozen=True)
class LeadFacts:
    """What rules may look at, built from a lead by the service layer (no model instances in here)."""

    email_domain: str = ""
    domain_kind: str = ""  # "company" | "free_mail" | "disposable" | "invalid" | ""
    company_domain: str = ""
    industry: str = ""
    country: str = ""
    employee_count: int | None = None
    seniority: str = ""
    job_function: str = ""
    job_title: str = ""
    size_band: str = ""
    source: str = ""
    channel: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)  # custom form answers by key

    def value_of(self, name: str) -> Any:
        """The named fact: a declared field first, then the custom attributes; None when absent."""
        if name in _FACT_FIELD_SET:
            return getattr(self, name)
        return self.attributes.get(name)


# The declared facts a rule's "field" parameter can name; "attributes" is the bag, not a fact.
FACT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(LeadFacts) if f.name != "attributes")
_FACT_FIELD_SET = frozenset(FACT_FIELDS)


@dataclass(frozen=True)
class ActivityFact:
    """Something the lead did, and when."""

    kind: str
    occurred_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.occurred_at, "occurred_at")


@dataclass(frozen=True)
class RuleSpec:
    """One admin-edited rule as plain data. Disqualifiers ignore `points` and `cap`."""

    id: int | None
    name: str
    kind: str
    dimension: str  # FIT or ENGAGEMENT
    points: int
    cap: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoringModelSpec:
    """The settings of one scoring model that the evaluator and `classify_stage` need."""

    half_life_days: float
    mql_threshold: int
    nurture_threshold: int

    def __post_init__(self) -> None:
        # A zero half-life divides by zero; a negative one makes old activity count more than new.
        if not (math.isfinite(self.half_life_days) and self.half_life_days > 0):
            raise ValueError(f"half_life_days must be a positive number, got {self.half_life_days!r}.")
        # Otherwise a score could be both "MQL" and "below nurture" at once.
        if self.nurture_threshold > self.mql_threshold:
            raise ValueError("nurture_threshold must not be above mql_threshold.")


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule did to the score, and why, in words a marketer can read."""

    rule_id: int | None
    name: str
    kind: str
    dimension: str
    points: int  # after rounding and cap; always 0 for a disqualifier
    reason: str
    is_disqualifier: bool = False


@dataclass(frozen=True)
class ScoreResult:
    """The score of one lead. `breakdown` lists the rules that added points or disqualified."""

    total: int
    fit: int
    engagement: int
    disqualified: bool
    breakdown: tuple[RuleOutcome, ...]


# --- Rule kinds and their registry --------------------------------------------------------------

ParamType = Literal["str", "int", "float", "list", "choice"]


@dataclass(frozen=True)
class ParamField:
    """One parameter a rule kind takes: enough to build an admin form field from."""

    name: str
    type: ParamType
    required: bool = True
    help: str = ""
    choices: tuple[str, ...] = ()
    default: Any = None


class RuleKind:
    """Base class of the rule kinds. Subclass it (or one of the bases below) and register with `rule_kind`."""

    name: ClassVar[str] = ""  # set by @rule_kind
    label: ClassVar[str] = ""
    is_disqualifier: ClassVar[bool] = False
    dimensions: ClassVar[tuple[str, ...]] = DIMENSIONS  # the dimensions a rule of this kind may count in
    param_fields: ClassVar[tuple[ParamField, ...]] = ()

    def validate_params(self, params: Mapping[str, Any]) -> dict[str, str]:
        """Param name → message for every problem in `params`; empty when the kind can run with them."""
        if not isinstance(params, Mapping):
            return {"params": "Parameters must be a JSON object."}
        errors = _shape_errors(self.param_fields, params)
        # Cross-field checks may index and compare values, so they only see well-typed params.
        return errors or self.check_params(params)

    def check_params(self, params: Mapping[str, Any]) -> dict[str, str]:
        """Checks across params (min ≤ max, …); `params` has already passed the per-field checks."""
        return {}

    def lookback_days(self, params: Mapping[str, Any]) -> int:
        """How many days of activities a rule of this kind reads; 0 when it reads none."""
        return 0

    def evaluate(
        self,
        facts: LeadFacts,
        activities: Sequence[ActivityFact],
        params: Mapping[str, Any],
        rule: RuleSpec,
        now: datetime,
        half_life_days: float,
    ) -> float:
        """Raw points this rule gives the lead, before rounding and cap."""
        raise NotImplementedError

    def matches(
        self,
        facts: LeadFacts,
        activities: Sequence[ActivityFact],
        params: Mapping[str, Any],
        rule: RuleSpec,
        now: datetime,
        half_life_days: float,
    ) -> bool:
        """Whether the rule fires for this lead; disqualifiers override this, points kinds need not."""
        return self.evaluate(facts, activities, params, rule, now, half_life_days) != 0

    def explain(
        self,
        facts: LeadFacts,
        activities: Sequence[ActivityFact],
        params: Mapping[str, Any],
        rule: RuleSpec,
        now: datetime,
        half_life_days: float,
    ) -> str:
        """Why the rule fired, without the points ("Industry is Software"); only called when it did."""
        return self.label


KindT = TypeVar("KindT", bound=type[RuleKind])

RULE_KINDS: dict[str, RuleKind] = {}


def rule_kind(name: str) -> Callable[[KindT], KindT]:
    """Class decorator that registers one instance of a `RuleKind` subclass under `name`."""

    def register(cls: KindT) -> KindT:
        # A second kind under the same name would silently change how saved rules score.
        if name in RULE_KINDS:
            raise ValueError(f"Rule kind {name!r} is already registered.")
        cls.name = name
        RULE_KINDS[name] = cls()
        return cls

    return register


def kind_choices() -> list[tuple[str, str]]:
    """(name, label) pairs for the `kind` field's choices, sorted by label."""
    return sorted(((name, kind.label) for name, kind in RULE_KINDS.items()), key=lambda pair: pair[1])


class FactRuleKind(RuleKind):
    """A kind that looks at one fact (`params["field"]`) and gives the rule's points when `test` holds.

    What it gives depends on that fact's value alone, so a `RuleSet` remembers it per value: a subclass
    implements `test` and `describe` and reads nothing else.
    """

    def test(self, value: Any, params: Mapping[str, Any]) -> bool:
        """Whether the fact's value satisfies the rule."""
        raise NotImplementedError

    def describe(self, value: Any, params: Mapping[str, Any]) -> str:
        """The reason text for a value that passed `test`."""
        raise NotImplementedError

    def evaluate(
        self,
        facts: LeadFacts,
        activities: Sequence[ActivityFact],
        params: Mapping[str, Any],
        rule: RuleSpec,
        now: datetime,
        half_life_days: float,
    ) -> float:
        return float(rule.points) if self.test(facts.value_of(params["field"]), params) else 0.0

    def explain(
        self,
        facts: LeadFacts,
        activities: Sequence[ActivityFact],
        params: Mapping[str, Any],
        rule: RuleSpec,
        now: datetime,
        half_life_days: float,
    ) -> str:
        return self.describe(facts.value_of(params["field"]), params)


_FIELD = ParamField(
    "field",
    "str",
    help=f"A lead fact ({', '.join(FACT_FIELDS)}) or the key of a custom form answer.",
)


@rule_kind("attribute_equals")
class AttributeEquals(FactRuleKind):
    label = "Attribute equals"
    param_fields = (_FIELD, ParamField("value", "str", help="Compared case-insensitively."))

    def test(self, value: Any, params: Mapping[str, Any]) -> bool:
        return normalise_text(params["value"]) in _texts(value)

    def describe(self, value: Any, params: Mapping[str, Any]) -> str:
        return f"{field_label(params['field'])} is {_show(value)}"


@rule_kind("attribute_in")
class AttributeIn(FactRuleKind):
    label = "Attribute is one of"
    param_fields = (_FIELD, ParamField("values", "list", help="Compared case-insensitively, e.g. your ICP industries."))

    def test(self, value: Any, params: Mapping[str, Any]) -> bool:
        wanted = _normalised_set(tuple(params["values"]))
        return any(text in wanted for text in _texts(value))

    def describe(self, value: Any, params: Mapping[str, Any]) -> str:
        return f"{field_label(params['field'])} is {_show(value)}, one of the listed values"


@rule_kind("attribute_contains")
class AttributeContains(FactRuleKind):
    label = "Attribute contains"
    param_fields = (_FIELD, ParamField("substring", "str", help="Case-insensitive, e.g. 'marketing' in job title."))

    def test(self, value: Any, params: Mapping[str, Any]) -> bool:
        needle = normalise_text(params["substring"])
        return any(needle in text for text in _texts(value))

    def describe(self, value: Any, params: Mapping[str, Any]) -> str:
        return f"{field_label(params['field'])} {_show(value)!r} contains {params['substring']!r}"


@rule_kind("numeric_range")
class NumericRange(FactRuleKind):
    label = "Number in range"
    param_fields = (
        _FIELD,
        ParamField("min", "float", required=False, help="Inclusive; leave empty for no lower bound."),
        ParamField("max", "float", required=False, help="Inclusive; leave empty for no upper bound."),
    )

    def check_params(self, params: Mapping[str, Any]) -> dict[str, str]:
        low, high = params.get("min"), params.get("max")
        if low is None and high is None:
            return {"min": "Set a minimum, a maximum or both."}
        if low is not None and high is not None and low > high:
            return {"max": "The maximum must not be below the minimum."}
        return {}

    def test(self, value: Any, params: Mapping[str, Any]) -> bool:
        number = _as_number(value)
        if number is None:
            return False
        low, high = params.get("min"), params.get("max")
        return (low is None or number >= low) and (high is None or number <= high)

    def describe(self, value: Any, params: Mapping[str, Any]) -> str:
        low, high = params.get("min"), params.get("max")
        if low is not None and high is not None:
            bounds = f"between {format_bound(low)} and {format_bound(high)}"
        elif low is not None:
            bounds = f"at least {format_bound(low)}"
        else:
            bounds = f"at most {format_bound(high)}" if high is not None else "any value"
        return f"{field_label(params['field'])} is {_show(value)}, {bounds}"


@rule_kind("ordered_at_least")
class OrderedAtLeast(FactRuleKind):
    label = "Ranked value at least"
    param_fields = (
        _FIELD,
        ParamField("order", "list", help="All values from lowest to highest, e.g. student, manager, director, vp."),
        ParamField("minimum", "str", help="The lowest value in the order that matches."),
    )

    def check_params(self, params: Mapping[str, Any]) -> dict[str, str]:
        order = [normalise_text(v) for v in params["order"]]
        if len(set(order)) != len(order):
            return {"order": "Each value may appear only once."}
        if normalise_text(params["minimum"]) not in order:
            return {"minimum": "Must be one of the values in the order."}
        return {}

    def test(self, value: Any, params: Mapping[str, Any]) -> bool:
        ranks = _ranks(tuple(params["order"]))
        found = [ranks[text] for text in _texts(value) if text in ranks]
        return bool(found) and max(found) >= ranks[normalise_text(params["minimum"])]

    def describe(self, value: Any, params: Mapping[str, Any]) -> str:
        return f"{field_label(params['field'])} is {_show(value)}, at least {params['minimum']}"


@rule_kind("activity")
class ActivityCount(RuleKind):
    label = "Activity, decayed by age"
    dimensions = (ENGAGEMENT,)
    param_fields = (
        ParamField("activity_kind", "str", help="e.g. webinar_attended, pricing_page_view."),
        ParamField("within_days", "int", help="Older activities are ignored."),
    )

    def check_params(self, params: Mapping[str, Any]) -> dict[str, str]:
        if params["within_days"] < 1:
            return {"within_days": "Enter at least 1 day."}
        # Past about 2,700 years the window's start date is not a date any more.
        if params["within_days"] > MAX_WINDOW_DAYS:
            return {"within_days": f"Enter at most {MAX_WINDOW_DAYS:,} days."}
        return {}

    def lookback_days(self, params: Mapping[str, Any]) -> int:
        return params["within_days"]

    def evaluate(
        self,
        facts: LeadFacts,
        activities: Sequence[ActivityFact],
        params: Mapping[str, Any],
        rule: RuleSpec,
        now: datetime,
        half_life_days: float,
    ) -> float:
        ages = _ages_in_window(activities, params, now)
        return rule.points * sum(decay_factor(age, half_life_days) for age in ages)

    def explain(
        self,
        facts: LeadFacts,
        activities: Sequence[ActivityFact],
        params: Mapping[str, Any],
        rule: RuleSpec,
        now: datetime,
        half_life_days: float,
    ) -> str:
        count = len(_ages_in_window(activities, params, now))
        # The multiplication sign is what the product spec asks for in reasons, not a typo for "x".
        return f"{count} × {params['activity_kind']} in {params['within_days']} days, decayed"  # noqa: RUF001


def _ages_in_window(activities: Iterable[ActivityFact], params: Mapping[str, Any], now: datetime) -> list[float]:
    """Ages in days of the wanted activities inside the window.

    Future activities are skipped: they come from clock skew or bad imports, and would otherwise
    decay to more than the full points.
    """
    _require_aware(now, "now")
    if not activities:
        return []
    wanted = _normalised_kind(params["activity_kind"])
    ages = (
        (now - a.occurred_at).total_seconds() / _SECONDS_PER_DAY
        for a in activities
        if _normalised_kind(a.kind) == wanted
    )
    return [age for age in ages if 0 <= age <= params["within_days"]]


class Disqualifier(RuleKind):
    """A kind that gives no points but, when it matches, caps the score and may disqualify the lead.

    Subclasses implement `hit`, which returns the reason when the lead matches and "" otherwise.
    """

    is_disqualifier = True
    param_fields: ClassVar[tuple[ParamField, ...]] = (
        ParamField(
            "effect",
            "choice",
            choices=(EFFECT_FLOOR, EFFECT_DISQUALIFY),
            help="floor: cap the score at the floor score; disqualify: also mark the lead disqualified.",
        ),
        ParamField("floor_score", "int", required=False, default=0, help="The highest score left; default 0."),
    )

    def hit(self, facts: LeadFacts, params: Mapping[str, Any]) -> str:
        """Why the lead is disqualified, or "" when this disqualifier does not match it."""
        raise NotImplementedError

    def evaluate(
        self,
        facts: LeadFacts,
        activities: Sequence[ActivityFact],
        params: Mapping[str, Any],
        rule: RuleSpec,
        now: datetime,
        half_life_days: float,
    ) -> float:
        # The effect is applied by score() after all points are summed, so that it wins over them.
        return 0.0

    def matches(
        self,
        facts: LeadFacts,
        activities: Sequence[ActivityFact],
        params: Mapping[str, Any],
        rule: RuleSpec,
        now: datetime,
        half_life_days: float,
    ) -> bool:
        return bool(self.hit(facts, params))

    def explain(
        self,
        facts: LeadFacts,
        activities: Sequence[ActivityFact],
        params: Mapping[str, Any],
        rule: RuleSpec,
        now: datetime,
        half_life_days: float,
    ) -> str:
        return self.hit(facts, params)


@rule_kind("free_mail")
class FreeMail(Disqualifier):
    label = "Disqualifier: free-mail address"

    def hit(self, facts: LeadFacts, params: Mapping[str, Any]) -> str:
        if facts.domain_kind != "free_mail":
            return ""
        return f"Free-mail address ({facts.email_domain})" if facts.email_domain else "Free-mail address"


@rule_kind("competitor_domain")
class CompetitorDomain(Disqualifier):
    label = "Disqualifier: competitor domain"
    param_fields = (
        ParamField("domains", "list", help="e.g. rival.com; subdomains such as eu.rival.com match too."),
        *Disqualifier.param_fields,
    )

    def check_params(self, params: Mapping[str, Any]) -> dict[str, str]:
        bad = [d for d in params["domains"] if not _DOMAIN_RE.match(normalise_domain(d))]
        return {"domains": f"Not a domain: {', '.join(bad)}."} if bad else {}

    def hit(self, facts: LeadFacts, params: Mapping[str, Any]) -> str:
        listed = _normalised_domains(tuple(params["domains"]))
        candidates = dict.fromkeys(normalise_domain(d) for d in (facts.company_domain, facts.email_domain))
        # Compare whole labels, so "notrival.com" does not match "rival.com" but "eu.rival.com" does.
        found = [c for c in candidates if c and any(c == d or c.endswith("." + d) for d in listed)]
        return f"Competitor domain ({', '.join(found)})" if found else ""


@rule_kind("student")
class Student(Disqualifier):
    label = "Disqualifier: student"

    def hit(self, facts: LeadFacts, params: Mapping[str, Any]) -> str:
        return "Seniority is student" if normalise_text(facts.seniority) == "student" else ""


# --- Validation ---------------------------------------------------------------------------------


# A rule's points, either way; and the largest score a lead stores (an integer column on PostgreSQL).
MAX_RULE_POINTS = 1_000_000
SCORE_LIMIT = 2**31 - 1


def validate_rule(rule: RuleSpec) -> dict[str, str]:
    """Field → message for everything wrong with a rule; param errors are keyed "params.<name>"."""
    kind = RULE_KINDS.get(rule.kind)
    if kind is None:
        return {"kind": f"Unknown rule kind {rule.kind!r}; choose one of: {', '.join(sorted(RULE_KINDS))}."}
    errors: dict[str, str] = {}
    if rule.dimension not in kind.dimensions:
        errors["dimension"] = f"A {kind.label} rule counts towards: {', '.join(kind.dimensions)}."
    if not _is_int(rule.points):
        errors["points"] = "Enter a whole number."
    elif abs(rule.points) > MAX_RULE_POINTS:
        errors["points"] = f"Enter a whole number from {-MAX_RULE_POINTS:,} to {MAX_RULE_POINTS:,}."
    if rule.cap is not None and not (_is_int(rule.cap) and rule.cap >= 1):
        errors["cap"] = "Enter a positive whole number, or leave empty for no cap."
    if not isinstance(rule.params, Mapping):
        errors["params"] = "Parameters must be a JSON object."
    else:
        errors.update({f"params.{name}": msg for name, msg in kind.validate_params(rule.params).items()})
    return errors


def _shape_errors(param_fields: Sequence[ParamField], params: Mapping[str, Any]) -> dict[str, str]:
    """Unknown keys, missing required params and values of the wrong type."""
    known = {f.name for f in param_fields}
    errors = {
        str(key): f"Unknown parameter; this kind takes: {', '.join(sorted(known)) or 'nothing'}."
        for key in params
        if key not in known
    }
    for spec in param_fields:
        value = params.get(spec.name)
        # Forms send blank optional inputs as null or "", so both mean "not given".
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors[spec.name] = "This parameter is required."
            continue
        message = _type_error(value, spec)
        if message:
            errors[spec.name] = message
    return errors


def _type_error(value: Any, spec: ParamField) -> str:
    """Why `value` does not fit `spec`, or "" when it does."""
    if spec.type == "str":
        return "" if isinstance(value, str) else "Enter text."
    if spec.type == "int":
        return "" if _is_int(value) else "Enter a whole number."
    if spec.type == "float":
        return "" if _is_number(value) else "Enter a number."
    if spec.type == "choice":
        return "" if value in spec.choices else f"Choose one of: {', '.join(spec.choices)}."
    if not isinstance(value, list | tuple) or not value:
        return "Enter at least one value."
    if not all(isinstance(item, str) and item.strip() for item in value):
        return "Every entry must be non-empty text."
    return ""


# --- Scoring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSet:
    """Rules checked once, to score many leads with: `score` takes one in place of a list of rules.

    Building one raises ValueError for a rule that does not validate, because a half-applied rule set
    would store a misleading score. What a fact rule gives depends on one fact alone (`FactRuleKind`),
    and leads share industries, countries and sizes: a rule set keeps the outcome of each value it met,
    so a rescore asks each question once.
    """

    rules: tuple[RuleSpec, ...]
    kinds: tuple[RuleKind, ...] = field(init=False, repr=False, compare=False)
    _by_value: dict[tuple[int, type, Any], RuleOutcome | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", tuple(_checked_kind(rule) for rule in self.rules))

    def outcome_by_value(self, index: int, value: Any, compute: Callable[[], RuleOutcome | None]) -> RuleOutcome | None:
        """The outcome of fact rule `index` for a fact of `value`: `compute()` the first time it is met.

        Values are told apart by type as well (True, 1 and 1.0 are equal in Python, not to a rule);
        lists (not hashable) and floats (-0.0 equals 0.0 but shows differently) are computed each time.
        """
        if type(value) not in _REMEMBERED_TYPES:
            return compute()
        key = (index, type(value), value)
        if key in self._by_value:
            return self._by_value[key]
        outcome = compute()
        if len(self._by_value) < _MAX_REMEMBERED:
            self._by_value[key] = outcome
        return outcome


_REMEMBERED_TYPES = frozenset({str, int, bool, type(None)})
_MAX_REMEMBERED = 100_000  # outcomes a rule set keeps (a job-title rule can meet that many titles)


def score(
    facts: LeadFacts,
    activities: Iterable[ActivityFact],
    rules: RuleSet | Iterable[RuleSpec],
    model: ScoringModelSpec,
    now: datetime,
) -> ScoreResult:
    """Score one lead: sum each rule's rounded, capped points per dimension, then apply disqualifiers.

    A matching disqualifier caps the total at its floor score (the lowest floor wins) and, with the
    "disqualify" effect, marks the lead disqualified; fit, engagement and the breakdown are still
    reported. Raises ValueError for a naive `now` or a rule that does not validate (see `RuleSet`).
    """
    _require_aware(now, "now")
    rule_set = rules if isinstance(rules, RuleSet) else RuleSet(tuple(rules))
    activity_facts = tuple(activities)
    outcomes: list[RuleOutcome] = []
    disqualifiers: list[RuleSpec] = []
    half_life = model.half_life_days
    for index, (rule, kind) in enumerate(zip(rule_set.rules, rule_set.kinds, strict=True)):
        params = rule.params
        if kind.is_disqualifier:
            if kind.matches(facts, activity_facts, params, rule, now, half_life):
                disqualifiers.append(rule)
                reason = kind.explain(facts, activity_facts, params, rule, now, half_life)
                outcomes.append(_outcome(rule, kind, 0, f"{reason}: {effect_text(params)}"))
            continue
        args = (rule, kind, facts, activity_facts, now, half_life)
        if isinstance(kind, FactRuleKind):
            value = facts.value_of(params["field"])
            outcome = rule_set.outcome_by_value(index, value, partial(_points_outcome, *args))
        else:
            outcome = _points_outcome(*args)
        if outcome is not None:
            outcomes.append(outcome)
    return _result(outcomes, disqualifiers)


def _points_outcome(
    rule: RuleSpec,
    kind: RuleKind,
    facts: LeadFacts,
    activities: Sequence[ActivityFact],
    now: datetime,
    half_life_days: float,
) -> RuleOutcome | None:
    """What a points rule gives the lead (rounded, capped) and why; None when it gives nothing."""
    points = apply_cap(round_points(kind.evaluate(facts, activities, rule.params, rule, now, half_life_days)), rule.cap)
    if not points:
        return None
    reason = kind.explain(facts, activities, rule.params, rule, now, half_life_days)
    return _outcome(rule, kind, points, f"{reason} ({points:+d})")


def _checked_kind(rule: RuleSpec) -> RuleKind:
    errors = validate_rule(rule)
    if errors:
        details = "; ".join(f"{name}: {message}" for name, message in errors.items())
        raise ValueError(f"Rule {rule.name!r} (id {rule.id}) cannot be scored: {details}")
    return RULE_KINDS[rule.kind]


def _outcome(rule: RuleSpec, kind: RuleKind, points: int, reason: str) -> RuleOutcome:
    return RuleOutcome(
        rule_id=rule.id,
        name=rule.name,
        kind=rule.kind,
        dimension=rule.dimension,
        points=points,
        reason=reason,
        is_disqualifier=kind.is_disqualifier,
    )


def _result(outcomes: list[RuleOutcome], disqualifiers: list[RuleSpec]) -> ScoreResult:
    fit = sum(o.points for o in outcomes if o.dimension == FIT)
    engagement = sum(o.points for o in outcomes if o.dimension == ENGAGEMENT)
    total = fit + engagement
    if disqualifiers:
        # min(), not "=": a disqualifier must never raise a score that is already below the floor.
        total = min(total, *(floor_score(rule.params) for rule in disqualifiers))
    return ScoreResult(
        total=_storable(total),
        fit=_storable(fit),
        engagement=_storable(engagement),
        disqualified=any(rule.params["effect"] == EFFECT_DISQUALIFY for rule in disqualifiers),
        breakdown=tuple(outcomes),
    )


def _storable(points: int) -> int:
    """``points`` within what a lead's score column holds (PostgreSQL's integer): a floor score of minus a trillion,
    or points times a large count of activities, is as low or as high as a score goes, not an error."""
    return max(-SCORE_LIMIT, min(SCORE_LIMIT, points))


def classify_stage(total: int, disqualified: bool, model: ScoringModelSpec) -> str:
    """The stage a score points to: "disqualified", "mql", "nurture", or "" for no change.

    Disqualified comes first because disqualifiers win over any points.
    """
    if disqualified:
        return STAGE_DISQUALIFIED
    if total >= model.mql_threshold:
        return STAGE_MQL
    if total < model.nurture_threshold:
        return STAGE_NURTURE
    return ""


# --- Arithmetic ---------------------------------------------------------------------------------


def round_points(raw: float) -> int:
    """Round half away from zero (2.5 → 3, -2.5 → -3).

    Python's round() rounds half to even (2.5 → 2), which surprises marketers.
    """
    return int(math.copysign(math.floor(abs(raw) + 0.5), raw))


def apply_cap(points: int, cap: int | None) -> int:
    """Clamp points to [-cap, cap]: a positive rule never gives more than cap, a negative never takes more."""
    if cap is None:
        return points
    return max(-cap, min(cap, points))


def decay_factor(age_days: float, half_life_days: float) -> float:
    """The share of its points an activity keeps at `age_days`: 1 when new, 0.5 after one half-life."""
    if half_life_days <= 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days!r}.")
    return 0.5 ** (age_days / half_life_days)


# --- Small helpers ------------------------------------------------------------------------------


def _require_aware(moment: datetime, name: str) -> None:
    # Mixing naive and aware datetimes gives wrong ages or a TypeError deep inside a rule.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}.")


def _is_int(value: Any) -> bool:
    # bool is an int subclass, but True as a number of days is a form bug, not a value.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    # NaN and infinity fail every comparison in a surprising way, so they are not numbers here.
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _texts(value: Any) -> list[str]:
    """A fact as normalised strings; a multi-choice custom answer (a list) gives one per choice."""
    if not isinstance(value, _COLLECTIONS):
        text = "" if value is None else normalise_text(value)
        return [text] if text else []
    return [normalise_text(item) for item in value if item is not None and normalise_text(item)]


def _as_number(value: Any) -> float | None:
    """A fact as a number, accepting plain decimal text from custom answers; None when it is not one.

    Text must match `DECIMAL_TEXT` (ASCII digits, an optional exponent of two digits at most), not all
    that float() takes ("1_000", "inf", Arabic-Indic digits): a typed answer reads as the number a
    person meant, and the bounds keep every match finite.
    """
    if isinstance(value, str):
        return float(value) if DECIMAL_TEXT.fullmatch(value) else None
    if not _is_number(value):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int from JSON too large for a float
        return None
    return number if math.isfinite(number) else None


def _show(value: Any) -> str:
    if isinstance(value, _COLLECTIONS):
        return ", ".join(str(item) for item in value)
    return str(value)


# --- Text helpers -------------------------------------------------------------------------------

# Numeric text a rule may read as a number: ASCII whitespace around an ASCII decimal with at most 200
# digits on each side of the point and a two-digit exponent, so every match is a finite double.
DECIMAL_TEXT = re.compile(
    r"[ \t\n\r\f\v]*[+-]?(?:[0-9]{1,200}(?:\.[0-9]{0,200})?|\.[0-9]{1,200})(?:[eE][+-]?[0-9]{1,2})?[ \t\n\r\f\v]*"
)


def normalise_text(value: Any) -> str:
    """How rules compare text: str() of the value, trimmed and case-folded."""
    return str(value).strip().casefold()


def normalise_domain(domain: str) -> str:
    """How rules compare domains: trimmed, lower case, without a leading "@" or dots around it."""
    return domain.strip().lower().lstrip("@.").rstrip(".")


# A rule's parameters are the same for every lead it scores: normalised once, not once per lead.
@lru_cache(maxsize=1024)
def _normalised_set(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalise_text(value) for value in values)


@lru_cache(maxsize=1024)
def _ranks(order: tuple[str, ...]) -> dict[str, int]:
    return {normalise_text(value): rank for rank, value in enumerate(order)}


@lru_cache(maxsize=1024)
def _normalised_domains(domains: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalise_domain(domain) for domain in domains)


@lru_cache(maxsize=1024)
def _normalised_kind(kind: str) -> str:
    return normalise_text(kind)


@lru_cache(maxsize=1024)
def field_label(field_name: str) -> str:
    """A fact's name as reasons show it: "employee_count" → "Employee count"."""
    return field_name.replace("_", " ").strip().capitalize()


def format_bound(value: float) -> str:
    """A range bound as reasons show it."""
    # "200", not "200.0": bounds come back from JSON as floats even when typed as whole numbers.
    return str(int(value)) if float(value).is_integer() else str(value)


def effect_text(params: Mapping[str, Any]) -> str:
    """What a matching disqualifier does, as its reason ends: "disqualified, score capped at 0"."""
    capped = f"score capped at {floor_score(params)}"
    return f"disqualified, {capped}" if params["effect"] == EFFECT_DISQUALIFY else capped


def floor_score(params: Mapping[str, Any]) -> int:
    """The highest score a matching disqualifier leaves."""
    floor = params.get("floor_score")
    # Blank means "not given", as validation reads it (forms send blank optional inputs as "").
    return 0 if floor is None or (isinstance(floor, str) and not floor.strip()) else int(floor)
