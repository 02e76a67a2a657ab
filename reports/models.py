"""Marketing spend, and the record of managers' first-touch corrections.

The reports themselves are read-only aggregates (``reports.selectors``); these are the only rows the
reports app owns. Writes go through ``reports.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from leads.models import Lead, Touch

DEFAULT_CURRENCY = "EUR"


class Spend(models.Model):
    """What marketing spent on one source (or one campaign of it) in one calendar month.

    ``source`` and ``campaign`` are matched exactly against the leads' first-touch source and campaign.
    A blank campaign is spend on the source as a whole (a podcast sponsorship, an event booth).
    """

    source = models.CharField(max_length=200, help_text="As in utm_source, e.g. google or linkedin.")
    campaign = models.CharField(
        max_length=200, blank=True, help_text="As in utm_campaign; leave empty for spend on the whole source."
    )
    month = models.DateField(help_text="The first day of the month the money was spent in.")
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default=DEFAULT_CURRENCY, help_text="ISO 4217 code, e.g. EUR.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month", "source", "campaign"]
        verbose_name_plural = "spend"
        constraints = [
            models.UniqueConstraint(fields=["source", "campaign", "month"], name="spend_unique_month"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="spend_amount_not_negative"),
            models.CheckConstraint(condition=~Q(source=""), name="spend_has_source"),
        ]
        indexes = [models.Index(fields=["month", "source"], name="spend_month_source_idx")]

    def __str__(self) -> str:
        what = f"{self.source}/{self.campaign}" if self.campaign else self.source
        return f"{what} {self.month:%Y-%m}: {self.amount} {self.currency}"

    def clean(self) -> None:
        errors = {}
        if self.month and self.month.day != 1:
            errors["month"] = "Give the first day of the month."
        if self.currency and not (len(self.currency) == 3 and self.currency.isalpha() and self.currency.isupper()):
            errors["currency"] = "Give a three-letter ISO code in capitals, e.g. EUR."
        if errors:
            raise ValidationError(errors)


class FirstTouchCorrection(models.Model):
    """A manager's correction of a lead's first touch: what it was, what it became, who, when and why.

    Written only by ``reports.services.correct_first_touch``; never changed or deleted afterwards, except
    that erasing the lead's personal data blanks the reason (``reports.services.erase_lead_personal_data``).
    """

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="first_touch_corrections")
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    corrected_at = models.DateTimeField()
    reason = models.TextField()

    previous_touch = models.ForeignKey(Touch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    previous_source = models.CharField(max_length=200, blank=True)
    previous_medium = models.CharField(max_length=100, blank=True)
    previous_campaign = models.CharField(max_length=200, blank=True)
    previous_channel = models.CharField(max_length=30, blank=True)
    previous_at = models.DateTimeField(null=True, blank=True)

    touch = models.ForeignKey(
        Touch,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The touch the lead is now credited to.",
    )
    source = models.CharField(max_length=200, blank=True)
    medium = models.CharField(max_length=100, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=30)
    touched_at = models.DateTimeField()

    class Meta:
        ordering = ["-corrected_at", "-id"]
        default_permissions = ("view",)
        permissions = [("correct_first_touch", "Can correct a lead's first touch")]
        indexes = [models.Index(fields=["lead", "corrected_at"], name="ftcorrection_lead_idx")]

    def __str__(self) -> str:
        before = self.previous_source or self.previous_channel or "none"
        return f"{before} → {self.source or self.channel} at {self.corrected_at:%Y-%m-%d %H:%M}"


# --- Rollups: the report's numbers, kept per creation day (written only by ``reports.rollups``) ----------
#
# Every lead counts on the day it was created in the site's time zone (``RollupState.zone``), once in the rows
# with ``form=""`` (all leads) and once more for each form it submitted (the form filter). A day's rows are always
# recomputed whole from the leads of that day, never adjusted by deltas, so a retried or repeated refresh writes
# the same rows.

ALL_FORMS = ""


class LeadDayRollup(models.Model):
    """Leads created on ``day``, and how many of them reached MQL and SQL, per first touch and team."""

    day = models.DateField()
    form = models.CharField(max_length=100, blank=True, help_text="A form's slug; empty: every lead.")
    team = models.CharField(max_length=50, blank=True)
    source = models.CharField(max_length=200, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=30, blank=True)
    leads = models.PositiveIntegerField()
    mqls = models.PositiveIntegerField()
    sqls = models.PositiveIntegerField()

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["form", "day"], name="leadday_form_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.source or '-'}/{self.campaign or '-'}: {self.leads} leads"


class CreditDayRollup(models.Model):
    """The path models' credit (last, linear, position-based) the touches of one channel earned from the leads
    created on ``day``, per the lead's team and first-touch campaign."""

    day = models.DateField()
    form = models.CharField(max_length=100, blank=True)
    team = models.CharField(max_length=50, blank=True)
    campaign = models.CharField(max_length=200, blank=True, help_text="The lead's first-touch campaign.")
    channel = models.CharField(max_length=30, blank=True, help_text="The channel of the touches credited.")
    leads_last = models.FloatField()
    leads_linear = models.FloatField()
    leads_position = models.FloatField()
    mqls_last = models.FloatField()
    mqls_linear = models.FloatField()
    mqls_position = models.FloatField()
    sqls_last = models.FloatField()
    sqls_linear = models.FloatField()
    sqls_position = models.FloatField()

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["form", "day"], name="creditday_form_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.channel or '-'}: {self.leads_linear:.2f} linear"


