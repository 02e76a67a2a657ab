"""Querysets compiled to SQL once per process and database connection, then run with new values.

Turning a queryset into SQL costs a page 0.2-0.4 ms a query here, more than running the small indexed queries
a page makes. A ``Statement`` keeps the ORM as the place a query is written (its joins, quoting and vendor
differences, its conversion of what comes back) and compiles it once: the builder is called with a stand-in for
each value that changes between runs (twice, with two sets of stand-ins), the parameters that follow the
stand-ins are the values' places, and each run puts the real values there::

    _SESSION = Statement(
        lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now).values_list("session_data"),
        key=str,
        now=datetime,
    )
    row = _SESSION.first(key=request_key, now=timezone.now())

Values are declared with their kind (``int``, ``str``, ``datetime``, ``date``) and must reach the SQL unchanged
by their lookup (exact, comparisons): a lookup that rewrites its value (``iexact``, ``contains``, ``year``) or
inlines it, and a value the query never uses, are refused when the statement compiles. Any other keyword of a
run is a shape: it is passed to the builder as it is and each distinct shape compiles once (which filters are
present, the sort, a list's length is not a shape: write those queries with ``values`` lists as raw SQL).

Rows come back as the queryset would give them: tuples (``values_list``, named or flat), dicts (``values``) or
model instances (a model queryset, ``select_related`` included), through the same converters (aware datetimes,
booleans, JSON). Each connection (each thread's) has its own compiled statements.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    NamedValuesListIterable,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.utils import create_namedtuple_class

# Shapes a statement keeps compiled per connection; past this, a statement whose shapes keep changing starts over.
MAX_SHAPES = 64

_KINDS = (int, str, datetime, date)


class Statement:
    """A queryset built by ``build(**values, **shape)``, compiled once per connection and shape (module docstring)."""

    def __init__(self, build: Callable[..., QuerySet[Any, Any]], /, **kinds: type) -> None:
        for name, kind in kinds.items():
            if kind not in _KINDS:
                raise ImproperlyConfigured(f"Statement value {name!r}: {kind!r} is not int, str, datetime or date.")
        self._build = build
        self._kinds = kinds

    def rows(self, *, using: str = DEFAULT_DB_ALIAS, **arguments: Any) -> list[Any]:
        """Every row, as the queryset would give them."""
        connection = connections[using]
        values = {name: arguments.pop(name) for name in self._kinds}
        compiled = self._compiled_for(connection, using=using, shape=arguments)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params(values))
            fetched = cursor.fetchall()
        return compiled.shape_rows(fetched)

    def first(self, *, using: str = DEFAULT_DB_ALIAS, **arguments: Any) -> Any | None:
        """The first row, or None; slice the queryset (``[:1]``) when only one can be wanted."""
        rows = self.rows(using=using, **arguments)
        return rows[0] if rows else None

    def _compiled_for(self, connection: BaseDatabaseWrapper, *, using: str, shape: dict[str, Any]) -> _Compiled:
        key = tuple(sorted(shape.items()))
        # Kept on the connection wrapper itself: what was compiled refers back to the wrapper, so a cache beside it
        # (a WeakKeyDictionary) would keep a finished thread's wrapper, and its open connection, alive for good.
        by_statement: dict[Statement, dict[Hashable, _Compiled]] = vars(connection).setdefault("_core_statements", {})
        by_shape = by_statement.setdefault(self, {})
        compiled = by_shape.get(key)
        if compiled is None:
            if len(by_shape) >= MAX_SHAPES:
                by_shape.clear()
            compiled = by_shape[key] = _compile(self._build, self._kinds, connection, using=using, shape=shape)
        return compiled


def fits_64_bits(value: int) -> bool:
    """Whether a database can take ``value`` as an integer (ids, scores: 64 bits at most); a larger one cannot be
    bound to a query, where the ORM answers a comparison with it by itself (an empty or a full result)."""
    return -(2**63) <= value < 2**63


@dataclass(frozen=True)
class _Slot:
    """Where a value goes among the compiled parameters, and how it is adapted for the database."""

    position: int
    name: str
    adapt: Callable[[Any], Any]


class _Compiled:
    def __init__(
        self,
        *,
        sql: str,
        params: tuple[Any, ...],
        slots: list[_Slot],
        shape_rows: Callable[[list[tuple[Any, ...]]], list[Any]],
    ) -> None:
        self.sql = sql
        self._params = params
        self._slots = slots
        self.shape_rows = shape_rows

    def params(self, values: dict[str, Any]) -> list[Any]:
        params = list(self._params)
        for slot in self._slots:
            params[slot.position] = slot.adapt(values[slot.name])
        return params


def _compile(
    build: Callable[..., QuerySet[Any, Any]],
    kinds: dict[str, type],
    connection: BaseDatabaseWrapper,
    *,
    using: str,
    shape: dict[str, Any],
) -> _Compiled:
    # Compiled twice, with two sets of stand-ins: a parameter that differs between the two is a value's place, one
    # that does not is the query's own constant (even one that happens to equal a stand-in).
    adapters = {name: _adapter(kind, connection) for name, kind in kinds.items()}
    compiled = []
    for stand_in_set in (0, 1):
        stand_ins = {name: _stand_in(kind, stand_in_set, index) for index, (name, kind) in enumerate(kinds.items())}
        queryset = build(**stand_ins, **shape)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        prepared = {name: adapters[name](value) for name, value in stand_ins.items()}
        compiled.append((queryset, compiler, sql, tuple(params), prepared))
    (queryset, compiler, sql, params, prepared), (_, _, other_sql, other_params, other_prepared) = compiled
    if sql != other_sql or len(params) != len(other_params):
        raise ImproperlyConfigured("A Statement value is written into the SQL itself: pass it as a shape.")
    slots = []
    for position, (param, other) in enumerate(zip(params, other_params, strict=True)):
        if _same(param, other):
            continue
        names = [name for name in kinds if _is(param, prepared[name]) and _is(other, other_prepared[name])]
        if not names:
            raise ImproperlyConfigured(
                f"Statement parameter {position} follows a value but is none of them: a lookup rewrites its value "
                "(iexact, contains, year...). Pass that value as a shape, or write the query as raw SQL."
            )
        name = names[0]
        # psycopg wraps an integer column's value in its own int type (Int4, Int2...): so is each run's.
        adapt = type(param) if kinds[name] is int else adapters[name]
        slots.append(_Slot(position=position, name=name, adapt=adapt))
    for name in kinds.keys() - {slot.name for slot in slots}:
        raise ImproperlyConfigured(f"Statement value {name!r} is not among the query's parameters.")
    return _Compiled(sql=sql, params=params, slots=slots, shape_rows=_row_shaper(queryset, compiler, using=using))


def _same(one: Any, other: Any) -> bool:
    # Typed: a 1 is not a True.
    return type(one) is type(other) and one == other


def _is(param: Any, prepared: Any) -> bool:
    """Whether a compiled parameter is this prepared stand-in (an int stand-in possibly in psycopg's int types)."""
    if type(prepared) is int:
        return isinstance(param, int) and not isinstance(param, bool) and int(param) == prepared
    return _same(param, prepared)


def _stand_in(kind: type, stand_in_set: int, index: int) -> Any:
    """A value of ``kind`` for the ``index``-th value of a statement, different in each of the two stand-in sets.

    Integers stay within every integer column's range (PostgreSQL's smallint included): out of it, Django turns a
    comparison into an empty or full result and the value never reaches the SQL.
    """
    offset = 1 + index + 100 * stand_in_set
    if kind is int:
        return 30_000 + offset
    if kind is str:
        # With what a LIKE would escape, so a lookup that escapes or wraps its value cannot pass it unchanged.
        return f"core.statements stand-in {offset} %_\\"
    if kind is datetime:
        return datetime(1111, 1, 1, tzinfo=UTC) + timedelta(microseconds=offset)
    return date(1111, 1, 1) + timedelta(days=offset)


def _adapter(kind: type, connection: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """How a value of ``kind`` is prepared for this database, as its model field would prepare it."""
    if kind is datetime:
        return connection.ops.adapt_datetimefield_value
    if kind is date:
        return connection.ops.adapt_datefield_value
    return kind


def _row_shaper(
    queryset: QuerySet[Any, Any], compiler: SQLCompiler, *, using: str
) -> Callable[[list[tuple[Any, ...]]], list[Any]]:
    """Turn fetched rows into what iterating ``queryset`` would give, converted as its compiler converts them."""
    fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
    converters = compiler.get_converters(fields)
    if compiler.has_composite_fields(fields):
        raise ImproperlyConfigured("Statement does not read composite primary keys.")

    def converted(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if not converters:
            return rows
        return [tuple(row) for row in compiler.apply_converters(rows, converters)]

    iterable = queryset._iterable_class
    query = queryset.query
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    if iterable is ModelIterable:
        return _model_shaper(queryset, compiler, converted, using=using)
    if iterable in (ValuesIterable, ValuesListIterable, NamedValuesListIterable) and queryset._fields:  # type: ignore[attr-defined]
        wanted = [*queryset._fields, *(name for name in query.annotation_select if name not in queryset._fields)]  # type: ignore[attr-defined]
        if wanted != names:
            raise ImproperlyConfigured("Statement reads values in the query's column order: name annotations last.")
    if iterable is ValuesIterable:
        return lambda rows: [dict(zip(names, row, strict=True)) for row in converted(rows)]
    if iterable is ValuesListIterable:
        return converted
    if iterable is NamedValuesListIterable:
        row_class = create_namedtuple_class(*names)
        return lambda rows: [row_class(*row) for row in converted(rows)]
    if iterable is FlatValuesListIterable:
        return lambda rows: [row[0] for row in converted(rows)]
    raise ImproperlyConfigured(f"Statement does not read {iterable.__name__} querysets.")


def _model_shaper(
    queryset: QuerySet[Any, Any],
    compiler: SQLCompiler,
    converted: Callable[[list[tuple[Any, ...]]], list[tuple[Any, ...]]],
    *,
    using: str,
) -> Callable[[list[tuple[Any, ...]]], list[Any]]:
    # What ModelIterable does for each row, with the per-query part worked out once.
    select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
    assert klass_info is not None
    model_class = klass_info["model"]
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    if queryset._known_related_objects:  # type: ignore[attr-defined]
        raise ImproperlyConfigured("Statement does not read through a related manager: start from the model's.")

    def shape(rows: list[tuple[Any, ...]]) -> list[Any]:
        # Populators hold the instance they filled last: a new set for each run.
        populators = get_related_populators(klass_info, select, using)  # type: ignore[call-arg]  # stubs: Django 6
        objects = []
        for row in converted(rows):
            obj = model_class.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in (annotation_col_map or {}).items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects

    return shape
