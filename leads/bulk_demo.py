"""Set-based inserts for the synthetic bulk demo leads (``load_demo --leads N``, the benches).

A million leads through the ORM (a model instance, a compiled INSERT and a transaction per few thousand
rows) took half an hour. Here: prepared tuples in one transaction, by ``executemany`` (SQLite) or ``COPY``
(PostgreSQL), with ids handed out by the loader so a lead names its first touch in its own row (see
bench/README.md for how it compares with the floor's own ``seed.py``). Each bulk lead gets its first touch
and its stage changes (new → … → its stage). For a large load the tables' secondary indexes are dropped
first and built once at the end, which is faster than keeping them current row by row, and foreign keys are
checked once before the commit, not per row: on SQLite by ``foreign_key_check``, on PostgreSQL by adding
them again, validated, after the rows.

Indexes and keys are dropped and made again inside the load's own transaction (both databases roll DDL back):
a load that fails, or whose process is killed (the OOM killer, ``kill -9``, a container stop), leaves the
schema as it was, with none of its rows. The price, on PostgreSQL: the ACCESS EXCLUSIVE locks of those drops
are held until the load commits, on the three loaded tables and on the tables their foreign keys refer to
(users among them), so every other session that reads them waits for the whole load: fine for a demo loader,
not for a live site.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from leads.models import EnrichmentStatus, Lead, PipelineStep, Stage, StageChange, Touch

# Loads at least this big drop the secondary indexes while they insert.
DROP_INDEXES_FROM = 50_000
# How long a large load on PostgreSQL waits for its tables' locks before it gives up and rolls back.
LOCK_TIMEOUT = "5s"
# The stages a bulk lead walked through to reach its stage (each step one stage change).
STAGE_PATHS: dict[str, tuple[str, ...]] = {
    Stage.NEW: (),
    Stage.NURTURE: (Stage.NURTURE,),
    Stage.MQL: (Stage.MQL,),
    Stage.SQL: (Stage.MQL, Stage.SQL),
    Stage.REJECTED: (Stage.MQL, Stage.REJECTED),
    Stage.DISQUALIFIED: (Stage.DISQUALIFIED,),
}


@dataclass(frozen=True)
class BulkPeople:
    """What the demo module knows about its synthetic people: names, companies, titles and touches."""

    prefix: str
    stages: Sequence[str]
    touches: Sequence[tuple[str, str, str, str]]  # source, medium, campaign, channel
    companies: Sequence[Any]  # with .name, .domain, .country
    first_names: Sequence[str]
    last_names: Sequence[str]
    titles: Sequence[str]


class _Table:
    """An INSERT of some columns of ``model``; every other column gets its field's default, prepared once.

    Defaults that are plain text, numbers or NULL are written into the statement itself, so each row binds
    only the values given: binding is most of what an INSERT of a wide row costs.
    """

    def __init__(self, model: type[models.Model], given: Sequence[str]) -> None:
        # PostgreSQL loads by COPY, as the floor's seed does: one stream instead of a statement per row.
        self.copy = connection.vendor == "postgresql"
        fields = {f.attname: f for f in model._meta.concrete_fields if f.attname in given or not f.primary_key}
        quote = connection.ops.quote_name
        columns = [quote(_column(fields[name])) for name in given]
        values: list[str] = ["%s"] * len(given)
        self.defaults: tuple[Any, ...] = ()
        for name, field in fields.items():
            if name in given:
                continue
            default = field.get_db_prep_save(field.get_default(), connection)
            literal = None if self.copy else _literal(default)
            columns.append(quote(_column(field)))
            values.append("%s" if literal is None else literal)
            if literal is None:
                # Given values first, then the prepared defaults: a row is one tuple concatenation.
                self.defaults += (default,)
        table = quote(model._meta.db_table)
        self.types: list[int] = []
        if self.copy:
            # In binary, the server reads each value as it is stored instead of parsing its text (dates,
            # numbers); the stream must then name each column's type, read here from the table itself.
            self.sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE false")
                self.types = [column.type_code for column in cursor.description]
        else:
            self.sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})"

    def write(self, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        if self.copy:
            with cursor.cursor.copy(self.sql) as copy:
                copy.set_types(self.types)
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(self.sql, rows)

    def row(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        return values + self.defaults


def _column(field: models.Field[Any, Any]) -> str:
    assert field.column is not None, "a concrete field has a column"
    return field.column


def _literal(value: object) -> str | None:
    """``value`` as an SQL literal when it is NULL, a number or plain text; None for anything else."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return ("1" if value else "0") if connection.vendor == "sqlite" else ("TRUE" if value else "FALSE")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str) and "%" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


LEAD_COLUMNS = (
    "id", "email", "first_name", "last_name", "company_name", "company_domain", "job_title", "country", "stage",
    "stage_changed_at", "owner_id", "score", "fit_score", "engagement_score", "enrichment_status", "enriched_at",
    "routed_at", "pipeline_step", "pipeline_step_at", "pipeline_reason", "first_touch_id", "first_touch_at",
    "first_touch_source", "first_touch_medium", "first_touch_campaign", "first_touch_channel", "last_touch_at",
    "created_at", "updated_at",
)  # fmt: skip
TOUCH_COLUMNS = ("id", "lead_id", "occurred_at", "source", "medium", "campaign", "channel", "is_meaningful")
CHANGE_COLUMNS = ("lead_id", "from_stage", "to_stage", "changed_at", "reason")


