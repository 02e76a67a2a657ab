"""Spam defence of the public forms: a honeypot, a time trap and a per-IP rate limit.

None of them throws a submission away: a suspect one is stored, marked with the reason, and can be
released from admin (``leads.submissions.release_submission``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.ratelimit import rate_limit_cache
from leads.models import SpamReason

# A field people never see (it is moved off screen) and bots fill in; named to tempt them.
HONEYPOT_FIELD = "company_website"
# Faster than this from render to submit, nobody has read and typed the form.
MIN_FILL_DURATION = timedelta(seconds=3)
# Submissions from one address within the window, beyond which the rest are held as spam.
RATE_LIMIT = 20
RATE_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class SpamVerdict:
    reason: str
    detail: str


def check_submission(
    *, honeypot: str, rendered_at: datetime, ip_address: str | None, now: datetime
) -> SpamVerdict | None:
    """Why this submission looks like spam, or None. Counts it against the address's rate limit."""
    if honeypot.strip():
        return SpamVerdict(SpamReason.HONEYPOT, f"Honeypot field held {honeypot.strip()[:100]!r}")
    elapsed = now - rendered_at
    if elapsed < MIN_FILL_DURATION:
        return SpamVerdict(SpamReason.TOO_FAST, f"Sent {elapsed.total_seconds():.1f} s after the form was shown")
    count = count_submission_from(ip_address=ip_address, now=now)
    if count > RATE_LIMIT:
        minutes = int(RATE_WINDOW.total_seconds() // 60)
        return SpamVerdict(SpamReason.RATE_LIMITED, f"Submission {count} from this address within {minutes} minutes")
    return None


def count_submission_from(*, ip_address: str | None, now: datetime) -> int:
    """Add one to the address's counter for the current window (a fixed window in the shared cache).

    While the shared cache does not answer, the count is this process's own (``core.ratelimit``).
    """
    window_seconds = int(RATE_WINDOW.total_seconds())
    window = int(now.timestamp()) // window_seconds
    key = f"leads:form-rate:{ip_address or 'unknown'}:{window}"
    # add() only sets a missing key, so concurrent first submissions do not reset each other's count.
    rate_limit_cache.add(key, 0, timeout=window_seconds * 2)
    try:
        return rate_limit_cache.incr(key)
    except ValueError:
        # The key expired between add() and incr(); this is the window's first submission.
        rate_limit_cache.set(key, 1, timeout=window_seconds * 2)
        return 1
