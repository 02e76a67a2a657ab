"""The weighted rotation inside a team, as pure functions (no ORM, no clock): stride scheduling.

Each rep has a place on the team's rotation clock where their next turn starts; the rep with the earliest
place gets the lead, and their place moves on by ``STRIDE / capacity_weight``, so a rep with weight 2
comes round twice as often as one with weight 1. A rep coming back from time off (or new to the team)
starts no earlier than the clock, so they do not get a burst of leads to "catch up". Over any run of
picks each rep's share stays within one turn of their weight's share (``handoff/tests/test_rotation.py``).

Current load counts too: each open lead a rep holds puts their turn back by one of their own strides, and
each breached one by ``BREACH_WEIGHT`` more, so a rep sitting on untouched or overdue leads is passed over
until the others carry as much per unit of weight. Reps whose load per weight is equal rotate exactly as
without load. ``standings`` says, for the reasons stored with an assignment, how each seat ranked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Rotation-clock distance of one turn for a weight-1 rep; large, so dividing by a weight loses nothing that matters.
STRIDE = 2**40
# A breached lead weighs this many open ones more: the rep is behind on it, not only holding it.
BREACH_WEIGHT = 2


@dataclass(frozen=True)
class Seat:
    """One rep's place in the rotation: ``key`` breaks ties (the earliest member first)."""

    key: int
    next_turn_at: int
    weight: int
    open_load: int = 0  # open assignments the rep holds now (breached ones included)
    breached_load: int = 0  # of those, how many breached their SLA


@dataclass(frozen=True)
class Turn:
    """What taking a turn changes: the rep's next place and the team's clock."""

    next_turn_at: int
    clock: int


def turn_starts_at(seat: Seat, *, clock: int) -> int:
    return max(seat.next_turn_at, clock)


def load_units(seat: Seat) -> int:
    """The rep's current load: each open lead counts one, each breached one ``BREACH_WEIGHT`` more."""
    return seat.open_load + BREACH_WEIGHT * seat.breached_load


def load_delay(seat: Seat) -> int:
    """How far the rep's load puts their turn back on the clock: one of their own strides per unit of load."""
    return load_units(seat) * STRIDE // seat.weight


def priority(seat: Seat, *, clock: int) -> int:
    """Where the seat's turn really starts: its place on the clock, put back by its load."""
    return turn_starts_at(seat, clock=clock) + load_delay(seat)


def pick(seats: Iterable[Seat], *, clock: int) -> Seat:
    """The seat whose load-weighted turn starts first (ties: the lowest key). ``seats`` must not be empty."""
    return min(seats, key=lambda seat: (priority(seat, clock=clock), seat.key))


@dataclass(frozen=True)
class Standing:
    """How one seat ranked in a pick, for the reasons kept with the assignment."""

    key: int
    rank: int  # 1 = picked
    turns_behind: float  # how many weight-1 strides after the winner its turn starts (0 for the winner)
    load_units: int  # also how many of its own strides its load put it back


def standings(seats: Iterable[Seat], *, clock: int) -> list[Standing]:
    """Every seat in the order ``pick`` would take them, with what put each where it is."""
    ordered = sorted(seats, key=lambda seat: (priority(seat, clock=clock), seat.key))
    if not ordered:
        return []
    first = priority(ordered[0], clock=clock)
    return [
        Standing(
            key=seat.key,
            rank=rank,
            turns_behind=round((priority(seat, clock=clock) - first) / STRIDE, 2),
            load_units=load_units(seat),
        )
        for rank, seat in enumerate(ordered, start=1)
    ]


def take_turn(seat: Seat, *, clock: int, is_rotation_pick: bool) -> Turn:
    """Move ``seat`` on by its stride. Only a rotation pick moves the clock; a manual assignment counts towards
    the rep's share but leaves the others where they are."""
    starts = turn_starts_at(seat, clock=clock)
    return Turn(next_turn_at=starts + STRIDE // seat.weight, clock=max(clock, starts) if is_rotation_pick else clock)
