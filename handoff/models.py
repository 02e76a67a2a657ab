"""Teams and their calendars, SLA policies, assignments, SLA records and what reps log while working a lead.

Workflows live in ``handoff.services``; these models hold fields, constraints and small properties only.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from handoff.calendar import BusinessCalendar
from leads.models import Lead, Stage


def validate_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(f"{value!r} is not an IANA time zone such as Europe/London.") from error


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Team(models.Model):
    """A sales team: who is in it, who manages it, and when it is open (its business calendar)."""

    name = models.CharField(max_length=100)
    # The team's name in URLs, reports and the API; routing rules point at the team itself (a foreign key).
    slug = models.SlugField(max_length=50, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    holiday_country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code whose public holidays close the team, e.g. GB."
    )
    holiday_subdivision = models.CharField(
        max_length=10, blank=True, help_text="Optional region within the country, e.g. ENG or NY."
    )
    is_default = models.BooleanField(
        default=False, help_text="Gets the MQLs that routing sends to no team in particular. At most one team."
    )
    managers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="managed_teams")
    # Round-robin state: how many assignments the team has handed out (each one takes the next turn)
    # and the virtual clock of its weighted rotation (see services.assignment).
    turns_taken = models.PositiveBigIntegerField(default=0, editable=False)
    rotation_clock = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_team"),
        ]
        # Who is in a team and who runs it decides whose leads a person sees, so a manager never changes it
        # for themself: no role has this permission; superusers, and whoever is given it, do.
        permissions = [("manage_team_membership", "Can change a team's members, managers and default flag")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Building a calendar checks the holiday region the same way the SLA maths will. A bad timezone
        # is already reported by the field's own validator.
        try:
            validate_timezone(self.timezone)
        except ValidationError:
            return
        try:
            BusinessCalendar.standard(
                self.timezone, holiday_country=self.holiday_country, holiday_subdivision=self.holiday_subdivision
            )
        except ValueError as error:
            raise ValidationError({"holiday_country": str(error)}) from error


class TeamHours(models.Model):
    """One opening interval of a team on one weekday; several per day make a split shift."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["weekday", "opens_at"]
        verbose_name = "opening hours"
        verbose_name_plural = "opening hours"
        constraints = [
            models.UniqueConstraint(fields=["team", "weekday", "opens_at"], name="teamhours_unique_opening"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"

    def clean(self) -> None:
        if self.closes_at != time(0) and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "Closing time must be after opening time (00:00 means midnight)."})