class MilestoneDayRollup(models.Model):
    """How many leads created on ``day`` took ``seconds`` from creation to MQL (``step="mql"``), or from MQL
    to SQL (``step="sql"``): the distribution the funnel's medians are read from."""

    day = models.DateField()
    form = models.CharField(max_length=100, blank=True)
    team = models.CharField(max_length=50, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    step = models.CharField(max_length=3)
    seconds = models.FloatField()
    leads = models.PositiveIntegerField()

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["form", "day"], name="milestoneday_form_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.step} {self.seconds:.0f}s: {self.leads} leads"


class SLADayRollup(models.Model):
    """The first-contact SLA clocks of the leads created on ``day``, counted as the compliance table counts them
    (``reports.selectors.sla``), per rep, sales team and first-touch source, under the leads' team and campaign.

    The rep and the sales team are kept by key and named when the table is read, so a renamed team or rep needs
    no recomputation. ``team`` is the lead's routing team, the report's team filter, as in the other rollups.
    """

    day = models.DateField()
    form = models.CharField(max_length=100, blank=True)
    team = models.CharField(max_length=50, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    rep_key = models.BigIntegerField(help_text="The assignment's rep (a user's id).")
    sales_team_key = models.BigIntegerField(help_text="The assignment's team (a team's id).")
    source = models.CharField(max_length=200, blank=True, help_text="The lead's first-touch source.")
    clocks = models.PositiveIntegerField()
    met = models.PositiveIntegerField()
    breached = models.PositiveIntegerField()
    running = models.PositiveIntegerField()

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["form", "day"], name="sladay_form_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_key}: {self.met} of {self.clocks} met"


class RollupDirtyDay(models.Model):
    """A creation day whose rollups must be recomputed: written in the same transaction as the change to an
    older lead, deleted by the refresh that recomputed the day. Not unique: each change adds its own row, and
    a refresh deletes only the rows it read, so a change committed during a refresh is never dropped."""

    day = models.DateField()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.day} to recompute"


class RollupState(models.Model):
    """One row: when the rollups were last refreshed and rebuilt. Its lock serialises refreshes.

    ``rebuilt_at`` is empty until the first build has finished: until then the page reads the leads live.
    ``build_begun_at`` is set while the scheduled refresh works through a build in steps (``reports.rollups``).
    """

    refreshed_at = models.DateTimeField(
        help_text="When the last refresh began: changes committed before this are in the rollups, except those to "
        "older days a refresh whose budget ran out left marked for the next ones (RollupDirtyDay).",
    )
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    sla_rebuilt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a build first counted the SLA clocks (SLADayRollup); until then, as on a site that built "
        "its rollups before there was one, the compliance table reads the SLA records live.",
    )
    zone = models.CharField(
        max_length=64,
        default="UTC",
        help_text="The time zone whose days the rollups count: the site's TIME_ZONE when they were built.",
    )
    build_begun_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the refresh marked every day to count for a build in steps; empty once they are counted.",
    )
    build_marks_through = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The last of the marks a build in steps wrote: the build is done once none up to it is left.",
    )

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"refreshed {self.refreshed_at:%Y-%m-%d %H:%M}"
