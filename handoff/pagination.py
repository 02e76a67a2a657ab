"""Keyset (cursor) pagination: pages of a list ordered by (a column, a unique id) without OFFSET or COUNT.

A page is found by seeking past the last row of the previous one, so page 1,000 of a million-row list
costs what page 1 costs. The cursor is opaque to the browser: base64 of a small JSON list naming the
sort column, the type and value of the last row's key and its id. A cursor the list cannot use is a stale
link and is ignored, so the list starts from its first page: one made for another sort (a link kept across a
change of sort), or one whose key is not of the type the sort's column holds (hand-edited), which the query
could not compare with the column.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

from django.db.models import Q, QuerySet

from core.statements import fits_64_bits

PAGE_SIZE = 50

# The values a list may be ordered by: a moment, a number (a score) or a text (a company name).
SortKey = datetime | int | str
# The type of the sort column's values, which a cursor's key must have: datetime, int or str.
KeyType = type[datetime] | type[int] | type[str]


@dataclass(frozen=True)
class KeysetPage:
    items: list[Any]
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def has_other_pages(self) -> bool:
        return self.next_cursor is not None or self.previous_cursor is not None


def encode_cursor(field: str, value: SortKey, pk: int) -> str:
    if isinstance(value, datetime):
        payload: list[object] = [field, "datetime", value.isoformat(), pk]
    else:
        payload = [field, type(value).__name__, value, pk]
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, field: str, key_type: KeyType) -> tuple[SortKey, int] | None:
    """The (value, id) in ``cursor`` if it is one of ours for ``field``, whose values are ``key_type``s, else None."""
    if not cursor:
        return None
    try:
        named, kind, raw, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return None
    if named != field or kind != key_type.__name__ or not _is_key_int(pk):
        return None
    return _key(kind, raw, pk)


def _key(kind: object, raw: object, pk: int) -> tuple[SortKey, int] | None:
    if kind == "datetime" and isinstance(raw, str):
        moment = utc_moment(raw)
        return (moment, pk) if moment is not None else None
    # No database text holds a NUL (PostgreSQL refuses one as a parameter).
    if (kind == "int" and _is_key_int(raw)) or (kind == "str" and isinstance(raw, str) and "\x00" not in raw):
        return raw, pk
    return None


def utc_moment(text: str) -> datetime | None:
    """The aware moment ISO 8601 ``text`` names, in UTC; None for another text, a naive time, or a moment near the
    ends of the calendar that has no UTC time (the database compares in UTC)."""
    try:
        moment = datetime.fromisoformat(text)
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


def _is_key_int(value: object) -> TypeGuard[int]:
    # Ours are ids and scores, which a database stores in 64 bits; a larger one could not be bound to the query.
    return type(value) is int and fits_64_bits(value)


def keyset_page(
    queryset: QuerySet,
    *,
    field: str,
    key_type: KeyType,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
    descending: bool = False,
) -> KeysetPage:
    """One page of ``queryset`` ordered by (``field``, id), after or before a cursor.

    Ascending unless ``descending``; either direction walks the same (…, ``field``, id) index. ``field``
    may follow relations (``sla__due_at``); it must not be NULL, and its values are ``key_type``s. The rows
    may be models or named rows (``values_list(..., named=True)``) that include "pk" and ``field``.
    """
    seek = page_seek(field=field, key_type=key_type, after=after, before=before)
    rows = list(keyset_rows(queryset, field=field, descending=descending, seek=seek, size=size))
    return page_of(rows, field=field, seek=seek, size=size)


@dataclass(frozen=True)
class Seek:
    """Where a page starts: after (``backward`` False) or before the row keyed (``value``, ``pk``)."""

    value: SortKey
    pk: int
    backward: bool

    @property
    def direction(self) -> str:
        return "before" if self.backward else "after"


def seek_of(direction: str | None, value: SortKey | None, pk: int | None) -> Seek | None:
    """The ``Seek`` a query builder is given in parts: its ``direction`` ("after", "before"; None for the first
    page), a ``Statement``'s shape, and its key's value and id, the statement's values."""
    if direction is None:
        return None
    assert value is not None and pk is not None, "a cursor's key"
    return Seek(value, pk, backward=direction == "before")


def page_seek(*, field: str, key_type: KeyType, after: str | None, before: str | None) -> Seek | None:
    """The page's start from its cursors (a "before" one wins); None for the first page or a cursor not ours.

    ``key_type``: the type of ``field``'s values, which a cursor's key must have to be compared with them.
    """
    before_key = decode_cursor(before, field=field, key_type=key_type)
    if before_key is not None:
        return Seek(*before_key, backward=True)
    after_key = decode_cursor(after, field=field, key_type=key_type)
    return Seek(*after_key, backward=False) if after_key is not None else None


def keyset_rows(
    queryset: QuerySet, *, field: str, descending: bool, seek: Seek | None, size: int = PAGE_SIZE
) -> QuerySet:
    """The query of a page's rows: ``size + 1`` of them from ``seek`` on, in walking order (``page_of``'s input).

    ``seek``'s value and id go into the query as they are, so a ``core.statements.Statement`` may build it with
    stand-ins for them and compile it once per direction.
    """
    # Seeking forward means "greater" in ascending order and "less" in descending order.
    forward, backward = ("lt", "gt") if descending else ("gt", "lt")
    if seek is None:
        return queryset.order_by(*_ordering(field, descending))[: size + 1]
    if seek.backward:
        seeking = _seek(queryset, field, (seek.value, seek.pk), backward)
        return seeking.order_by(*_ordering(field, not descending))[: size + 1]
    return _seek(queryset, field, (seek.value, seek.pk), forward).order_by(*_ordering(field, descending))[: size + 1]


def page_of(rows: list[Any], *, field: str, seek: Seek | None, size: int = PAGE_SIZE) -> KeysetPage:
    """The page of ``rows`` read by ``keyset_rows`` (one more than a page when there are more), with its cursors."""
    if seek is not None and seek.backward:
        items = rows[:size][::-1]
        has_more_before, has_more_after = len(rows) > size, True
    else:
        items = rows[:size]
        has_more_before, has_more_after = seek is not None, len(rows) > size
    return KeysetPage(
        items=items,
        next_cursor=_cursor_of(items[-1], field) if items and has_more_after else None,
        previous_cursor=_cursor_of(items[0], field) if items and has_more_before else None,
    )


def _seek(queryset: QuerySet, field: str, key: tuple[SortKey, int], direction: str) -> QuerySet:
    value, pk = key
    # The first condition is a plain range the index can seek to; the second drops the ties.
    return queryset.filter(**{f"{field}__{direction}e": value}).filter(
        Q(**{f"{field}__{direction}": value}) | Q(**{f"pk__{direction}": pk})
    )


def _ordering(field: str, descending: bool) -> tuple[str, str]:
    return (f"-{field}", "-pk") if descending else (field, "pk")


def _cursor_of(item: Any, field: str) -> str:
    return encode_cursor(field, _value(item, field), item.pk)


def _value(item: Any, path: str) -> Any:
    # Named rows from ``values_list(..., named=True)`` carry "sla__due_at" as one attribute; models follow
    # the relation one attribute at a time.
    if hasattr(item, path):
        return getattr(item, path)
    value = item
    for part in path.split("__"):
        value = getattr(value, part)
    return value
