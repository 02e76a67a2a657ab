"""Demo spend for the sources and campaigns the demo leads come from (``leads.demo.TOUCHES``), and later
touches for two demo leads in three, so the attribution models have paths to tell apart.

Run by ``manage.py load_demo`` through ``ReportsConfig.load_demo``; idempotent: a second run updates
the same spend rows to the same amounts and adds no touch twice.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import Count

from leads.attribution import record_touch
from leads.models import Lead, Touch
from reports.models import Spend

DEMO_MONTHS = 6
# (source, campaign, monthly amount in EUR); a blank campaign is spend on the whole source.
DEMO_SPEND = (
    ("google", "brand-search", Decimal("4200.00")),
    ("linkedin", "q3-whitepaper", Decimal("3600.00")),
    ("newsletter", "", Decimal("450.00")),
    ("b2b-growth-podcast", "", Decimal("1500.00")),
    ("partner-webinar", "", Decimal("900.00")),
)
# The event is paid once, in the month two months before now.
EVENT_SPEND = ("saastr-2026", "", Decimal("12000.00"))


def demo_spend(*, now: datetime) -> list[tuple[str, str, date, Decimal]]:
    """(source, campaign, month, amount) for the last ``DEMO_MONTHS`` months, this one included."""
    months = [_month_before(now.date().replace(day=1), back) for back in range(DEMO_MONTHS)]
    rows = [
        # A little variation per month, the same on every run.
        (source, campaign, month, (amount * (Decimal(90 + (month.month * 7) % 21) / 100)).quantize(Decimal("0.01")))
        for source, campaign, amount in DEMO_SPEND
        for month in months
    ]
    event_source, event_campaign, event_amount = EVENT_SPEND
    rows.append((event_source, event_campaign, months[2], event_amount))
    return rows


def _month_before(month: date, back: int) -> date:
    index = month.year * 12 + month.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


# Touches that come after the first one: nurture emails, retargeting, a webinar, a search for the brand.
FOLLOW_UPS = (
    {"source": "newsletter", "medium": "email", "campaign": "monthly-digest"},
    {"source": "newsletter", "medium": "email", "campaign": "product-update"},
    {"source": "linkedin", "medium": "paid_social", "campaign": "retargeting"},
    {"source": "google", "medium": "cpc", "campaign": "brand-search"},
    {"source": "partner-webinar", "medium": "webinar", "campaign": "partner-cloud-summit"},
    {"referrer": "https://www.google.com/search?q=leadsite"},
)


def add_demo_follow_up_touches(*, now: datetime) -> int:
    """Give two in three demo leads that have a single touch one to three later ones; returns how many."""
    single = Touch.objects.order_by().values("lead_id").annotate(n=Count("id")).filter(n=1).values("lead_id")
    leads = Lead.objects.filter(pk__in=single, first_touch_at__isnull=False).order_by("pk")
    added = 0
    for lead in leads:
        if lead.pk % 3 == 0:
            continue
        rng = random.Random(lead.pk)
        latest = now - timedelta(hours=1)
        assert lead.first_touch_at is not None  # the queryset keeps only leads with a first touch
        for _ in range(rng.randint(1, 3)):
            when = lead.first_touch_at + timedelta(hours=rng.randint(1, 24 * 20))
            record_touch(lead=lead, fields=dict(rng.choice(FOLLOW_UPS)), now=min(when, latest))
            added += 1
    return added


def load_demo_reports(*, users: Mapping[str, AbstractUser], now: datetime) -> str:
    """Create or refresh the demo spend rows; returns a one-line summary for ``load_demo``."""
    created = 0
    rows = demo_spend(now=now)
    with transaction.atomic():
        for source, campaign, month, amount in rows:
            _, is_new = Spend.objects.update_or_create(
                source=source, campaign=campaign, month=month, defaults={"amount": amount, "currency": "EUR"}
            )
            created += is_new
        touches = add_demo_follow_up_touches(now=now)
    return f"{len(rows)} monthly spend rows ({created} new); {touches} follow-up touches on demo leads."
