"""The weighted rotation (handoff.rotation): pure stride scheduling, checked as properties."""

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from handoff.rotation import STRIDE, Seat, pick, take_turn

weights = st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=6)


def run(seats: list[Seat], picks: int, clock: int = 0) -> tuple[Counter[int], list[Seat], int]:
    """Assign ``picks`` leads by rotation; returns how many each seat got, the seats after, and the clock."""
    got: Counter[int] = Counter()
    for _ in range(picks):
        chosen = pick(seats, clock=clock)
        turn = take_turn(chosen, clock=clock, is_rotation_pick=True)
        seats = [Seat(s.key, turn.next_turn_at, s.weight) if s.key == chosen.key else s for s in seats]
        clock, got[chosen.key] = turn.clock, got[chosen.key] + 1
    return got, seats, clock


@given(weights, st.integers(min_value=1, max_value=200))
def test_each_rep_gets_their_weights_share_within_one_turn(team: list[int], picks: int) -> None:
    seats = [Seat(key=i, next_turn_at=0, weight=w) for i, w in enumerate(team)]

    got, _, _ = run(seats, picks)

    for seat in seats:
        assert abs(got[seat.key] - picks * seat.weight / sum(team)) <= 1 + len(team)


@given(weights, st.integers(min_value=1, max_value=50))
def test_a_rep_back_from_time_off_gets_no_burst_of_leads(team: list[int], picks: int) -> None:
    seats = [Seat(key=i, next_turn_at=0, weight=w) for i, w in enumerate(team)]
    _, seats, clock = run(seats, picks)
    returning = Seat(key=99, next_turn_at=0, weight=1)  # their place is far behind the clock

    got, _, _ = run([*seats, returning], picks=len(team) + 1, clock=clock)

    assert got[99] <= 1


def test_ties_go_to_the_earliest_member() -> None:
    seats = [Seat(key=7, next_turn_at=0, weight=1), Seat(key=3, next_turn_at=0, weight=1)]

    assert pick(seats, clock=0).key == 3


def test_a_manual_assignment_moves_the_rep_on_but_not_the_clock() -> None:
    seat = Seat(key=1, next_turn_at=5, weight=2)

    turn = take_turn(seat, clock=10, is_rotation_pick=False)

    assert (turn.next_turn_at, turn.clock) == (10 + STRIDE // 2, 10)
