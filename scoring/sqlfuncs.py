"""SQL versions of the small helpers in ``scoring.rules``, for SQLite and PostgreSQL.

Each one must give what its Python twin gives, or a bulk rescore would score a lead differently from
``score_lead``; ``scoring/tests/test_sql.py`` checks them against each other.

- Text is compared trimmed and case-folded (``rules.normalise_text``). On SQLite, whose LOWER() folds
  only ASCII, the Python function itself is registered on every connection (``scoring.apps``), so
  both agree exactly. PostgreSQL uses LOWER(BTRIM(…)) over the same whitespace; it differs from
  Python's casefold() only for a few letters such as "ß" (casefold gives "ss").
- Ages are exact to the microsecond on both, so decay matches the pure evaluator to the last bit.
- Custom answers are read from the JSON column: a list answer counts as each of its items.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import BooleanField, Case, Expression, FloatField, Func, Q, TextField, Value, When
from django.db.models.functions import Cast, Coalesce, Replace, StrIndex
from django.db.models.lookups import Exact, GreaterThan

from scoring import rules

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DECIMAL = rules.DECIMAL_TEXT.pattern
_JSON_ALIAS = "scoring_j"


def register_sqlite_functions(sender: object, connection: Any, **kwargs: object) -> None:
    """Give each new SQLite connection the Python text helpers the SQL calls (a connection_created receiver)."""
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("scoring_norm", 1, _sqlite_norm, deterministic=True)
    raw.create_function("scoring_norm_domain", 1, _sqlite_norm_domain, deterministic=True)
    raw.create_function("scoring_show", 1, _sqlite_show, deterministic=True)


def _sqlite_norm(value: object) -> str | None:
    return None if value is None else rules.normalise_text(value)


def _sqlite_norm_domain(value: object) -> str | None:
    return None if value is None else rules.normalise_domain(str(value))


def _sqlite_show(value: object) -> str | None:
    # str() of a float is its shortest exact form, as json.dumps wrote it; SQLite's own text has 15 digits.
    return None if value is None else str(value)


class Normalised(Func):
    """``rules.normalise_text`` of a value (NULL stays NULL)."""

    arity = 1
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return super().as_sql(compiler, connection, function="scoring_norm", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        (expression,) = self.get_source_expressions()
        trimmed = Func(Cast(expression, TextField()), Value(rules.WHITESPACE), function="BTRIM")
        return Func(trimmed, function="LOWER", output_field=TextField()).as_sql(compiler, connection)


class NormalisedParam(Func):
    """A rule's parameter, normalised like the lead values it is compared with.

    SQLite gets it normalised in Python (the same function its connections call), so the constant is
    not folded again for every row; PostgreSQL folds LOWER(BTRIM(constant)) once per query.
    """

    arity = 1
    output_field = TextField()

    def __init__(self, value: str) -> None:
        super().__init__(Value(value))
        self.value = value

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return "%s", [rules.normalise_text(self.value)]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return Normalised(Value(self.value)).as_postgresql(compiler, connection)


class NormalisedDomain(Func):
    """``rules.normalise_domain`` of a value (NULL stays NULL)."""

    arity = 1
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return super().as_sql(compiler, connection, function="scoring_norm_domain", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        (expression,) = self.get_source_expressions()
        trimmed = Func(Cast(expression, TextField()), Value(rules.WHITESPACE), function="BTRIM")
        lowered = Func(trimmed, function="LOWER", output_field=TextField())
        no_prefix = Func(lowered, Value("@."), function="LTRIM", output_field=TextField())
        return Func(no_prefix, Value("."), function="RTRIM", output_field=TextField()).as_sql(compiler, connection)


class EmailDomain(Func):
    """``leads.normalise.email_domain``: the text after the last "@" of an address, "" without one."""

    arity = 1
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # RTRIM(x, every character of x but "@") leaves x up to and including its last "@".
        template = (
            "COALESCE(CASE WHEN INSTR(%(expressions)s, '@') > 0 THEN SUBSTR(%(expressions)s, "
            "LENGTH(RTRIM(%(expressions)s, REPLACE(%(expressions)s, '@', ''))) + 1) ELSE '' END, '')"
        )
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        template = (
            "COALESCE(CASE WHEN STRPOS(%(expressions)s, '@') > 0 "
            "THEN SUBSTRING(%(expressions)s FROM '[^@]*$') ELSE '' END, '')"
        )
        return super().as_sql(compiler, connection, template=template, **extra)


class AgeSeconds(Func):
    """Seconds from a datetime column to `now`, exact to the microsecond (as ``timedelta.total_seconds()``)."""

    arity = 1
    output_field = FloatField()

    def __init__(self, expression: Any, *, now: datetime) -> None:
        super().__init__(expression)
        self.now_micros = (now - _EPOCH) // timedelta(microseconds=1)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]": whole seconds from strftime, microseconds from the tail.
        (expression,) = self.get_source_expressions()
        sql, params = compiler.compile(expression)
        micros = (
            f"(CAST(strftime('%%s', {sql}) AS INTEGER) * 1000000 "
            f"+ COALESCE(CAST(NULLIF(SUBSTR({sql}, 21), '') AS INTEGER), 0))"
        )
        return f"((%s - {micros}) / 1000000.0)", [self.now_micros, *params, *params]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        (expression,) = self.get_source_expressions()
        sql, params = compiler.compile(expression)
        return f"CAST(%s::numeric / 1000000 - EXTRACT(EPOCH FROM {sql}) AS double precision)", [
            self.now_micros,
            *params,
        ]


class DecimalNumber(Func):
    """Text read as a number as ``rules._as_number`` reads it (``rules.DECIMAL_TEXT``); NULL otherwise."""

    arity = 1
    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        (expression,) = self.get_source_expressions()
        sql, params = compiler.compile(expression)
        # Django registers regexp() (Python's re.search) on every SQLite connection.
        return f"(CASE WHEN regexp(%s, {sql}) THEN CAST({sql} AS REAL) END)", [
            rf"^(?:{_DECIMAL})\Z",
            *params,
            *params,
        ]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        (expression,) = self.get_source_expressions()
        sql, params = compiler.compile(expression)
        return f"(CASE WHEN {sql} ~ %s THEN CAST({sql} AS double precision) END)", [
            *params,
            f"^(?:{_DECIMAL})$",
            *params,
        ]


class Joined(Func):
    """Text made of `parts` (NULL parts count as ""), joined with a flat ``a || b || c``.

    Django's Concat nests one function call per part, which overflows SQLite's parser stack for a
    breakdown of a dozen rules.
    """

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = TextField()

    def __init__(self, *parts: Any) -> None:
        flat: list[Any] = []
        for part in parts:
            # Splice a Joined part's own parts in: nesting is what SQLite's parser cannot take.
            flat.extend(part.get_source_expressions() if isinstance(part, Joined) else [_as_text(part)])
        super().__init__(*flat)


def _as_text(part: Any) -> Any:
    if isinstance(part, str):
        return Value(part)
    if isinstance(part, Value) and isinstance(part.value, str):
        return part
    if isinstance(part, NotNullText):
        return part.get_source_expressions()[0]
    return Coalesce(Cast(part, TextField()), Value(""), output_field=TextField())


class NotNullText(Func):
    """Marks a part of `Joined` that is text and never NULL, so it is joined as it is."""

    template = "%(expressions)s"
    arity = 1
    output_field = TextField()


class TrimTrailing(Func):
    """RTRIM(text, characters): the text without any of `characters` at its end."""

    function = "RTRIM"
    arity = 2
    output_field = TextField()


def py_repr(text: Expression) -> Expression:
    """Python's repr() of a string, as the "contains" kind quotes the value in its reason."""
    escaped = text
    for raw, shown in (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        escaped = Replace(escaped, Value(raw), Value(shown))
    has_single = GreaterThan(StrIndex(text, Value("'")), 0)
    has_double = GreaterThan(StrIndex(text, Value('"')), 0)
    return Case(
        When(Q(has_single) & ~Q(has_double), then=Joined('"', escaped, '"')),
        default=Joined("'", Replace(escaped, Value("'"), Value("\\'")), "'"),
        output_field=TextField(),
    )


# --- Custom answers (the JSON column) -----------------------------------------------------------


def _sqlite_path(key: str) -> str:
    # Keys are quoted, so dots and brackets in them are literal; rules reject double quotes in keys.
    return f'$."{key}"'


class _JsonElement(Expression):
    """One item of a custom answer inside the subqueries below (a scalar answer is one item)."""

    output_field = TextField()

    def __init__(self, *, shown: bool) -> None:
        super().__init__()
        self.shown = shown

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        j = _JSON_ALIAS
        if self.shown:  # str(item): Python spells booleans and None its own way
            return (
                f"(CASE {j}.type WHEN 'true' THEN 'True' WHEN 'false' THEN 'False' WHEN 'null' THEN 'None' "
                f"ELSE scoring_show({j}.value) END)",
                [],
            )
        return (
            f"(CASE {j}.type WHEN 'null' THEN NULL WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
            f"ELSE scoring_norm({j}.value) END)",
            [],
        )

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        e = f"{_JSON_ALIAS}.e"
        if self.shown:
            return (
                f"(CASE jsonb_typeof({e}) WHEN 'boolean' THEN (CASE WHEN {e} = 'true'::jsonb THEN 'True' "
                f"ELSE 'False' END) WHEN 'null' THEN 'None' WHEN 'string' THEN {e} #>> '{{}}' ELSE {e}::text END)",
                [],
            )
        return (
            f"(CASE jsonb_typeof({e}) WHEN 'null' THEN NULL WHEN 'string' THEN LOWER(BTRIM({e} #>> '{{}}', %s)) "
            f"ELSE LOWER(BTRIM({e}::text, %s)) END)",
            [rules.WHITESPACE, rules.WHITESPACE],
        )


def _pg_items(column_sql: str) -> str:
    """The items of the answer at key %s (three times): the array's elements, or the scalar alone."""
    return (
        f"jsonb_array_elements(CASE jsonb_typeof({column_sql} -> %s) WHEN 'array' THEN {column_sql} -> %s "
        f"ELSE jsonb_build_array({column_sql} -> %s) END)"
    )


class _JsonItems(Expression):
    """Base of the expressions over the items of one custom answer."""

    def __init__(self, column: Expression, key: str, *extra: Any) -> None:
        super().__init__()
        self.key = key
        self.sources: list[Any] = [column, *extra]

    def get_source_expressions(self) -> list[Any]:
        return self.sources

    def set_source_expressions(self, expressions: list[Any]) -> None:
        self.sources = list(expressions)

    def _compiled(self, compiler: Any) -> list[tuple[str, list[Any]]]:
        return [compiler.compile(expression) for expression in self.sources]


class JsonAnyItem(_JsonItems):
    """Whether any item of the custom answer `key`, normalised, passes `test`."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: Expression, key: str, test: Callable[[Expression], Q]) -> None:
        super().__init__(column, key, test(_JsonElement(shown=False)))

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        (column, column_params), (condition, condition_params) = self._compiled(compiler)
        sql = f"EXISTS (SELECT 1 FROM json_each({column}, %s) AS {_JSON_ALIAS} WHERE {condition})"
        return sql, [*column_params, _sqlite_path(self.key), *condition_params]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        (column, column_params), (condition, condition_params) = self._compiled(compiler)
        sql = f"EXISTS (SELECT 1 FROM {_pg_items(column)} AS {_JSON_ALIAS}(e) WHERE {condition})"
        return sql, [*[*column_params, self.key] * 3, *condition_params]


class JsonShown(_JsonItems):
    """``str()`` of the custom answer `key` as reasons show it: a list's items joined by ", "."""

    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        ((column, column_params),) = self._compiled(compiler)
        item, _ = _JsonElement(shown=True).as_sqlite(compiler, connection)
        sql = f"(SELECT group_concat({item}, ', ') FROM json_each({column}, %s) AS {_JSON_ALIAS})"
        return sql, [*column_params, _sqlite_path(self.key)]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        ((column, column_params),) = self._compiled(compiler)
        item, _ = _JsonElement(shown=True).as_postgresql(compiler, connection)
        sql = (
            f"(SELECT string_agg({item}, ', ' ORDER BY {_JSON_ALIAS}.i) "
            f"FROM {_pg_items(column)} WITH ORDINALITY AS {_JSON_ALIAS}(e, i))"
        )
        return sql, [*column_params, self.key] * 3


class JsonNumber(_JsonItems):
    """The custom answer `key` as a number (``rules._as_number``): a finite JSON number or decimal text."""

    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        ((column, column_params),) = self._compiled(compiler)
        path = _sqlite_path(self.key)
        value = f"json_extract({column}, %s)"
        sql = (
            f"(CASE json_type({column}, %s) "
            f"WHEN 'integer' THEN {value} "
            f"WHEN 'real' THEN (CASE WHEN ABS({value}) <= 1.7976931348623157e308 THEN {value} END) "
            f"WHEN 'text' THEN (CASE WHEN regexp(%s, {value}) THEN CAST({value} AS REAL) END) END)"
        )
        pattern = rf"^(?:{_DECIMAL})\Z"
        params = [*column_params, path]  # json_type
        params += [*column_params, path]  # integer
        params += [*column_params, path] * 2  # real
        params += [pattern, *column_params, path, *column_params, path]  # text
        return sql, params

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        ((column, column_params),) = self._compiled(compiler)
        number = f"CAST({column} -> %s AS numeric)"
        text = f"({column} ->> %s)"
        # Out-of-range numbers would raise on the cast; Python's json reads them as inf (no number) or 0.0.
        sql = (
            f"(CASE jsonb_typeof({column} -> %s) "
            f"WHEN 'number' THEN (CASE WHEN ABS({number}) > 1.7976931348623157e308 THEN NULL "
            f"WHEN ABS({number}) < 1e-307 THEN 0.0 ELSE CAST({number} AS double precision) END) "
            f"WHEN 'string' THEN (CASE WHEN {text} ~ %s THEN CAST({text} AS double precision) END) END)"
        )
        key = [*column_params, self.key]
        return sql, [*key, *key, *key, *key, *key, f"^(?:{_DECIMAL})$", *key]


def is_true(expression: Expression) -> Q:
    """A boolean expression as a filter condition."""
    return Q(Exact(expression, True))
