"""Keyset (cursor) pagination: pages of a list ordered by (a datetime, id) without OFFSET or COUNT.

A page is found by seeking past the last row of the previous one, so page 1,000 of a million-row list
costs what page 1 costs. The cursor is opaque to the browser: base64 of "<iso datetime>|<id>".
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

PAGE_SIZE = 50


@dataclass(frozen=True)
class KeysetPage:
    items: list[Any]
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def has_other_pages(self) -> bool:
        return self.next_cursor is not None or self.previous_cursor is not None


def encode_cursor(value: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{value.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (datetime, id) in ``cursor``, or None when it is missing or not one of ours."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, pk = raw.rsplit("|", 1)
        moment = datetime.fromisoformat(value)
        return (moment, int(pk)) if moment.tzinfo is not None else None
    except (binascii.Error, UnicodeDecodeError, ValueError):
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
    may follow relations (``sla__due_at``); it must not be NULL.
    """
    after_key, before_key = decode_cursor(after), decode_cursor(before)
    # Seeking forward means "greater" in ascending order and "less" in descending order.
    forward, backward = ("lt", "gt") if descending else ("gt", "lt")
    if before_key is not None:
        rows = list(
            _seek(queryset, field, before_key, backward).order_by(*_ordering(field, not descending))[: size + 1]
        )
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


def _seek(queryset: QuerySet, field: str, key: tuple[datetime, int], direction: str) -> QuerySet:
    value, pk = key
    # The first condition is a plain range the index can seek to; the second drops the ties.
    return queryset.filter(**{f"{field}__{direction}e": value}).filter(
        Q(**{f"{field}__{direction}": value}) | Q(**{f"pk__{direction}": pk})
    )


def _ordering(field: str, descending: bool) -> tuple[str, str]:
    return (f"-{field}", "-pk") if descending else (field, "pk")


def _cursor_of(item: Any, field: str) -> str:
    value = item
    for part in field.split("__"):
        value = getattr(value, part)
    return encode_cursor(value, item.pk)
