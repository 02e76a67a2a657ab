"""A run's time budget is spent once its clock has moved the budget past the start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.budget import time_is_up_after

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BUDGET = timedelta(seconds=40)


class Clock:
    """A clock that shows what the test sets."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_time_is_up_once_the_budget_is_spent() -> None:
    clock = Clock(START)
    time_is_up = time_is_up_after(budget=BUDGET, clock=clock)

    clock.now = START + BUDGET

    assert time_is_up()


def test_the_time_is_not_up_before_the_budget_is_spent() -> None:
    clock = Clock(START)
    time_is_up = time_is_up_after(budget=BUDGET, clock=clock)

    clock.now = START + BUDGET - timedelta(microseconds=1)

    assert not time_is_up()


def test_the_budget_counts_from_the_start_given() -> None:
    clock = Clock(START + BUDGET)

    time_is_up = time_is_up_after(budget=BUDGET, clock=clock, started_at=START)

    assert time_is_up()


def test_the_time_is_never_up_without_a_budget() -> None:
    clock = Clock(START)
    time_is_up = time_is_up_after(budget=None, clock=clock)

    clock.now = START + timedelta(days=365)

    assert not time_is_up()


def test_the_time_is_never_up_without_a_clock() -> None:
    assert not time_is_up_after(budget=timedelta(0), clock=None)()
