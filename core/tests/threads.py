"""Helpers for tests of what stays behind when a thread's request ends."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Callable
from typing import Any

from django.db import connections


def connection_outlives_thread(work: Callable[[], None]) -> bool:
    """Run ``work`` in a thread of its own, as runserver serves each request, and say whether that thread's database
    connection wrapper is still alive once the thread has ended (something it left behind refers to it)."""
    wrappers: list[weakref.ref[Any]] = []

    def request() -> None:
        work()
        wrappers.append(weakref.ref(connections["default"]))

    thread = threading.Thread(target=request)
    thread.start()
    thread.join()
    gc.collect()
    return wrappers[0]() is not None
