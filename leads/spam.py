"""Spam defence of the public forms: a honeypot, a time trap and a per-IP rate limit.

None of them throws a submission away: a suspect one is stored, marked with the reason, and can be
released from admin (``leads.submissions.release_submission``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from leads.models import SpamReason, Submission

# A field people never see (it is moved off screen) and bots fill in; named to tempt them.
HONEYPOT_FIELD = "company_website"
# Faster than this from render to submit, nobody has read and typed the form.
MIN_FILL_DURATION = timedelta(seconds=settings.FORM_TIME_TRAP_SECONDS)
# The idempotency key of a submission sent through the API (render nonces are URL-safe base64: never a colon).
API_NONCE_PREFIX = "api:"
# Submissions from one address within the window, beyond which the rest are held as spam.
RATE_LIMIT = settings.FORM_RATE_LIMIT
RATE_WINDOW = timedelta(minutes=settings.FORM_RATE_WINDOW_MINUTES)
# Its ``get_prep_value`` writes an address as the ORM stores it (IPv6 lowercase and compressed).
_IP_ADDRESS_FIELD = Submission._meta.get_field("ip_address")


@dataclass(frozen=True)
class SpamVerdict:
    reason: str
    detail: str


def check_submission(
    *, honeypot: str, rendered_at: datetime, ip_address: str | None, now: datetime
) -> SpamVerdict | None:
    """Why this submission looks like spam, or None; call it before storing the submission."""
    if honeypot.strip():
        return SpamVerdict(SpamReason.HONEYPOT, f"Honeypot field held {honeypot.strip()[:100]!r}")
    elapsed = now - rendered_at
    if elapsed < MIN_FILL_DURATION:
        return SpamVerdict(SpamReason.TOO_FAST, f"Sent {elapsed.total_seconds():.1f} s after the form was shown")
    if count_submission_from(ip_address=ip_address, now=now) > RATE_LIMIT:
        minutes = int(RATE_WINDOW.total_seconds() // 60)
        detail = f"More than {RATE_LIMIT} submissions from this address within {minutes} minutes"
        return SpamVerdict(SpamReason.RATE_LIMITED, detail)
    return None


def count_submission_from(*, ip_address: str | None, now: datetime) -> int:
    """This submission's number among the address's form submissions in the last ``RATE_WINDOW``, at most
    ``RATE_LIMIT + 1`` (a sliding window).

    Counted from the stored submissions (the ``submission_ip_idx`` index) rather than kept in a counter:
    no write of its own, exact across processes, and no cache that must be up. Counting stops past the
    limit, so a flood costs each request the same small index read. API submissions carry the person's
    address but are limited per key instead (``integrations.throttling``), so they do not count here.
    """
    # Written as SQL: the ORM's version of this one statement cost a form submission more CPU to build than
    # the database took to answer it. Submissions whose address is unknown share one budget, as they always have.
    address = "ip_address = %s" if ip_address else "ip_address IS NULL"
    # Normalised as the ORM stores it (an IPv6 address lowercase and compressed): SQLite compares text, so
    # ``2001:DB8:0:0::1`` would otherwise miss the submissions stored from ``2001:db8::1``.
    params: list[Any] = []
    if ip_address:
        params.append(connection.ops.adapt_ipaddressfield_value(_IP_ADDRESS_FIELD.get_prep_value(ip_address)))
    params += [connection.ops.adapt_datetimefield_value(now - RATE_WINDOW), f"{API_NONCE_PREFIX}%", RATE_LIMIT]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Submission._meta.db_table} WHERE {address} AND submitted_at > %s"
            " AND idempotency_key NOT LIKE %s LIMIT %s",
            params,
        )
        # At most RATE_LIMIT ids: cheaper than COUNT over a LIMIT, which needs a subquery.
        return len(cursor.fetchall()) + 1
