"""Read-only aggregates for the managers' reports; each is one GROUP BY on an indexed column."""

from datetime import datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncWeek

from leads.models import Lead, Stage


def leads_by_stage() -> list[dict[str, object]]:
    counts = dict(Lead.objects.order_by().values_list("stage").annotate(n=Count("id")))
    return [{"stage": label, "count": counts.get(value, 0)} for value, label in Stage.choices]


def leads_by_country(*, limit: int = 10) -> list[dict[str, object]]:
    rows = Lead.objects.order_by().values("country").annotate(count=Count("id")).order_by("-count", "country")
    return list(rows[:limit])


def weekly_lead_volume(*, now: datetime, weeks: int = 12) -> list[dict[str, object]]:
    since = now - timedelta(weeks=weeks)
    rows = (
        Lead.objects.filter(created_at__gte=since)
        .order_by()
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(count=Count("id"))
        .order_by("week")
    )
    return list(rows)
