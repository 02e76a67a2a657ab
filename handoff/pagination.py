"""Keyset (cursor) pagination: pages of a list ordered by (a column, a unique id) without OFFSET or COUNT.

A page is found by seeking past the last row of the previous one, so page 1,000 of a million-row list
costs what page 1 costs. The cursor is opaque to the browser: base64 of a small JSON list naming the
sort column, the type and value of the last row's key and its id. A cursor made for another sort (a link
kept across a change of sort) is ignored: the list starts from its first page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

PAGE_SIZE = 50

# The values a list may be ordered by: a moment, a number (a score) or a text (a company name).
SortKey = datetime | int | str


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


def decode_cursor(cursor: str | None, *, field: str) -> tuple[SortKey, int] | None:
    """The (value, id) in ``cursor`` if it is one of ours for ``field``, else None."""
    if not cursor:
        return None
    try:
        named, kind, raw, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return None
    if named != field or type(pk) is not int:
        return None
    return _key(kind, raw, pk)


def _key(kind: object, raw: object, pk: int) -> tuple[SortKey, int] | None:
    if kind == "datetime" and isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return None
        return (moment, pk) if moment.tzinfo is not None else None
    if (kind == "int" and type(raw) is int) or (kind == "str" and isinstance(raw, str)):
        return raw, pk
    return None


def keyset_page(
    queryset: QuerySet,
    *,
    field: str,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
    descending: bool = False,
) -> KeysetPage:
    """One page of ``queryset`` ordered by (``field``, id), after or before a cursor.

    Ascending unless ``descending``; either direction walks the same (…, ``field``, id) index. ``field``
    may follow relations (``sla__due_at``); it must not be NULL. The rows may be models or named rows
    (``values_list(..., named=True)``) that include "pk" and ``field``.
    """
    after_key, before_key = decode_cursor(after, field=field), decode_cursor(before, field=field)
    # Seeking forward means "greater" in ascending order and "less" in descending order.
    forward, backward = ("lt", "gt") if descending else ("gt", "lt")
    if before_key is not None:
        seek = _seek(queryset, field, before_key, backward)
        rows = list(seek.order_by(*_ordering(field, not descending))[: size + 1])
        has_more_before = len(rows) > size
        items = rows[:size][::-1]
        has_more_after = True
    else:
        if after_key is not None:
            queryset = _seek(queryset, field, after_key, forward)
        rows = list(queryset.order_by(*_ordering(field, descending))[: size + 1])
        items = rows[:size]
        has_more_after = len(rows) > size
        has_more_before = after_key is not None
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
