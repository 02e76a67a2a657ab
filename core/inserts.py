"""INSERTs built once per process and database connection, for the rows a capture writes on every submission.

``Model.save()`` builds its INSERT anew for each object: the column list from the model's fields, a placeholder
and a prepared value per column, then the SQL text. For the five rows of a capture that cost more CPU than the
database took to store them. ``insert(obj)`` writes the row ``obj.save(force_insert=True)`` writes: the same
columns and values (each field's ``pre_save``, so ``auto_now`` fields get their time, then ``get_db_prep_save``),
the primary key read back as Django's own INSERT reads it (``RETURNING`` where the database has it), and the same
``pre_save`` and ``post_save`` signals, so every receiver (reports' rollup marks, the audit trail) hears what it
heard before. The SQL text and the list of fields are what is built once.

Only for new objects whose primary key the database assigns, of a model with no parent model, no
``order_with_respect_to``, no database default or generated column and no field with its own placeholder (those
are refused when the INSERT is first built): anything else is written with ``save()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, CharField, DateField, DateTimeField, Field, Model, TextField
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Insert:
    sql: str
    # Each field with the types of value it stores as they are (``_plain_types``, and None where ``_passes_none``),
    # and whether an aware datetime needs only the database's adapter (``_adapts_aware_datetimes``).
    columns: tuple[tuple[Field[Any, Any], frozenset[type], bool], ...]
    # The columns read back (the primary key): attribute name, column and the converters the ORM applies to it.
    returning: tuple[tuple[str, Any, tuple[Callable[..., Any], ...]], ...]
    returning_params: tuple[Any, ...]
    pk_column: str


def insert(obj: M, *, using: str | None = None) -> M:
    """Store the new ``obj`` as ``obj.save(force_insert=True)`` would, signals included; returns it with its pk."""
    _insert(obj, using=using, unless_conflict_on=None)
    return obj


def insert_unless_conflict(obj: Model, *, unique_field: str, using: str | None = None) -> bool:
    """``insert(obj)``, unless a row with the same value of its ``unique_field`` is stored already: then nothing is.

    On PostgreSQL, ``INSERT … ON CONFLICT (that column) DO NOTHING``: where two transactions store the same person at
    once, the later one learns it lost without an error, so it needs no savepoint around the INSERT (two more round
    trips) to go on. Any other violation (another unique column, the primary key) still raises. Returns whether
    ``obj`` was stored; if not, it keeps no primary key and ``post_save`` is not sent, but ``pre_save`` was: what its
    receivers wrote stays, where a savepoint's rollback would have undone it.

    On other databases it is ``insert(obj)``, which raises ``IntegrityError`` on a conflict. SQLite's ``OR IGNORE``
    (and MySQL's ``INSERT IGNORE``) would also drop a row that breaks a NOT NULL or CHECK constraint; and on SQLite a
    transaction that looked for the row first holds the write lock from its BEGIN (IMMEDIATE), so nobody else can have
    stored it since.
    """
    using = using or router.db_for_write(type(obj), instance=obj)
    conflict = unique_field if connections[using].vendor == "postgresql" else None
    return _insert(obj, using=using, unless_conflict_on=conflict)


def _insert(obj: Model, *, using: str | None, unless_conflict_on: str | None) -> bool:
    model = type(obj)
    if obj.pk is not None:
        raise ValueError(f"insert() stores new objects only; this {model.__name__} has a primary key: use save().")
    # What save() checks first: no unsaved object behind a foreign key, and the key of one saved since it was set.
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    using = using or router.db_for_write(model, instance=obj)
    connection = connections[using]
    compiled = _compiled_for(model, connection, unless_conflict_on=unless_conflict_on)
    pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    adapt_datetime = connection.ops.adapt_datetimefield_value
    with transaction.mark_for_rollback_on_error(using=using):
        params: list[Any] = []
        for field, plain, adapts_datetimes in compiled.columns:
            value = getattr(obj, field.attname)
            if value.__class__ in plain:
                params.append(value)
            elif adapts_datetimes and value.__class__ is datetime and value.utcoffset() is not None:
                params.append(adapt_datetime(value))
            else:
                params.append(_prepared(field, field.pre_save(obj, True), connection))
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            if connection.features.can_return_columns_from_insert:
                row = connection.ops.fetch_returned_insert_columns(  # type: ignore[attr-defined]
                    cursor, compiled.returning_params
                )
            else:
                row = (connection.ops.last_insert_id(cursor, model._meta.db_table, compiled.pk_column),)
    if row is None:  # ON CONFLICT DO NOTHING did nothing
        return False
    for value, (attname, column, converters) in zip(row, compiled.returning, strict=True):
        for converter in converters:
            value = converter(value, column, connection)
        setattr(obj, attname, value)
    obj._state.db, obj._state.adding = using, False
    post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=using)
    return True


def _prepared(field: Field[Any, Any], value: Any, connection: BaseDatabaseWrapper) -> Any:
    if hasattr(value, "resolve_expression"):
        raise ValueError(f"insert() writes plain values; {field} holds an expression: use save().")
    return field.get_db_prep_save(value, connection=connection)


# The text fields' own methods between a value and its parameter: ``pre_save`` reads the attribute, and for a
# ``str`` (or None) ``get_db_prep_save`` gives it back unchanged, on every backend. BooleanField's does the same for a
# bool. A field class that overrides any of them (or a value of another type) goes through the field's methods.
_TEXT_METHODS: dict[str, set[Any]] = {
    "pre_save": {Field.pre_save},
    "get_db_prep_save": {Field.get_db_prep_save},
    "get_db_prep_value": {Field.get_db_prep_value},
    "get_prep_value": {CharField.get_prep_value, TextField.get_prep_value},
    "to_python": {CharField.to_python, TextField.to_python},
}
_BOOLEAN_METHODS: dict[str, set[Any]] = {
    **_TEXT_METHODS,
    "get_prep_value": {BooleanField.get_prep_value},
    "to_python": {BooleanField.to_python},
}


def _plain_types(field: Field[Any, Any]) -> frozenset[type]:
    """The value types ``field`` stores unchanged, which ``insert`` passes on without its methods (else none)."""
    kinds: tuple[tuple[dict[str, set[Any]], frozenset[type]], ...] = (
        (_TEXT_METHODS, frozenset({str, type(None)})),
        (_BOOLEAN_METHODS, frozenset({bool})),
    )
    for methods, types in kinds:
        if all(getattr(type(field), name) in allowed for name, allowed in methods.items()):
            return types
    return frozenset()


def _plain_pre_save(field: Field[Any, Any]) -> bool:
    """``field.pre_save`` reads the attribute as it is: the stock method, or a date field's without auto_now(_add)."""
    method = type(field).pre_save
    if method is Field.pre_save:
        return True
    return method in {DateField.pre_save, DateTimeField.pre_save} and not (
        getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    )


def _passes_none(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> bool:
    """None reaches the database as None through ``field``'s own methods (a nullable date, number or foreign key)."""
    return _plain_pre_save(field) and field.get_db_prep_save(None, connection=connection) is None


_DATETIME_METHODS: dict[str, Any] = {
    "get_db_prep_save": Field.get_db_prep_save,
    "get_db_prep_value": DateTimeField.get_db_prep_value,
    "get_prep_value": DateTimeField.get_prep_value,
    "to_python": DateTimeField.to_python,
}


def _adapts_aware_datetimes(field: Field[Any, Any]) -> bool:
    """An aware ``datetime`` goes through ``field``'s methods unchanged up to the database's own adapter.

    ``DateTimeField.get_prep_value`` changes only a naive datetime (made aware, with a warning), so for an aware one
    the field's methods come down to ``connection.ops.adapt_datetimefield_value``; a subclass overriding any of them
    goes through its methods.
    """
    return _plain_pre_save(field) and all(
        getattr(type(field), name) is method for name, method in _DATETIME_METHODS.items()
    )


def _compiled_for(model: type[Model], connection: BaseDatabaseWrapper, *, unless_conflict_on: str | None) -> _Insert:
    # Kept on the connection wrapper itself, as ``core.statements`` keeps its own: a cache beside the wrapper would keep
    # a finished thread's wrapper (and its open connection) alive as soon as anything compiled referred back to it.
    by_model: dict[tuple[type[Model], str | None], _Insert] = vars(connection).setdefault("_core_inserts", {})
    compiled = by_model.get((model, unless_conflict_on))
    if compiled is None:
        compiled = by_model[model, unless_conflict_on] = _compile(
            model, connection, unless_conflict_on=unless_conflict_on
        )
    return compiled


def _compile(model: type[Model], connection: BaseDatabaseWrapper, *, unless_conflict_on: str | None) -> _Insert:
    meta = model._meta
    if meta.parents or meta.proxy or meta.order_with_respect_to or meta.auto_field is None:
        raise ImproperlyConfigured(f"insert() cannot write {meta.label}: use save().")
    fields = tuple(field for field in meta.local_concrete_fields if field is not meta.auto_field)
    for field in fields:
        if field.generated or field.has_db_default() or hasattr(field, "get_placeholder"):
            raise ImproperlyConfigured(f"insert() cannot write {field}: use save().")
    returning_fields = meta.db_returning_fields
    if returning_fields != [meta.auto_field]:
        raise ImproperlyConfigured(f"insert() reads back only the primary key of {meta.label}: use save().")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"{connection.ops.insert_statement()} {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
    if unless_conflict_on is not None:
        # Written here: Django's own suffix for ignoring conflicts names no column, so it would ignore them all.
        target = meta.get_field(unless_conflict_on)
        if not (isinstance(target, Field) and target.unique and target.concrete):
            raise ImproperlyConfigured(f"insert_unless_conflict(): {meta.label}.{unless_conflict_on} is not unique.")
        sql = f"{sql} ON CONFLICT ({quote(str(target.column))}) DO NOTHING"
    returning_params: tuple[Any, ...] = ()
    if connection.features.can_return_columns_from_insert:
        returning_sql, returning_params = connection.ops.return_insert_columns(  # type: ignore[attr-defined]
            returning_fields
        )
        sql = f"{sql} {returning_sql}"
    returning = []
    for field in returning_fields:
        column = field.get_col(meta.db_table)
        converters = (*connection.ops.get_db_converters(column), *field.get_db_converters(connection))
        returning.append((field.attname, column, converters))
    return _Insert(
        sql=sql,
        columns=tuple(
            (
                field,
                _plain_types(field) | ({type(None)} if _passes_none(field, connection) else set()),
                _adapts_aware_datetimes(field),
            )
            for field in fields
        ),
        returning=tuple(returning),
        returning_params=tuple(returning_params),
        pk_column=str(meta.auto_field.column),
    )
