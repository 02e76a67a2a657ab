"""Per-batch loading: a loader runs once per batch and distinct arguments, and nothing outlives the batch."""

from __future__ import annotations

from core.batch import batch_scope, once_per_batch


class Counting:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def __call__(self, *args: object) -> tuple[object, ...]:
        self.calls.append(args)
        return args


def test_a_loader_runs_once_per_batch_for_each_distinct_argument() -> None:
    load = Counting()

    with batch_scope():
        results = [once_per_batch(load, team) for team in (1, 2, 1, 2, 1)]

    assert (load.calls, results) == ([(1,), (2,)], [(1,), (2,), (1,), (2,), (1,)])


def test_nothing_loaded_in_one_batch_is_seen_by_the_next() -> None:
    load = Counting()
    with batch_scope():
        once_per_batch(load, 1)

    with batch_scope():
        once_per_batch(load, 1)

    assert load.calls == [(1,), (1,)]


def test_outside_a_batch_every_call_loads() -> None:
    load = Counting()

    once_per_batch(load)
    once_per_batch(load)

    assert load.calls == [(), ()]
