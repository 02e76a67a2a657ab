"""SQLite with its writers queued on a file lock instead of in SQLite's sleeping busy handler.

SQLite has one writer at a time. A connection that finds the write lock taken runs SQLite's busy handler,
which sleeps 1, 2, 5, 10 … up to 100 ms between tries: under concurrent captures the lock is often free long
before a waiting worker wakes, so p95 grows far beyond what the writes cost. Here every transaction Django
opens (``atomic()``: ``BEGIN IMMEDIATE``) first takes an exclusive ``flock`` on a file beside the database,
retried every fraction of a millisecond to two milliseconds, and held until the transaction commits, rolls
back or its connection closes. A writer that cannot take it within the database's ``timeout`` option gets
"database is locked", as SQLite's own handler would say. Writes outside a transaction (autocommit) still go
through SQLite's handler.

Locks are per open file (``flock``), so two connections of one process (threads) queue like two processes; a
connection carried into a forked child opens its own lock file rather than release its parent's lock. An
in-memory database has no other writer and takes no lock.
"""

from __future__ import annotations

import fcntl
import functools
import os
import time
from collections.abc import Sequence
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

FIRST_PAUSE_SECONDS = 0.000_25
LONGEST_PAUSE_SECONDS = 0.002
DEFAULT_TIMEOUT_SECONDS = 5.0  # Python's sqlite3 default, when the database's OPTIONS give no ``timeout``


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    """Django's cursor, converting each query text from Django's "format" style to sqlite3's "qmark" style once.

    Django runs a regular expression over every query's text to turn its ``%s`` into ``?``: for the long INSERT of
    a lead, more time than SQLite took to store the row. The same texts come back (the ORM's and ``core.statements``
    compile to the same SQL each time), so the converted text is kept: the most recent 1,024 texts of up to 16 KB.
    """

    def convert_query(self, query: str, *, param_names: Sequence[str] | None = None) -> str:
        if param_names is None:
            # A long text is mostly an ``__in`` list of one length, seldom seen again: not kept.
            return _qmark_style(query) if len(query) <= _KEPT_QUERY_LENGTH else super().convert_query(query)
        return super().convert_query(query, param_names=param_names)


_KEPT_QUERY_LENGTH = 16_384


@functools.lru_cache(maxsize=1024)
def _qmark_style(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_lock: tuple[int, int] | None = None  # (process id, file descriptor)

    def create_cursor(self, name: str | None = None) -> SQLiteCursorWrapper:
        return self.connection.cursor(factory=SQLiteCursorWrapper)

    def _start_transaction_under_autocommit(self) -> None:
        self._take_writer_lock()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # not in django-stubs
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._release_writer_lock()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._release_writer_lock()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._release_writer_lock()
            if self._writer_lock is not None:
                pid, fd = self._writer_lock
                if pid == os.getpid():
                    os.close(fd)
                self._writer_lock = None

    def _take_writer_lock(self) -> None:
        if self.is_in_memory_db():
            return
        fd = self._lock_file()
        deadline = time.monotonic() + float(self.settings_dict["OPTIONS"].get("timeout", DEFAULT_TIMEOUT_SECONDS))
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked") from None
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)

    def _lock_file(self) -> int:
        if self._writer_lock is None or self._writer_lock[0] != os.getpid():
            path = f"{self.settings_dict['NAME']}-writer.lock"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._writer_lock = (os.getpid(), fd)
        return self._writer_lock[1]

    def _release_writer_lock(self) -> None:
        # A lock file inherited from a parent process is the parent's: unlocking it would release theirs.
        if self._writer_lock is not None and self._writer_lock[0] == os.getpid():
            fcntl.flock(self._writer_lock[1], fcntl.LOCK_UN)
