"""The weighted rotation inside a team, as pure functions (no ORM, no clock): stride scheduling.

Each rep has a place on the team's rotation clock where their next turn starts; the rep with the earliest
place gets the lead, and their place moves on by ``STRIDE / capacity_weight``, so a rep with weight 2
comes round twice as often as one with weight 1. A rep coming back from time off (or new to the team)
starts no earlier than the clock, so they do not get a burst of leads to "catch up". Over any run of
picks each rep's share stays within one turn of their weight's share (``handoff/tests/test_rotation.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Rotation-clock distance of one turn for a weight-1 rep; large, so dividing by a weight loses nothing that matters.
STRIDE = 2**40


@dataclass(frozen=True)
class Seat:
    """One rep's place in the rotation: ``key`` breaks ties (the earliest member first)."""

    key: int
    next_turn_at: int
    weight: int


@dataclass(frozen=True)
class Turn:
    """What taking a turn changes: the rep's next place and the team's clock."""

    next_turn_at: int
    clock: int


def turn_starts_at(seat: Seat, *, clock: int) -> int:
    return max(seat.next_turn_at, clock)


def pick(seats: Iterable[Seat], *, clock: int) -> Seat:
    """The seat whose turn starts first on the clock (ties: the lowest key). ``seats`` must not be empty."""
    return min(seats, key=lambda seat: (turn_starts_at(seat, clock=clock), seat.key))


def take_turn(seat: Seat, *, clock: int, is_rotation_pick: bool) -> Turn:
    """Move ``seat`` on by its stride. Only a rotation pick moves the clock; a manual assignment counts towards
    the rep's share but leaves the others where they are."""
    starts = turn_starts_at(seat, clock=clock)
    return Turn(next_turn_at=starts + STRIDE // seat.weight, clock=max(clock, starts) if is_rotation_pick else clock)