class ClosedDate(models.Model):
    """A day the team is closed on top of public holidays (a company day off, an office move)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="closed_dates")
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["team", "date"], name="closeddate_unique_day")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.reason}".strip()


class Membership(models.Model):
    """A rep in a team, with the share of new leads they take (capacity weight) and their time off."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    capacity_weight = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Relative share of new leads: a rep with weight 2 gets twice as many as one with weight 1.",
    )
    is_active = models.BooleanField(default=True, help_text="Inactive reps get no new leads.")
    out_of_office_from = models.DateField(null=True, blank=True)
    out_of_office_until = models.DateField(null=True, blank=True, help_text="Last day off (inclusive).")
    # Where this rep's next turn starts on the team's rotation clock (see services.assignment).
    next_turn_at = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["team", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_user"),
            models.CheckConstraint(
                condition=Q(out_of_office_from__isnull=True)
                | Q(out_of_office_until__isnull=True)
                | Q(out_of_office_until__gte=models.F("out_of_office_from")),
                name="membership_ooo_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"

    def clean(self) -> None:
        if self.out_of_office_until and not self.out_of_office_from:
            raise ValidationError({"out_of_office_from": "Give the first day off too."})
        if self.out_of_office_from and self.out_of_office_until and self.out_of_office_until < self.out_of_office_from:
            raise ValidationError({"out_of_office_until": "The last day off cannot be before the first."})

    def is_out_of_office(self, day: date) -> bool:
        """Whether ``day`` (a date in the team's timezone) is one of this rep's days off."""
        if self.out_of_office_from is None or day < self.out_of_office_from:
            return False
        return self.out_of_office_until is None or day <= self.out_of_office_until


class RepPool(models.Model):
    """A named subset of a team's reps (senior account directors): routing may send leads to it alone.

    The pool rotates within the team's own rotation: its members keep their weights and places, so a
    rep in a pool and in the team at large is not favoured twice.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="pools")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(
        Membership, blank=True, related_name="pools", help_text="Reps of this team who take the pool's leads."
    )

    class Meta:
        ordering = ["team", "name"]
        verbose_name = "rep pool"
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="reppool_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.team})"


class RoutingDestination(models.TextChoices):
    TEAM = "team", "A sales team"
    POOL = "pool", "A rep pool within a team"
    NURTURE = "nurture", "A nurture track"


class RoutingRule(models.Model):
    """An ordered routing rule: conditions on the lead, and where a matching lead goes.

    Empty conditions match anything; the first matching active rule wins, and the default rule catches
    every lead no other rule takes. The matching itself is pure (``handoff.routing``); deciding and
    storing the decision with its reasons is ``handoff.services.routing.route_lead``.
    """

    name = models.CharField(max_length=100)
    order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="Used when no other rule matches.")
    size_bands = models.JSONField(default=list, blank=True)
    industries = models.JSONField(default=list, blank=True)
    countries = models.JSONField(default=list, blank=True)
    seniorities = models.JSONField(default=list, blank=True)
    job_functions = models.JSONField(default=list, blank=True)
    sources = models.JSONField(default=list, blank=True)
    employee_min = models.PositiveIntegerField(null=True, blank=True)
    employee_max = models.PositiveIntegerField(null=True, blank=True)
    score_min = models.IntegerField(null=True, blank=True)
    score_max = models.IntegerField(null=True, blank=True)
    destination = models.CharField(max_length=10, choices=RoutingDestination.choices, default=RoutingDestination.TEAM)
    # A team cannot be deleted while a rule sends leads to it: the admin names the rules in the way.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="routing_rules")
    pool = models.ForeignKey(RepPool, null=True, blank=True, on_delete=models.PROTECT, related_name="routing_rules")
    nurture_track = models.CharField(
        max_length=100, blank=True, help_text="The key of a nurture track (leads.events.nurture_track_choices)."
    )

    class Meta:
        ordering = ["is_default", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="handoff_one_default_routing_rule"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for low, high in (("employee_min", "employee_max"), ("score_min", "score_max")):
            low_value, high_value = getattr(self, low), getattr(self, high)
            if low_value is not None and high_value is not None and low_value > high_value:
                errors[high] = "Must not be below the minimum."
        if self.destination == RoutingDestination.TEAM and self.team_id is None:
            errors["team"] = "Choose the team this rule hands leads to."
        if self.destination == RoutingDestination.POOL:
            pool = self.pool if self.pool_id is not None else None
            if pool is None:
                errors["pool"] = "Choose the rep pool this rule hands leads to."
            elif self.team_id is not None and pool.team_id != self.team_id:
                errors["pool"] = f"“{pool}” is not a pool of {self.team}."
        if self.destination == RoutingDestination.NURTURE and not self.nurture_track:
            errors["nurture_track"] = "Choose the nurture track."
        if errors:
            raise ValidationError(errors)


class RoutingDecision(models.Model):
    """Where routing last sent a lead, by which rule, and why: the conditions that held and the rules passed over.

    One per lead, rewritten each time routing decides for a lead sales do not have yet. ``team`` is the
    team the lead waits for (a pool's team too); with none, an MQL is assigned by the default team only
    when routing chose no nurture track.
    """

    lead = models.OneToOneField(Lead, on_delete=models.CASCADE, primary_key=True, related_name="routing_decision")
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions")
    rule_name = models.CharField(max_length=100, blank=True, help_text="Kept when the rule is renamed or deleted.")
    destination = models.CharField(max_length=10, choices=RoutingDestination.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="routing_decisions")
    pool = models.ForeignKey(RepPool, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    nurture_track = models.CharField(max_length=100, blank=True)
    reasons = models.JSONField(default=dict, blank=True)
    decided_at = models.DateTimeField()

    class Meta:
        verbose_name = "routing decision"

    def __str__(self) -> str:
        return f"{self.lead_id} → {self.summary}"

    @property
    def summary(self) -> str:
        """Where the lead went, in a few words ("Enterprise team", "nurture track general")."""
        if self.destination == RoutingDestination.NURTURE:
            return f"nurture track “{self.nurture_track}”"
        if self.destination == RoutingDestination.POOL and self.pool is not None:
            return f"pool {self.pool.name} of {self.team}"
        return str(self.team) if self.team is not None else "no team"


class BreachAction(models.TextChoices):
    NOTIFY_MANAGER = "notify_manager", "Notify the team's managers"
    REASSIGN = "reassign", "Reassign to the next rep"
    NOTIFY_AND_REASSIGN = "notify_and_reassign", "Notify the managers and reassign"


class SLAPolicy(models.Model):
    """Which leads get which first-contact target; the first active match by priority wins."""

    name = models.CharField(max_length=100, unique=True)
    priority = models.PositiveIntegerField(default=100, help_text="Lower numbers are tried first.")
    is_active = models.BooleanField(default=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, help_text="Leave empty to apply to every team."
    )
    # Which leads: an empty criterion matches everything.
    stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    size_band = models.CharField(max_length=50, blank=True, help_text="Company size segment, as enrichment sets it.")
    min_score = models.IntegerField(null=True, blank=True)
    max_score = models.IntegerField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True, help_text="Source of the lead's first touch, e.g. linkedin.")
    # What they get.
    target_duration = models.DurationField(
        default=timedelta(hours=24), help_text="First-contact target in business time, e.g. 24:00:00."
    )
    reminder_percent = models.PositiveSmallIntegerField(
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="Remind the rep when this share of the target has passed.",
    )
    on_breach = models.CharField(max_length=30, choices=BreachAction.choices, default=BreachAction.NOTIFY_MANAGER)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(min_score__isnull=True)
                | Q(max_score__isnull=True)
                | Q(max_score__gte=models.F("min_score")),
                name="slapolicy_score_range_ordered",
            ),
            models.CheckConstraint(condition=Q(target_duration__gt=timedelta(0)), name="slapolicy_target_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.min_score is not None and self.max_score is not None and self.max_score < self.min_score:
            raise ValidationError({"max_score": "The highest score cannot be below the lowest."})
        if self.target_duration is not None and self.target_duration <= timedelta(0):
            raise ValidationError({"target_duration": "The target must be longer than zero."})


class AssignmentState(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    ACCEPTED = "accepted", "Accepted"
    CONTACTED = "contacted", "Contacted"


class AssignmentOutcome(models.TextChoices):
    QUALIFIED = "qualified", "Qualified (SQL)"
    REJECTED = "rejected", "Rejected"
    RECYCLED = "recycled", "Recycled to nurture"
    REASSIGNED = "reassigned", "Reassigned"


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def open(self) -> AssignmentQuerySet:
        return self.filter(ended_at__isnull=True)


class Assignment(models.Model):
    """One hand-over of a lead to a rep; ends when the rep qualifies, rejects or recycles it, or it is reassigned."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="assignments")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="assignments")
    turn = models.PositiveBigIntegerField(help_text="The team's assignment sequence number.")
    assigned_at = models.DateTimeField()
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    state = models.CharField(max_length=20, choices=AssignmentState.choices, default=AssignmentState.ASSIGNED)
    accepted_at = models.DateTimeField(null=True, blank=True)
    contacted_at = models.DateTimeField(null=True, blank=True, help_text="First logged contact.")
    # Copied from the SLA record (both are fixed at assignment) so the inbox sorts on one index.
    sla_due_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=AssignmentOutcome.choices, blank=True)
    recycle_on = models.DateField(null=True, blank=True, help_text="When a recycled lead should come back to sales.")
    # Why this rep (``handoff.services.assignment``): who picked, the candidates with their weight, load and
    # time off, and what made the winner win.
    reasons = models.JSONField(default=dict, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead"], condition=Q(ended_at__isnull=True), name="one_open_assignment"),
            models.UniqueConstraint(fields=["team", "turn"], name="assignment_unique_turn"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, outcome="") | (Q(ended_at__isnull=False) & ~Q(outcome="")),
                name="assignment_outcome_when_ended",
            ),
        ]
        indexes = [
            # The rep's inbox: open assignments by SLA urgency, with a separate one for "awaiting contact".
            models.Index(
                fields=["rep", "sla_due_at", "id"], condition=Q(ended_at__isnull=True), name="assignment_inbox_idx"
            ),
            models.Index(
                fields=["rep", "sla_due_at", "id"],
                condition=Q(ended_at__isnull=True, contacted_at__isnull=True),
                name="assignment_inbox_todo_idx",
            ),
            # The inbox sorted by when leads came in (either direction walks the same index).
            models.Index(
                fields=["rep", "assigned_at", "id"],
                condition=Q(ended_at__isnull=True),
                name="assignment_inbox_assigned_idx",
            ),
            # The team queue: a team's open assignments by SLA urgency, seeking past a cursor of (due, id).
            models.Index(
                fields=["team", "sla_due_at", "id"], condition=Q(ended_at__isnull=True), name="assignment_team_due_idx"
            ),
            # The admin's list of every assignment, open and ended, newest first.
            models.Index(fields=["assigned_at", "id"], name="assignment_assigned_idx"),
            # The admin's filters by state and by outcome, newest first (an outcome only once ended:
            # ``leads.admin.SetChoiceFilter``).
            models.Index(fields=["state", "assigned_at", "id"], name="assignment_state_idx"),
            models.Index(
                fields=["outcome", "assigned_at", "id"], name="assignment_outcome_idx", condition=~Q(outcome="")
            ),
        ]
        # Checked by the inbox, the team queue and the API (handoff.views, handoff.selectors, handoff.api).
        permissions = [
            ("work_inbox", "Can work a sales inbox"),
            ("manage_team", "Can see and reassign a sales team's leads"),
        ]

    def __str__(self) -> str:
        return f"{self.lead} → {self.rep} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class SLARecord(models.Model):
    """The first-contact clock of one assignment: due and reminder instants, and what has happened so far."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="sla")
    policy = models.ForeignKey(SLAPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # A snapshot of the policy at assignment, so editing a policy never changes a running clock.
    target_duration = models.DurationField()
    on_breach = models.CharField(max_length=30, choices=BreachAction.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    remind_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True, help_text="First logged contact.")
    breached_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True, help_text="When the breach action ran.")
    stopped_at = models.DateTimeField(
        null=True, blank=True, help_text="The assignment ended (reassigned, rejected, recycled) before any contact."
    )

    class Meta:
        verbose_name = "SLA record"
        indexes = [
            # One indexed query per sweep tick each: reminders due, and breaches due.
            models.Index(
                fields=["remind_at"],
                condition=Q(
                    reminded_at__isnull=True, met_at__isnull=True, breached_at__isnull=True, stopped_at__isnull=True
                ),
                name="slarecord_reminder_due_idx",
            ),
            models.Index(
                fields=["due_at"],
                condition=Q(breached_at__isnull=True, met_at__isnull=True, stopped_at__isnull=True),
                name="slarecord_breach_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"SLA of {self.assignment_id} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_running(self) -> bool:
        return self.met_at is None and self.stopped_at is None


class ContactKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"


class ContactLog(models.Model):
    """A contact a rep made with the lead; the first one meets the SLA."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="contacts")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    note = models.TextField(blank=True)
    contacted_at = models.DateTimeField()

    class Meta:
        ordering = ["-contacted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.contacted_at:%Y-%m-%d %H:%M}"


class QualificationNotes(models.Model):
    """What the rep learnt when qualifying the lead to SQL (BANT)."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="qualification")
    budget = models.TextField()
    authority = models.TextField()
    need = models.TextField()
    timing = models.TextField()
    qualified_at = models.DateTimeField()

    class Meta:
        verbose_name = "qualification notes"
        verbose_name_plural = "qualification notes"

    def __str__(self) -> str:
        return f"BANT for assignment {self.assignment_id}"


class NotificationKind(models.TextChoices):
    ASSIGNED = "assigned", "Lead assigned"
    REMINDER = "reminder", "SLA reminder"
    BREACH = "breach", "SLA breached"


class Notification(models.Model):
    """An email we decided to send; at most one per kind and assignment, so a sweep never sends twice."""

    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="notifications")
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "assignment"], name="notification_once_per_kind"),
        ]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(sent_at__isnull=True), name="notification_unsent_idx"),
            # The admin's list, newest first.
            models.Index(fields=["created_at", "id"], name="notification_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for assignment {self.assignment_id}"


# --- The rep's and manager's daily work: saved views, follow-ups, the viewer's time zone ---------------


class SavedView(models.Model):
    """A named set of inbox filters (the inbox's query string); a manager may share one with a team."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_inbox_views")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True, help_text="The inbox filters, as a query string.")
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="shared_views",
        help_text="Shared with this team's members (only a manager of the team shares).",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="savedview_unique_name")]

    def __str__(self) -> str:
        return self.name


class FollowUp(models.Model):
    """A task a rep sets on a lead: call back at a time. Open ones show in the rep's inbox, soonest first."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="follow_ups")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follow_ups")
    due_at = models.DateTimeField()
    note = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["rep", "due_at", "id"], condition=Q(done_at__isnull=True), name="followup_open_idx"),
        ]

    def __str__(self) -> str:
        return f"Follow up {self.lead_id} at {self.due_at:%Y-%m-%d %H:%M}"


class ViewerSettings(models.Model):
    """What a person chose for their pages: the time zone every time on the lead page is shown in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="viewer_settings")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])

    class Meta:
        verbose_name_plural = "viewer settings"

    def __str__(self) -> str:
        return f"{self.user}: {self.timezone}"
