"""Form analytics: views and starts counted per form and day, and each form's funnel read from what is stored.

Counting keeps nothing about the visitor (no cookie, no address, no browser string): a view adds one to the
form's counter for the day, in one upsert that never fails the page. A browser whose user agent says it is a
crawler, a preview tool, a headless browser, an HTTP library or a mail gateway, or sends none, is counted apart
as a bot view (the rule the email links use, ``core.link_scanners``: a form's link in an email is opened by
gateways too); a signed-in staff member looking at the public page and a browser prefetching it are not
counted at all (admin's Preview counts nothing either).

Submissions, spam held and released come from the submissions; leads, MQLs and SQLs from those submissions'
leads (a lead reached MQL if it is an MQL or SQL now or ever moved there, as the reports count it); asset
downloads from the ``asset_downloaded`` activities, which name their form.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import PurePosixPath

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from core import link_scanners
from leads import selectors
from leads.models import (
    Activity,
    ActivityKind,
    CaptureForm,
    FormDailyStat,
    Submission,
    SubmissionStatus,
)

logger = logging.getLogger(__name__)

COUNTERS = ("views", "bot_views", "starts")
# Browsers announce a speculative load with one of these; the visitor has not seen the form yet.
PREFETCH_HEADERS = ("purpose", "sec-purpose", "x-moz", "x-purpose")


def is_bot(user_agent: str) -> bool:
    """The user agent is no person's browser: a crawler, a previewer, a headless browser, an HTTP library or a mail
    gateway, or none at all (``core.link_scanners``, judged by the agent alone)."""
    # By the agent alone: a HEAD request is not a view at all (the form view records only GETs), and a start is a POST.
    return link_scanners.automated_reason(method="GET", user_agent=user_agent) == link_scanners.SCANNER_AGENT


def is_prefetch(headers: Mapping[str, str]) -> bool:
    """The browser loads the page speculatively (``request.headers``: names in any case)."""
    return any("prefetch" in headers.get(name, "").lower() for name in PREFETCH_HEADERS)


def record_form_view(*, form_id: int, user_agent: str, is_staff: bool, is_prefetch: bool, now: datetime) -> None:
    """Count one view of the form (as a bot view when the user agent is a bot's); staff and prefetches are not."""
    if is_staff or is_prefetch:
        return
    count(form_id=form_id, counter="bot_views" if is_bot(user_agent) else "views", day=now.astimezone(UTC).date())


def record_form_start(*, form_id: int, user_agent: str, now: datetime) -> None:
    """Count a visitor starting to fill the form in (the page's script reports the first field they enter)."""
    if not is_bot(user_agent):
        count(form_id=form_id, counter="starts", day=now.astimezone(UTC).date())


def count(*, form_id: int, counter: str, day: date) -> None:
    """Add one to the form's counter for the day: a single upsert (SQLite and PostgreSQL), never an error.

    Analytics must not cost the visitor the form, so a failed write (a locked database) is logged and
    dropped. Inside a transaction the upsert runs in a savepoint, so a failure leaves the caller's work.
    """
    if counter not in COUNTERS:
        raise ValueError(f"Unknown form counter {counter!r}")
    table = connection.ops.quote_name(FormDailyStat._meta.db_table)
    column = connection.ops.quote_name(counter)
    others = ", ".join(connection.ops.quote_name(name) for name in COUNTERS if name != counter)
    zeros = ", ".join("0" for name in COUNTERS if name != counter)
    sql = (
        f"INSERT INTO {table} (form_id, day, {column}, {others}) VALUES (%s, %s, 1, {zeros}) "
        f"ON CONFLICT (form_id, day) DO UPDATE SET {column} = {table}.{column} + 1"
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [form_id, day])
    except DatabaseError:
        logger.warning("Could not count a %s of form %s; the visitor was served", counter, form_id, exc_info=True)


# --- Reading --------------------------------------------------------------------------------------------


@dataclass
class FormFunnel:
    """One form's numbers over a date range, and the rates between them (percent, None without a base)."""

    form: CaptureForm
    views: int = 0
    bot_views: int = 0
    starts: int = 0
    submissions: int = 0
    spam_held: int = 0
    spam_released: int = 0
    leads: int = 0
    mqls: int = 0
    sqls: int = 0
    downloads: int = 0

    @property
    def asset_name(self) -> str:
        if self.form.asset_file:
            return PurePosixPath(self.form.asset_file.name or "").name
        return self.form.asset_url

    @property
    def conversion_rate(self) -> float | None:
        """Submissions (spam not counted) per view."""
        return _rate(self.submissions - self.spam_held, self.views)

    @property
    def start_rate(self) -> float | None:
        return _rate(self.starts, self.views)

    @property
    def completion_rate(self) -> float | None:
        return _rate(self.submissions - self.spam_held, self.starts)

    @property
    def spam_rate(self) -> float | None:
        return _rate(self.spam_held + self.spam_released, self.submissions)

    @property
    def mql_rate(self) -> float | None:
        return _rate(self.mqls, self.leads)

    @property
    def sql_rate(self) -> float | None:
        return _rate(self.sqls, self.leads)

    @property
    def download_rate(self) -> float | None:
        return _rate(self.downloads, self.leads) if self.form.has_asset else None


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # inclusive

    @property
    def instants(self) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.start, time.min, tzinfo=UTC),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC),
        )

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def form_funnels(*, forms: Iterable[CaptureForm], period: DateRange) -> list[FormFunnel]:
    """Each form's numbers in the period (UTC days): a handful of grouped queries, whatever the number of forms."""
    funnels = {form.pk: FormFunnel(form=form) for form in forms}
    ids = list(funnels)
    start, stop = period.instants
    stats = FormDailyStat.objects.filter(form_id__in=ids, day__range=(period.start, period.end))
    sums = stats.values_list("form_id").annotate(v=Sum("views"), b=Sum("bot_views"), s=Sum("starts")).order_by()
    for form_id, views, bot_views, starts in sums:
        funnel = funnels[form_id]
        funnel.views, funnel.bot_views, funnel.starts = views or 0, bot_views or 0, starts or 0
    submissions = Submission.objects.filter(form_id__in=ids, submitted_at__gte=start, submitted_at__lt=stop)
    held, released = Q(status=SubmissionStatus.SPAM), Q(released_at__isnull=False)
    totals = submissions.values_list("form_id").annotate(
        total=Count("id"), held=Count("id", filter=held), released=Count("id", filter=released)
    )
    for form_id, total, held_count, released_count in totals.order_by():
        funnel = funnels[form_id]
        funnel.submissions, funnel.spam_held, funnel.spam_released = total, held_count, released_count
    _count_leads(funnels, submissions.filter(lead__isnull=False))
    slugs = {funnel.form.slug: funnel for funnel in funnels.values()}
    downloads = Activity.objects.filter(
        kind=ActivityKind.ASSET_DOWNLOADED, occurred_at__gte=start, occurred_at__lt=stop, metadata__form__in=list(slugs)
    )
    for slug, count_of in downloads.values_list("metadata__form").annotate(n=Count("id")).order_by():
        if slug in slugs:
            slugs[slug].downloads = count_of
    return list(funnels.values())


