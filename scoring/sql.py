"""The rule kinds as ORM expressions over leads, keyed by the same names as ``rules.RULE_KINDS``.

Bulk rescoring and the what-if preview evaluate every lead in one statement instead of calling the
pure evaluator per lead. Each kind here must give exactly what its pure twin gives; a test per kind
(``tests/test_sql.py``) checks that, and another checks both registries name the same kinds.

A kind offers three expressions over one lead row:

- ``raw_points``: what the rule gives before rounding and cap (a fact rule: its points or 0; an
  activity rule: a correlated subquery summing the decayed points of the lead's activities);
- ``points``: the final whole points from ``raw_points`` (round half away from zero, then cap);
- ``reason``: the text of ``explain()``, evaluated only for the leads the rule fired for.

Disqualifiers offer ``matches`` instead of points. Reason texts come from the pure kinds where they
can (a fact kind's ``describe()`` is called with a marker that the lead's value replaces in SQL), so
the wording lives in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any, ClassVar

from django.db.models import Case, Expression, F, FloatField, Func, IntegerField, OuterRef, Q, Subquery, TextField, When
from django.db.models import Value as V
from django.db.models.functions import Cast, Coalesce, Floor, Greatest, Least, Power, Right, StrIndex
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual

from leads.models import Activity
from scoring import rules
from scoring.models import ClassifiedDomain
from scoring.sqlfuncs import (
    AgeSeconds,
    DecimalNumber,
    EmailDomain,
    Joined,
    JsonAnyItem,
    JsonNumber,
    JsonShown,
    Normalised,
    NormalisedDomain,
    NormalisedParam,
    py_repr,
)

# Stands for the lead's value in a reason text built by the pure kind; printable, so repr() keeps it.
_MARKER = "⟪value⟫"


@dataclass(frozen=True)
class SqlContext:
    """What every expression needs besides the rule: the instant scores are computed for."""

    now: datetime
    half_life_days: float


# --- Facts --------------------------------------------------------------------------------------


class FactSql:
    """One fact of ``rules.LeadFacts`` in SQL: test its text(s), show it, read it as a number."""

    def any_text(self, test: Callable[[Expression], Q]) -> Q:
        """Whether the fact's normalised text (any item, for a list answer) passes `test`."""
        raise NotImplementedError

    def shown(self) -> Expression:
        """``str()`` of the fact as reasons show it."""
        raise NotImplementedError

    def number(self) -> Expression:
        """The fact as a float, or NULL when it is not a number."""
        raise NotImplementedError


class ColumnFact(FactSql):
    def __init__(self, expression: Any, *, is_number: bool = False) -> None:
        self.expression = expression
        self.is_number = is_number

    def any_text(self, test: Callable[[Expression], Q]) -> Q:
        return test(Normalised(self.expression))

    def shown(self) -> Expression:
        return Cast(self.expression, TextField())

    def number(self) -> Expression:
        return Cast(self.expression, FloatField()) if self.is_number else DecimalNumber(self.expression)


class AnswerFact(FactSql):
    """A custom form answer by key, from the lead's JSON column."""

    def __init__(self, key: str) -> None:
        self.key = key

    def any_text(self, test: Callable[[Expression], Q]) -> Q:
        return Q(JsonAnyItem(F("custom_answers"), self.key, test))

    def shown(self) -> Expression:
        return JsonShown(F("custom_answers"), self.key)

    def number(self) -> Expression:
        return JsonNumber(F("custom_answers"), self.key)


def email_domain() -> Expression:
    return EmailDomain(F("email"))


def domain_kind() -> Expression:
    """The stored kind, or for an unenriched lead the kind of its email domain (``ClassifiedDomain``)."""
    classified = ClassifiedDomain.objects.filter(domain=EmailDomain(OuterRef("email"))).values("kind")[:1]
    return Case(
        When(~Q(email_domain_kind=""), then=F("email_domain_kind")),
        default=Coalesce(Subquery(classified), V("")),
        output_field=TextField(),
    )


_COLUMN_FACTS: dict[str, Callable[[], FactSql]] = {
    "email_domain": lambda: ColumnFact(email_domain()),
    "domain_kind": lambda: ColumnFact(domain_kind()),
    "employee_count": lambda: ColumnFact(F("employee_count"), is_number=True),
    "source": lambda: ColumnFact(F("first_touch_source")),
    "channel": lambda: ColumnFact(F("first_touch_channel")),
}


def fact_sql(name: str) -> FactSql:
    """The fact `name` as ``LeadFacts.value_of`` finds it: a declared fact first, then a custom answer."""
    if name in _COLUMN_FACTS:
        return _COLUMN_FACTS[name]()
    if name in rules.FACT_FIELDS:
        return ColumnFact(F(name))
    return AnswerFact(name)


