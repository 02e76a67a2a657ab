"""SQLite writers queue on a file lock taken before ``BEGIN IMMEDIATE`` and released at commit, rollback or close."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from core.backends.sqlite3.base import DatabaseWrapper


@pytest.fixture
def database(tmp_path: Path, django_db_blocker: pytest.FixtureRequest) -> Iterator[Path]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        yield tmp_path / "writers.sqlite3"


def open_connection(path: Path, *, timeout: float = 20) -> DatabaseWrapper:
    options = {"transaction_mode": "IMMEDIATE", "timeout": timeout}
    settings = {"ENGINE": "core.backends.sqlite3", "NAME": str(path), "OPTIONS": options}
    connection = ConnectionHandler({"default": settings})["default"]
    assert isinstance(connection, DatabaseWrapper)
    return connection


def begin(connection: DatabaseWrapper) -> None:
    """What ``atomic()`` does on SQLite when it opens the outermost block."""
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def end(connection: DatabaseWrapper, *, commit: bool) -> None:
    connection.commit() if commit else connection.rollback()
    connection.set_autocommit(True)


def lock_is_free(path: Path) -> bool:
    fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_an_open_transaction_holds_the_writer_lock(database: Path) -> None:
    connection = open_connection(database)
    begin(connection)

    assert not lock_is_free(database)
    end(connection, commit=True)
    connection.close()


@pytest.mark.parametrize("commit", [True, False], ids=["commit", "rollback"])
def test_the_writer_lock_is_released_when_the_transaction_ends(database: Path, commit: bool) -> None:
    connection = open_connection(database)
    begin(connection)
    connection.cursor().execute("CREATE TABLE IF NOT EXISTS t (x integer)")

    end(connection, commit=commit)

    assert lock_is_free(database)
    connection.close()


def test_closing_a_connection_inside_a_transaction_releases_the_writer_lock(database: Path) -> None:
    connection = open_connection(database)
    begin(connection)

    connection.close()

    assert lock_is_free(database)


def test_a_second_writer_begins_only_after_the_first_commits_and_sees_its_row(database: Path) -> None:
    first = open_connection(database)
    first.cursor().execute("CREATE TABLE t (x integer)")
    begin(first)
    first.cursor().execute("INSERT INTO t VALUES (1)")
    began = threading.Event()
    seen: list[int] = []

    def write_second() -> None:
        second = open_connection(database)  # a connection belongs to the thread that made it
        begin(second)
        began.set()
        seen.append(second.cursor().execute("SELECT COUNT(*) FROM t").fetchone()[0])
        end(second, commit=True)
        second.close()

    thread = threading.Thread(target=write_second, daemon=True)
    thread.start()
    assert not began.wait(timeout=0.3), "the second writer began while the first held the lock"
    end(first, commit=True)
    thread.join(timeout=10)

    assert began.is_set() and seen == [1]
    first.close()


def test_an_in_memory_database_takes_no_writer_lock(tmp_path: Path, django_db_blocker: pytest.FixtureRequest) -> None:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        connection = open_connection(Path(":memory:"))
        begin(connection)
        assert connection._writer_lock is None
        end(connection, commit=True)


def test_a_writer_that_cannot_take_the_lock_within_the_timeout_is_told_the_database_is_locked(database: Path) -> None:
    holder = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    connection = open_connection(database, timeout=0.05)
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            begin(connection)
    finally:
        os.close(holder)
    connection.close()


def test_a_forked_child_does_not_release_its_parents_lock(database: Path) -> None:
    connection = open_connection(database)
    begin(connection)
    child = os.fork()
    if child == 0:  # the child closes the connection it inherited, as django-q's workers do
        try:
            connection._release_writer_lock()
            connection._writer_lock = None
        finally:
            os._exit(0)
    os.waitpid(child, 0)

    assert not lock_is_free(database)
    end(connection, commit=True)
    connection.close()