def bulk_create_leads(
    *, people: BulkPeople, total: int, owner_ids: Sequence[int], now: datetime, batch_size: int = 50_000
) -> int:
    """Top the synthetic leads (emails starting with ``people.prefix``) up to ``total``; returns how many
    were added. Each comes with its first touch and its stage changes; owned stages get an owner."""
    existing = Lead.objects.filter(email__startswith=people.prefix).count()
    if existing >= total:
        return 0
    rng = random.Random(existing)
    tables = _Table(Lead, LEAD_COLUMNS), _Table(Touch, TOUCH_COLUMNS), _Table(StageChange, CHANGE_COLUMNS)
    # Inside a caller's transaction (the tests) a load runs as a small one: SQLite cannot switch its checks
    # there, and PostgreSQL refuses to alter a table that the caller's writes queued foreign-key checks on.
    large = total - existing >= DROP_INDEXES_FROM and not connection.in_atomic_block
    loaded = [model._meta.db_table for model in (Lead, Touch, StageChange)] if large else []
    with _bulk_session(large), transaction.atomic():
        if large and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # On a site in use, give up (and roll back) rather than queue every other session behind the load.
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        indexes = _drop_indexes(loaded)
        foreign_keys = _drop_foreign_keys(loaded)
        lead_id = (Lead.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        touch_id = (Touch.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        with connection.cursor() as cursor:
            for start in range(existing, total, batch_size):
                rows = _rows(people, range(start, min(start + batch_size, total)), rng=rng, tables=tables,
                             owner_ids=owner_ids, now=now, lead_id=lead_id, touch_id=touch_id)  # fmt: skip
                for table, batch in zip(tables, rows, strict=True):
                    table.write(cursor, batch)
                lead_id, touch_id = lead_id + len(rows[0]), touch_id + len(rows[1])
            # Ids were handed out here, so PostgreSQL's sequences must move past them.
            for sql in connection.ops.sequence_reset_sql(no_style(), [Lead, Touch]):
                cursor.execute(sql)
        if large:
            # What was not checked row by row (``_bulk_session``, ``_drop_foreign_keys``) is checked once,
            # before the commit.
            _add_foreign_keys(foreign_keys)
            connection.check_constraints(table_names=loaded)
            _create_indexes(indexes)
    return total - existing


def _rows(
    people: BulkPeople,
    numbers: range,
    *,
    rng: random.Random,
    tables: tuple[_Table, _Table, _Table],
    owner_ids: Sequence[int],
    now: datetime,
    lead_id: int,
    touch_id: int,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of the leads numbered ``numbers``. The loop runs a million times: what does not change from
    lead to lead (lengths, each stage's path, bound methods) is looked up once, before it."""
    lead_table, touch_table, change_table = tables
    # What adapt_datetimefield_value does, done once instead of per value: SQLite stores naive UTC text.
    if connection.vendor == "sqlite":
        now = now.astimezone(UTC).replace(tzinfo=None)
        adapt: Any = str
    else:
        adapt = _same
    reason = "Synthetic bulk lead (load_demo --leads)."
    plans = {stage: _stage_plan(stage, has_owners=bool(owner_ids)) for stage in set(people.stages)}
    stages, touch_kinds, companies = people.stages, people.touches, people.companies
    first_names, last_names, titles, prefix = people.first_names, people.last_names, people.titles, people.prefix
    n_stages, n_touches, n_companies = len(stages), len(touch_kinds), len(companies)
    n_first, n_last, n_titles, n_owners = len(first_names), len(last_names), len(titles), len(owner_ids)
    year_seconds, enriched, random_ = 365 * 24 * 3600, EnrichmentStatus.ENRICHED, rng.random
    leads: list[tuple[Any, ...]] = []
    touches: list[tuple[Any, ...]] = []
    changes: list[tuple[Any, ...]] = []
    add_lead, add_touch, add_change = leads.append, touches.append, changes.append
    lead_row, touch_row, change_row = lead_table.row, touch_table.row, change_table.row
    for offset, i in enumerate(numbers):
        company = companies[i % n_companies]
        # random() times n, not randrange(n): a third of the time, for a sequence as repeatable.
        stage = stages[int(random_() * n_stages)]
        created = now - timedelta(seconds=int(random_() * year_seconds))
        fit, engagement = int(random_() * 60), int(random_() * 50)
        source, medium, campaign, channel = touch_kinds[int(random_() * n_touches)]
        owned, step, steps = plans[stage]
        at = stage_at = adapt(created)
        this_lead = lead_id + offset
        from_stage: str = Stage.NEW
        for to_stage, after in steps:
            stage_at = adapt(created + after)
            add_change(change_row((this_lead, from_stage, to_stage, stage_at, "Demo data")))
            from_stage = to_stage
        add_lead(lead_row((
            this_lead, f"{prefix}{i}@{company.domain}", first_names[i % n_first],
            last_names[(i // n_first) % n_last], company.name, company.domain, titles[i % n_titles],
            company.country, stage, stage_at, owner_ids[i % n_owners] if owned else None, fit + engagement, fit,
            engagement, enriched, at, at, step, at, reason, touch_id + offset, at, source, medium, campaign, channel,
            at, at, stage_at,
        )))  # fmt: skip
        add_touch(touch_row((touch_id + offset, this_lead, at, source, medium, campaign, channel, True)))
    return leads, touches, changes


def _stage_plan(stage: str, *, has_owners: bool) -> tuple[bool, str, tuple[tuple[str, timedelta], ...]]:
    """Whether a bulk lead at ``stage`` has an owner, its pipeline step, and its stage changes (each stage
    with how long after the lead's creation it was reached: five hours a step)."""
    owned = has_owners and stage in (Stage.MQL, Stage.SQL, Stage.REJECTED)
    steps = tuple((to_stage, timedelta(hours=5 * n)) for n, to_stage in enumerate(STAGE_PATHS[stage], start=1))
    return owned, PipelineStep.ASSIGNED if owned else PipelineStep.PARKED, steps


def _same(value: datetime) -> datetime:
    return value


@contextlib.contextmanager
def _bulk_session(large: bool) -> Iterator[None]:
    """On SQLite, a large load's own connection checks foreign keys once at the end instead of per row, and
    does not wait for the disk; both are restored afterwards. PostgreSQL is left as it is.

    With row-by-row checks, every lead inserted while its first touch is not (the two name each other)
    made SQLite search each of the fourteen tables that refer to leads; ``bulk_create_leads`` runs SQLite's
    own ``foreign_key_check`` over the loaded tables before it commits instead, as ``loaddata`` does.
    Without waiting for the disk (``synchronous=OFF``) the load is at risk only from a power cut or an
    operating-system crash, which a demo load survives by being run again. Both are switched outside the
    load's transaction (SQLite cannot switch them inside one) and belong to this connection only, so a killed
    load leaves nothing switched behind.
    """
    if not large or connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
        cursor.execute("PRAGMA synchronous = OFF")
    try:
        with connection.constraint_checks_disabled():
            yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous = {int(synchronous)}")


def _drop_indexes(tables: Sequence[str]) -> list[str]:
    """Drops the secondary indexes of ``tables`` (every index but the primary key and the unique ones) and
    returns their definitions, for ``_create_indexes``. Only inside a transaction, which brings them back
    if it rolls back.

    Building an index once, by sorting its keys, is faster than keeping two dozen current row by row.
    """
    if not tables:
        return []
    assert connection.in_atomic_block, "dropped only where a rollback brings them back"
    placeholders = ", ".join(["%s"] * len(tables))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # Indexes without SQL back a UNIQUE or PRIMARY KEY in the table's own definition.
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                f" AND sql NOT LIKE 'CREATE UNIQUE%%' AND tbl_name IN ({placeholders})",
                tables,
            )
        else:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE indexdef NOT LIKE 'CREATE UNIQUE%%'"
                f" AND schemaname = current_schema() AND tablename IN ({placeholders})",
                tables,
            )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {_quote(name)}")
    return [definition for _, definition in indexes]


def _create_indexes(definitions: Sequence[str]) -> None:
    with connection.cursor() as cursor:
        if definitions and connection.vendor == "postgresql":
            # PostgreSQL sorts an index's keys in memory up to maintenance_work_mem (64MB by default), on disk
            # beyond it; SET LOCAL lasts for this transaction only.
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for definition in definitions:
            cursor.execute(definition)


def _drop_foreign_keys(tables: Sequence[str]) -> list[tuple[str, str, str]]:
    """On PostgreSQL, drops the foreign keys of ``tables`` and returns them (table, name, definition), for
    ``_add_foreign_keys``. Only inside a transaction, which brings them back if it rolls back. Elsewhere the
    keys stay.

    A foreign key checks each inserted row by a trigger, queued until the commit (Django makes them
    DEFERRABLE INITIALLY DEFERRED); added again after the rows, each is checked by one scan of its table
    instead, and a broken reference still fails the load.
    """
    if not tables or connection.vendor != "postgresql":
        return []
    assert connection.in_atomic_block, "dropped only where a rollback brings them back"
    placeholders = ", ".join(["%s"] * len(tables))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rel.relname, con.conname, pg_get_constraintdef(con.oid)"
            " FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid"
            " WHERE con.contype = 'f' AND rel.relnamespace = current_schema()::regnamespace"
            f" AND rel.relname IN ({placeholders}) ORDER BY rel.relname, con.conname",
            tables,
        )
        keys: list[tuple[str, str, str]] = cursor.fetchall()
        for table, name, _ in keys:
            cursor.execute(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_quote(name)}")
    return keys


def _add_foreign_keys(keys: Sequence[tuple[str, str, str]]) -> None:
    """Adds ``keys`` again; each checks every row of its table, but a key that was NOT VALID before the load
    says so in its definition, and stays unchecked."""
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}")


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)