def _count_leads(funnels: dict[int, FormFunnel], submissions: QuerySet[Submission]) -> None:
    mql_now, mql_ever = selectors.reached_mql(lead="lead__", outer="lead_id")
    sql_now, sql_ever = selectors.reached_sql(lead="lead__", outer="lead_id")
    reached_mql, reached_sql = mql_now | Q(mql_ever), sql_now | Q(sql_ever)
    rows = submissions.values_list("form_id").annotate(
        leads=Count("lead_id", distinct=True),
        mqls=Count("lead_id", distinct=True, filter=reached_mql),
        sqls=Count("lead_id", distinct=True, filter=reached_sql),
    )
    for form_id, leads, mqls, sqls in rows.order_by():
        funnel = funnels[form_id]
        funnel.leads, funnel.mqls, funnel.sqls = leads, mqls, sqls


@dataclass
class DailySeries:
    labels: list[str] = field(default_factory=list)
    views: list[int] = field(default_factory=list)
    submissions: list[int] = field(default_factory=list)


def daily_series(*, form: CaptureForm, period: DateRange) -> DailySeries:
    """Views and real submissions per day, for the form's chart."""
    start, stop = period.instants
    views = dict(
        FormDailyStat.objects.filter(form=form, day__range=(period.start, period.end)).values_list("day", "views")
    )
    per_day = (
        Submission.objects.filter(form=form, submitted_at__gte=start, submitted_at__lt=stop)
        .exclude(status=SubmissionStatus.SPAM)
        .annotate(day=TruncDate("submitted_at", tzinfo=UTC))
        .values("day")
        .annotate(n=Count("id"))
    )
    submitted = {row["day"]: row["n"] for row in per_day}
    series = DailySeries()
    for day in period.days():
        series.labels.append(day.isoformat())
        series.views.append(views.get(day, 0))
        series.submissions.append(submitted.get(day, 0))
    return series