def _equals(text: Expression, value: str) -> Q:
    return Q(Exact(text, NormalisedParam(value)))


def _one_of(text: Expression, values: Iterable[str]) -> Q:
    return reduce(or_, (_equals(text, value) for value in values))


def _templated(text: str, value: Expression) -> Expression:
    """A reason text with `_MARKER` (or its repr) replaced by the lead's value."""
    quoted = repr(_MARKER)
    if _MARKER not in text:  # a kind whose reason does not show the value
        return V(text)
    if quoted in text:
        before, after = text.split(quoted, 1)
        value = py_repr(value)
    else:
        before, after = text.split(_MARKER, 1)
    return Joined(before, value, after)


# --- Kinds --------------------------------------------------------------------------------------


class SqlKind:
    """The SQL version of one rule kind; subclasses are registered in `SQL_KINDS` under its name."""

    is_disqualifier: ClassVar[bool] = False

    def raw_points(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        raise NotImplementedError

    def points(self, raw: Expression, rule: rules.RuleSpec) -> Expression:
        """Whole points from `raw` (a column holding ``raw_points``): ``rules.round_points``, then the cap."""
        rounded = Case(
            When(Q(LessThan(raw, 0)), then=-Floor(-raw + V(0.5))),
            default=Floor(raw + V(0.5)),
            output_field=FloatField(),
        )
        if rule.cap is not None:
            rounded = Least(Greatest(rounded, V(float(-rule.cap))), V(float(rule.cap)))
        return Cast(rounded, IntegerField())

    def matches(self, rule: rules.RuleSpec, ctx: SqlContext) -> Q:
        raise NotImplementedError

    def reason(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        raise NotImplementedError


class FactSqlKind(SqlKind):
    """A kind built on ``rules.FactRuleKind``: the rule's capped points when its condition holds."""

    name: ClassVar[str] = ""

    def condition(self, fact: FactSql, params: Mapping[str, Any]) -> Q:
        raise NotImplementedError

    def raw_points(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        # The points are a constant here, so rounding and the cap are applied in Python.
        points = rules.apply_cap(rules.round_points(rule.points), rule.cap)
        condition = self.condition(fact_sql(rule.params["field"]), rule.params)
        return Case(When(condition, then=V(points)), default=V(0), output_field=IntegerField())

    def points(self, raw: Expression, rule: rules.RuleSpec) -> Expression:
        return raw

    def reason(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        kind = rules.RULE_KINDS[self.name]
        assert isinstance(kind, rules.FactRuleKind)
        return _templated(kind.describe(_MARKER, rule.params), fact_sql(rule.params["field"]).shown())


SQL_KINDS: dict[str, SqlKind] = {}


def sql_kind(name: str) -> Callable[[type[SqlKind]], type[SqlKind]]:
    """Register the SQL version of the rule kind `name`."""

    def register(cls: type[SqlKind]) -> type[SqlKind]:
        if name in SQL_KINDS:
            raise ValueError(f"SQL for rule kind {name!r} is already registered.")
        if issubclass(cls, FactSqlKind):
            cls.name = name
        SQL_KINDS[name] = cls()
        return cls

    return register


@sql_kind("attribute_equals")
class AttributeEqualsSql(FactSqlKind):
    def condition(self, fact: FactSql, params: Mapping[str, Any]) -> Q:
        return fact.any_text(lambda text: _equals(text, params["value"]))


@sql_kind("attribute_in")
class AttributeInSql(FactSqlKind):
    def condition(self, fact: FactSql, params: Mapping[str, Any]) -> Q:
        return fact.any_text(lambda text: _one_of(text, params["values"]))


@sql_kind("attribute_contains")
class AttributeContainsSql(FactSqlKind):
    def condition(self, fact: FactSql, params: Mapping[str, Any]) -> Q:
        return fact.any_text(lambda text: Q(GreaterThan(StrIndex(text, NormalisedParam(params["substring"])), 0)))


@sql_kind("numeric_range")
class NumericRangeSql(FactSqlKind):
    def condition(self, fact: FactSql, params: Mapping[str, Any]) -> Q:
        number = fact.number()
        low, high = params.get("min"), params.get("max")
        condition = Q()  # the kind's own checks make sure at least one bound is set
        if low is not None:
            condition &= Q(GreaterThanOrEqual(number, V(float(low))))
        if high is not None:
            condition &= Q(LessThanOrEqual(number, V(float(high))))
        return condition


@sql_kind("ordered_at_least")
class OrderedAtLeastSql(FactSqlKind):
    def condition(self, fact: FactSql, params: Mapping[str, Any]) -> Q:
        order = [rules.normalise_text(value) for value in params["order"]]
        lowest = order.index(rules.normalise_text(params["minimum"]))
        return fact.any_text(lambda text: _one_of(text, params["order"][lowest:]))


@sql_kind("activity")
class ActivitySql(SqlKind):
    """Points per occurrence in the window, each decayed by its age: a correlated subquery per lead."""

    def _occurrences(self, rule: rules.RuleSpec, ctx: SqlContext) -> Any:
        within = timedelta(days=rule.params["within_days"])
        return Activity.objects.filter(
            Exact(Normalised(F("kind")), NormalisedParam(rule.params["activity_kind"])),
            lead=OuterRef("pk"),
            occurred_at__gte=ctx.now - within,
            occurred_at__lte=ctx.now,
        ).order_by()

    def raw_points(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        # Same operations in the same order as the pure kind: seconds → days → / half-life → 0.5 ** x.
        age_days = AgeSeconds("occurred_at", now=ctx.now) / V(86400.0)
        decay = Power(V(0.5), age_days / V(float(ctx.half_life_days)))
        total = self._occurrences(rule, ctx).annotate(total=Func(decay, function="SUM")).values("total")
        return V(float(rule.points)) * Coalesce(Subquery(total), V(0.0), output_field=FloatField())

    def reason(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        count = self._occurrences(rule, ctx).annotate(n=Func(V(1), function="COUNT")).values("n")
        params = rule.params
        # The multiplication sign is what the product spec asks for in reasons, not a typo for "x".
        tail = f" × {params['activity_kind']} in {params['within_days']} days, decayed"  # noqa: RUF001
        return Joined(Subquery(count), tail)


class DisqualifierSql(SqlKind):
    is_disqualifier = True

    def raw_points(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        return V(0)

    def hit_reason(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        """The text of the pure kind's ``hit()`` for a lead it matches."""
        raise NotImplementedError

    def reason(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        effect = f": {rules.effect_text(rule.params)}"
        return Joined(self.hit_reason(rule, ctx), effect)


@sql_kind("free_mail")
class FreeMailSql(DisqualifierSql):
    def matches(self, rule: rules.RuleSpec, ctx: SqlContext) -> Q:
        return Q(Exact(domain_kind(), "free_mail"))

    def hit_reason(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        kind = rules.RULE_KINDS["free_mail"]
        assert isinstance(kind, rules.Disqualifier)
        with_domain = kind.hit(rules.LeadFacts(domain_kind="free_mail", email_domain=_MARKER), rule.params)
        without = kind.hit(rules.LeadFacts(domain_kind="free_mail"), rule.params)
        return Case(
            When(~Q(Exact(email_domain(), "")), then=_templated(with_domain, email_domain())),
            default=V(without),
            output_field=TextField(),
        )


@sql_kind("competitor_domain")
class CompetitorDomainSql(DisqualifierSql):
    def _listed(self, domain: Expression, rule: rules.RuleSpec) -> Q:
        """Whether `domain` (normalised) is a listed domain or a subdomain of one.

        "." + domain ends with "." + listed exactly when it is the listed domain or a subdomain
        (whole labels: "notrival.com" is not "rival.com"), and never for an empty domain.
        """
        listed = dict.fromkeys(rules.normalise_domain(d) for d in rule.params["domains"])
        dotted = Joined(".", domain)
        # Listed domains are normalised here in Python (they are ASCII in practice, so LOWER agrees).
        return reduce(or_, (Q(Exact(Right(dotted, len(d) + 1), V("." + d))) for d in listed))

    def matches(self, rule: rules.RuleSpec, ctx: SqlContext) -> Q:
        return self._listed(NormalisedDomain(F("company_domain")), rule) | self._listed(
            NormalisedDomain(email_domain()), rule
        )

    def hit_reason(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        company, email = NormalisedDomain(F("company_domain")), NormalisedDomain(email_domain())
        company_hit, email_hit = self._listed(company, rule), self._listed(email, rule)
        found = Case(
            When(company_hit & email_hit & ~Q(Exact(company, email)), then=Joined(company, ", ", email)),
            When(company_hit, then=company),
            default=email,
            output_field=TextField(),
        )
        return Joined("Competitor domain (", found, ")")


@sql_kind("student")
class StudentSql(DisqualifierSql):
    def matches(self, rule: rules.RuleSpec, ctx: SqlContext) -> Q:
        return _equals(Normalised(F("seniority")), "student")

    def hit_reason(self, rule: rules.RuleSpec, ctx: SqlContext) -> Expression:
        kind = rules.RULE_KINDS["student"]
        assert isinstance(kind, rules.Disqualifier)
        return V(kind.hit(rules.LeadFacts(seniority="student"), rule.params))
