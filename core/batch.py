"""Configuration read once per batch of work, not once per row.

The pipeline takes leads in batches; every lead of a batch needs the same scoring model, routing rules and
enrichment providers. Inside ``with batch_scope():`` a ``once_per_batch(load)`` call loads on first
use and returns the same value afterwards; outside a batch it simply loads. Nothing is kept between
batches, so an edit in admin is seen by the next batch (a few seconds at most), and nothing is shared
between processes: this is not a cache, only "don't ask the database the same question 50 times".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_loaded: ContextVar[dict[tuple[Callable[..., Any], tuple[Any, ...]], Any] | None] = ContextVar(
    "batch_loaded", default=None
)


@contextmanager
def batch_scope() -> Iterator[None]:
    token = _loaded.set({})
    try:
        yield
    finally:
        _loaded.reset(token)


def once_per_batch(load: Callable[..., T], *args: Any) -> T:
    """``load(*args)``, called once per batch: callers that pass the same function and arguments share its result.

    The arguments are the key (a team's calendar: ``once_per_batch(team_calendar, team)``), so they must be
    hashable, and equal arguments must mean the same answer (a model instance compares by primary key).
    """
    loaded = _loaded.get()
    if loaded is None:
        return load(*args)
    key = (load, args)
    if key not in loaded:
        loaded[key] = load(*args)
    return loaded[key]
