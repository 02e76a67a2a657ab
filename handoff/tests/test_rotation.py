"""The weighted rotation (handoff.rotation): pure stride scheduling, checked as properties."""

from collections import Counter
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from handoff.rotation import STRIDE, Seat, pick, standings, take_turn

weights = st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=6)


def run(seats: list[Seat], picks: int, clock: int = 0) -> tuple[Counter[int], list[Seat], int]:
    """Assign ``picks`` leads by rotation; returns how many each seat got, the seats after, and the clock."""
    got: Counter[int] = Counter()
    for _ in range(picks):
        chosen = pick(seats, clock=clock)
        turn = take_turn(chosen, clock=clock, is_rotation_pick=True)
        seats = [replace(s, next_turn_at=turn.next_turn_at) if s.key == chosen.key else s for s in seats]
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


# --- Load: open and breached assignments put a rep's turn back ------------------------------------------------

loads = st.integers(min_value=0, max_value=20)
places = st.integers(min_value=0, max_value=5 * STRIDE)


@st.composite
def seated_teams(draw: st.DrawFn) -> tuple[list[Seat], int]:
    """2-6 seats at any places with any load (breached within open), and a clock."""
    team = draw(st.lists(st.integers(min_value=1, max_value=5), min_size=2, max_size=6))
    seats = []
    for key, weight in enumerate(team):
        open_load = draw(loads)
        seats.append(Seat(key, draw(places), weight, open_load, draw(st.integers(0, open_load))))
    return seats, draw(places)


@given(seated_teams(), st.data(), st.integers(min_value=1, max_value=10), st.booleans())
def test_more_load_never_turns_a_rep_into_the_pick(
    team: tuple[list[Seat], int], data: st.DataObject, more: int, breached: bool
) -> None:
    seats, clock = team
    winner = pick(seats, clock=clock)
    other = data.draw(st.sampled_from([seat for seat in seats if seat.key != winner.key]))
    heavier = replace(
        other, open_load=other.open_load + more, breached_load=other.breached_load + (more if breached else 0)
    )

    after = pick([heavier if seat.key == other.key else seat for seat in seats], clock=clock)

    assert after.key == winner.key


@given(st.integers(min_value=1, max_value=5), st.integers(min_value=0, max_value=10), places)
def test_of_two_reps_alike_but_for_load_the_less_loaded_gets_the_lead(weight: int, load: int, clock: int) -> None:
    busy = Seat(key=1, next_turn_at=0, weight=weight, open_load=load + 1)
    free = Seat(key=2, next_turn_at=0, weight=weight, open_load=load)

    assert pick([busy, free], clock=clock).key == 2


def test_a_breached_lead_weighs_more_than_an_open_one() -> None:
    behind = Seat(key=1, next_turn_at=0, weight=1, open_load=1, breached_load=1)
    on_time = Seat(key=2, next_turn_at=0, weight=1, open_load=2)

    assert pick([behind, on_time], clock=0).key == 2


@given(weights, st.integers(min_value=0, max_value=5), st.integers(min_value=1, max_value=200))
def test_load_in_proportion_to_weight_leaves_the_shares_as_without_load(
    team: list[int], per_weight: int, picks: int
) -> None:
    loaded = [Seat(key=i, next_turn_at=0, weight=w, open_load=per_weight * w) for i, w in enumerate(team)]
    unloaded = [Seat(key=i, next_turn_at=0, weight=w) for i, w in enumerate(team)]

    assert run(loaded, picks)[0] == run(unloaded, picks)[0]


@given(weights, st.integers(min_value=1, max_value=200))
def test_reps_who_keep_every_lead_open_still_get_their_weights_share(team: list[int], picks: int) -> None:
    seats = [Seat(key=i, next_turn_at=0, weight=w) for i, w in enumerate(team)]
    clock, got = 0, Counter[int]()

    for _ in range(picks):
        chosen = pick(seats, clock=clock)
        turn = take_turn(chosen, clock=clock, is_rotation_pick=True)
        seats = [
            replace(s, next_turn_at=turn.next_turn_at, open_load=s.open_load + 1) if s.key == chosen.key else s
            for s in seats
        ]
        clock, got[chosen.key] = turn.clock, got[chosen.key] + 1

    for seat in seats:
        assert abs(got[seat.key] - picks * seat.weight / sum(team)) <= 1 + len(team)


def test_standings_rank_the_seats_as_pick_does_and_say_how_far_behind_each_is() -> None:
    seats = [Seat(key=1, next_turn_at=0, weight=1, open_load=2), Seat(key=2, next_turn_at=0, weight=2, open_load=1)]

    ranked = standings(seats, clock=0)

    assert [(s.key, s.rank, s.turns_behind, s.load_units) for s in ranked] == [(2, 1, 0.0, 1), (1, 2, 1.5, 2)]
