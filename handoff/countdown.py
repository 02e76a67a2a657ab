"""What an SLA countdown shows at an instant: pure code over a `BusinessCalendar`, no ORM and no clock.

The server renders the first label; ``static/js/handoff/countdown.js`` keeps it ticking from the same
numbers (the business seconds left and the team's opening windows), so the two must agree on the wording:
"due in 3h 12m 05s", "paused — outside business hours", "breached 2h 05m ago in business hours", "SLA met".
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from handoff.calendar import BusinessCalendar

# How far ahead the browser gets the team's opening windows; the page reloads itself before they run out.
WINDOW_HORIZON = timedelta(hours=48)
# A breach older than this is labelled "breached over 30 days ago" instead of counting business time back.
OVERDUE_HORIZON = timedelta(days=30)
# Share of the target left below which a running clock turns amber, then red.
WARN_BELOW = 0.5
URGENT_BELOW = 0.25


@dataclass(frozen=True)
class SLAClock:
    """One countdown as rendered: a state, the business seconds left (negative once breached), and its label."""

    state: str  # running, paused, breached, overdue (breached long ago: the label no longer ticks), met, stopped
    urgency: str  # ok, warn, urgent, breached, paused, met, stopped (a CSS suffix)
    balance_seconds: int
    target_seconds: int
    is_open: bool
    label: str


@dataclass(frozen=True)
class ClockInput:
    """What a countdown is computed from: an SLA record's fields."""

    due_at: datetime
    target: timedelta
    met_at: datetime | None = None
    stopped_at: datetime | None = None


class BusinessTimeline:
    """Business time between any two instants of a fixed span, from a single walk over the calendar.

    A page of countdowns asks the same calendar dozens of times about overlapping spans; this walks it
    once and answers each question by bisection.
    """

    def __init__(self, calendar: BusinessCalendar, start: datetime, end: datetime) -> None:
        self._intervals = calendar.open_intervals(start, end)
        self._opens = [opens_at for opens_at, _ in self._intervals]
        self._before: list[timedelta] = []  # business time in the intervals before each one
        total = timedelta(0)
        for opens_at, closes_at in self._intervals:
            self._before.append(total)
            total += closes_at - opens_at

    def _elapsed_until(self, at: datetime) -> timedelta:
        index = bisect_right(self._opens, at) - 1
        if index < 0:
            return timedelta(0)
        opens_at, closes_at = self._intervals[index]
        return self._before[index] + (min(at, closes_at) - opens_at)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (both within the span); zero unless ``end`` is after ``start``."""
        return max(self._elapsed_until(end) - self._elapsed_until(start), timedelta(0))


def sla_clocks(*, calendar: BusinessCalendar, clocks: Sequence[ClockInput], now: datetime) -> list[SLAClock]:
    """The countdowns of several SLAs of one team as seen at ``now``, counted in the team's business time."""
    running = [clock for clock in clocks if clock.met_at is None and clock.stopped_at is None]
    is_open = calendar.is_open(now)
    timeline: BusinessTimeline | None = None
    if running:
        start = min(max(min(clock.due_at for clock in running), now - OVERDUE_HORIZON), now)
        timeline = BusinessTimeline(calendar, start, max(now, *(clock.due_at for clock in running)))
    return [_clock(clock, timeline=timeline, is_open=is_open, now=now) for clock in clocks]


def sla_clock(
    *,
    calendar: BusinessCalendar,
    due_at: datetime,
    target: timedelta,
    now: datetime,
    met_at: datetime | None = None,
    stopped_at: datetime | None = None,
) -> SLAClock:
    """The countdown of one SLA due at ``due_at`` as seen at ``now``, counted in the team's business time."""
    return sla_clocks(calendar=calendar, clocks=[ClockInput(due_at, target, met_at, stopped_at)], now=now)[0]


def _clock(clock: ClockInput, *, timeline: BusinessTimeline | None, is_open: bool, now: datetime) -> SLAClock:
    target_seconds = int(clock.target.total_seconds())
    if clock.met_at is not None:
        return SLAClock("met", "met", 0, target_seconds, True, "SLA met")
    if clock.stopped_at is not None or timeline is None:
        return SLAClock("stopped", "stopped", 0, target_seconds, False, "SLA stopped")
    if clock.due_at < now - OVERDUE_HORIZON:
        label = f"breached over {OVERDUE_HORIZON.days} days ago"
        return SLAClock("overdue", "breached", 0, target_seconds, is_open, label)
    if now >= clock.due_at:
        overdue = int(timeline.between(clock.due_at, now).total_seconds())
        return SLAClock("breached", "breached", -overdue, target_seconds, is_open, breached_label(overdue))
    balance = int(timeline.between(now, clock.due_at).total_seconds())
    if not is_open:
        label = f"paused — outside business hours · {format_duration(balance)} left"
        return SLAClock("paused", "paused", balance, target_seconds, False, label)
    share_left = balance / target_seconds if target_seconds else 0
    urgency = "urgent" if share_left < URGENT_BELOW else "warn" if share_left < WARN_BELOW else "ok"
    return SLAClock("running", urgency, balance, target_seconds, True, f"due in {format_duration(balance)}")


def format_duration(seconds: int) -> str:
    """Business seconds as "3h 12m 05s", "12m 05s" or "45s" (the countdown's running format)."""
    seconds = max(seconds, 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def breached_label(overdue_seconds: int) -> str:
    """ "breached 2h 05m ago in business hours": minutes are precise enough once the deadline has passed.

    The age counts the team's business time (a breach on Friday evening is "0m" old all weekend), so the
    label says so: managers read wall-clock ages otherwise.
    """
    minutes = max(overdue_seconds, 0) // 60
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"breached {hours}h {minutes:02d}m ago in business hours"
    if minutes:
        return f"breached {minutes}m ago in business hours"
    # Under a business minute: right at the deadline, or the team closed the moment it passed.
    return "breached"


def opening_windows(
    *, calendar: BusinessCalendar, now: datetime, horizon: timedelta = WINDOW_HORIZON
) -> list[list[int]]:
    """The team's opening intervals from ``now`` to ``now + horizon`` as [start, end] epoch milliseconds."""
    return [
        [int(opens_at.timestamp() * 1000), int(closes_at.timestamp() * 1000)]
        for opens_at, closes_at in calendar.open_intervals(now, now + horizon)
    ]
