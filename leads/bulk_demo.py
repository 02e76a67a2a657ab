"""Set-based inserts for the synthetic bulk demo leads (``load_demo --leads N``, the benches).

A million leads through the ORM (a model instance, a compiled INSERT and a transaction per few thousand
rows) took half an hour. Here: prepared tuples in one transaction, by ``executemany`` (SQLite) or ``COPY``
(PostgreSQL), with ids handed out by the loader so a lead names its first touch in its own row (see
bench/README.md for how it compares with the floor's own ``seed.py``). Each bulk lead gets its first touch
and its stage changes (new → … → its stage). For a large load the tables' declared indexes are dropped
first and built once at the end, which is faster than keeping them current row by row; they are rebuilt
even when the load fails.
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
        if self.copy:
            self.sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        else:
            self.sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})"

    def write(self, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        if self.copy:
            with cursor.cursor.copy(self.sql) as copy:
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
    drop = total - existing >= DROP_INDEXES_FROM
    with _indexes_dropped((Lead, Touch, StageChange) if drop else ()), transaction.atomic():
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
    lead_table, touch_table, change_table = tables
    # What adapt_datetimefield_value does, done once instead of per value: SQLite stores naive UTC text.
    if connection.vendor == "sqlite":
        now = now.astimezone(UTC).replace(tzinfo=None)
        adapt: Any = str
    else:
        adapt = _same
    reason = "Synthetic bulk lead (load_demo --leads)."
    leads, touches, changes = [], [], []
    for offset, i in enumerate(numbers):
        company = people.companies[i % len(people.companies)]
        # random() times n, not randrange(n): a third of the time, for a sequence as repeatable.
        stage = people.stages[int(rng.random() * len(people.stages))]
        created = now - timedelta(seconds=int(rng.random() * 365 * 24 * 3600))
        owned = stage in (Stage.MQL, Stage.SQL, Stage.REJECTED) and bool(owner_ids)
        fit, engagement = int(rng.random() * 60), int(rng.random() * 50)
        source, medium, campaign, channel = people.touches[int(rng.random() * len(people.touches))]
        at = adapt(created)
        path = STAGE_PATHS[stage]
        stage_at = created + timedelta(hours=5 * len(path))
        leads.append(lead_table.row((
            lead_id + offset, f"{people.prefix}{i}@{company.domain}", people.first_names[i % len(people.first_names)],
            people.last_names[(i // len(people.first_names)) % len(people.last_names)], company.name, company.domain,
            people.titles[i % len(people.titles)], company.country, stage, adapt(stage_at),
            owner_ids[i % len(owner_ids)] if owned else None, fit + engagement, fit, engagement,
            EnrichmentStatus.ENRICHED, at, at, PipelineStep.ASSIGNED if owned else PipelineStep.PARKED, at, reason,
            touch_id + offset, at, source, medium, campaign, channel, at, at, adapt(stage_at),
        )))  # fmt: skip
        touches.append(touch_table.row((touch_id + offset, lead_id + offset, at, source, medium, campaign, channel,
                                        True)))  # fmt: skip
        from_stage: str = Stage.NEW
        for step, to_stage in enumerate(path, start=1):
            changed = adapt(created + timedelta(hours=5 * step))
            changes.append(change_table.row((lead_id + offset, from_stage, to_stage, changed, "Demo data")))
            from_stage = to_stage
    return leads, touches, changes


def _same(value: datetime) -> datetime:
    return value


@contextlib.contextmanager
def _indexes_dropped(models_: Sequence[type[models.Model]]) -> Iterator[None]:
    """Without the models' declared indexes (``Meta.indexes``) while the block runs; each is built again,
    from its own definition, after it.

    The foreign-key indexes stay: SQLite checks a deferred foreign key by searching the referencing
    table, which without its index is a scan per inserted row. Not inside a caller's transaction,
    whose rollback would otherwise leave the indexes dropped.
    """
    names = [index.name for model in models_ for index in model._meta.indexes]
    if not names or connection.in_atomic_block:
        yield
        return
    placeholders = ", ".join(["%s"] * len(names))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({placeholders})", names
            )
        else:
            cursor.execute(f"SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN ({placeholders})", names)
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _, definition in indexes:
                cursor.execute(definition)
