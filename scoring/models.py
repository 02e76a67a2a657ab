"""Scoring models and their rules, edited by marketers in admin, and the background rescore jobs.

The rule kinds and the arithmetic live in ``scoring.rules`` (pure); ``kind`` is a plain string keyed
into its registry, so a new kind needs no migration. Writes go through ``scoring.services``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from leads.models import Lead
from scoring import rules
from scoring.baseline import BASELINE_FIELDS, DEFAULT_BASELINE_FIELDS
from scoring.rules import ScoringModelSpec


class Dimension(models.TextChoices):
    FIT = rules.FIT, "Fit"
    ENGAGEMENT = rules.ENGAGEMENT, "Engagement"


def _default_baseline_fields() -> list[str]:
    return list(DEFAULT_BASELINE_FIELDS)


class ScoringModel(models.Model):
    """A set of rules with its thresholds. Exactly one model is active and scores the leads."""

    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(
        default=False, help_text="The active model scores every lead; activating this one deactivates the other."
    )
    mql_threshold = models.IntegerField(
        "MQL threshold", default=60, help_text="A lead scoring this much or more becomes an MQL."
    )
    nurture_threshold = models.IntegerField(
        default=20, help_text="A lead scoring less than this goes to the nurture programme."
    )
    engagement_half_life_days = models.PositiveIntegerField(
        "engagement half-life (days)",
        default=30,
        validators=[MinValueValidator(1)],
        help_text="An activity this many days old counts half its points; twice as old, a quarter.",
    )
    baseline_fields = models.JSONField(
        "baseline qualification fields",
        default=_default_baseline_fields,
        blank=True,
        help_text="A lead becomes an MQL only when it has all of these; otherwise it waits under "
        "“MQL — missing fields”.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_active", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="scoring_model_one_active"),
            models.CheckConstraint(
                condition=Q(nurture_threshold__lte=F("mql_threshold")), name="scoring_model_nurture_below_mql"
            ),
            models.CheckConstraint(
                condition=Q(engagement_half_life_days__gte=1), name="scoring_model_half_life_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (active)" if self.is_active else self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (
            self.mql_threshold is not None
            and self.nurture_threshold is not None
            and self.nurture_threshold > self.mql_threshold
        ):
            errors["nurture_threshold"] = "The nurture threshold must not be above the MQL threshold."
        names = self.baseline_fields
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            errors["baseline_fields"] = "Enter a list of field names."
        elif unknown := [name for name in names if name not in BASELINE_FIELDS]:
            errors["baseline_fields"] = (
                f"Unknown fields: {', '.join(unknown)}; choose from {', '.join(BASELINE_FIELDS)}."
            )
        elif len(set(names)) != len(names):
            errors["baseline_fields"] = "Each field may appear only once."
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude: Any = None) -> None:
        # Activating a model deactivates the active one in the same transaction
        # (services.save_scoring_model), so a form must not reject the second active model.
        super().validate_constraints(exclude={*(exclude or ()), "is_active"})

    def to_spec(self) -> ScoringModelSpec:
        # (``rules`` is also this model's related manager: name the spec class directly.)
        return ScoringModelSpec(
            half_life_days=float(self.engagement_half_life_days),
            mql_threshold=self.mql_threshold,
            nurture_threshold=self.nurture_threshold,
        )


class ScoringRule(models.Model):
    """One rule of a scoring model: a kind from the registry in ``scoring.rules`` and its parameters."""

    scoring_model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="rules")
    order = models.PositiveIntegerField(default=0, help_text="Rules are listed, and explained, in this order.")
    name = models.CharField(max_length=100, help_text="Shown in the score breakdown, e.g. “ICP industry”.")
    # No choices here: they come from the registry (scoring.rules.kind_choices) in the form, so a new
    # kind needs no migration.
    kind = models.CharField(max_length=50)
    dimension = models.CharField(max_length=20, choices=Dimension.choices, default=Dimension.FIT)
    points = models.IntegerField(help_text="Negative points take away from the score.")
    cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="The most this rule can add (or take away); empty for no cap.",
    )
    is_active = models.BooleanField(default=True)
    params = models.JSONField("parameters", default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scoring_model", "order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(cap__isnull=True) | Q(cap__gte=1), name="scoring_rule_cap_positive"),
        ]
        indexes = [models.Index(fields=["scoring_model", "order"], name="scoring_rule_model_order_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self) -> str:
        kind = rules.RULE_KINDS.get(self.kind)
        return kind.label if kind else f"Unknown kind ({self.kind})"

    def to_spec(self) -> rules.RuleSpec:
        return rules.RuleSpec(
            id=self.pk,
            name=self.name,
            kind=self.kind,
            dimension=self.dimension,
            points=self.points,
            cap=self.cap,
            params=self.params,
        )

    def clean(self) -> None:
        """Check the kind, dimension, points, cap and parameters with the kind's own validation.

        Parameter errors are keyed "params" and carry the parameter's name in ``params["param"]``,
        so the admin form can show each one beside its input.
        """
        if self.points is None:
            return  # the field's own "required" error says it already
        errors: dict[str, list[ValidationError]] = {}
        for key, message in rules.validate_rule(self.to_spec()).items():
            field, _, param = key.partition(".")
            error = ValidationError(message, code="invalid_param", params={"param": param} if param else None)
            errors.setdefault(field, []).append(error)
        if errors:
            raise ValidationError(errors)


class RescoreScope(models.TextChoices):
    ALL = "all", "All leads"
    DECAY = "decay", "Leads with recent engagement (decay pass)"


class RescoreStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SUPERSEDED = "superseded", "Superseded by a later job"


class RescoreJob(models.Model):
    """One background rescore of the leads, in batches of id ranges; its progress is shown in admin."""

    scope = models.CharField(max_length=10, choices=RescoreScope.choices, default=RescoreScope.ALL)
    status = models.CharField(max_length=12, choices=RescoreStatus.choices, default=RescoreStatus.QUEUED)
    reason = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scoring_model = models.ForeignKey(
        ScoringModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="rescore_jobs"
    )
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    scored_as_of = models.DateTimeField(
        null=True, blank=True, help_text="Every batch decays engagement to this instant, so the job is consistent."
    )
    total = models.PositiveIntegerField(default=0, help_text="Leads in scope when the job started.")
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0, help_text="Leads whose score or breakdown changed.")
    last_lead_id = models.BigIntegerField(default=0, help_text="Leads up to this id are done.")
    moved_to_mql = models.PositiveIntegerField("to MQL", default=0)
    moved_to_nurture = models.PositiveIntegerField("to nurture", default=0)
    disqualified = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="scoring_rescore_status_idx")]

    def __str__(self) -> str:
        return f"Rescore #{self.pk} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        if self.status == RescoreStatus.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0


class LeadMissingMqlFields(Lead):
    """Leads whose score reached the MQL threshold but that lack a baseline qualification field.

    A proxy, so the list is derived from the leads themselves (``selectors.leads_missing_mql_fields``)
    and never goes stale: complete the fields and the next scoring pass makes the lead an MQL.
    """

    class Meta:
        proxy = True
        verbose_name = "MQL — missing fields"
        verbose_name_plural = "MQL — missing fields"


# --- Rule-effectiveness rollups: written only by ``scoring.effectiveness_rollups`` --------------------------
#
# Every lead counts on the UTC day it was created. A day's rows are always recomputed whole from the leads of
# that day (their stored breakdown, score and stage history), never adjusted by deltas, so a retried or
# repeated refresh writes the same rows.


class EffectivenessDay(models.Model):
    """The leads created on ``day`` and how many of them reached MQL and SQL: the rule-effectiveness base."""

    day = models.DateField(unique=True)
    leads = models.PositiveIntegerField()
    reached_mql = models.PositiveIntegerField()
    reached_sql = models.PositiveIntegerField()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.day}: {self.leads} leads"


class RuleDayRollup(models.Model):
    """Of the leads created on ``day``, those whose stored breakdown lists ``rule``: how many, how many of them
    reached MQL and SQL, their points, and how many the rule alone carried over its model's MQL threshold."""

    day = models.DateField()
    rule = models.ForeignKey(ScoringRule, on_delete=models.CASCADE, related_name="+")
    mql_threshold = models.IntegerField(help_text="The threshold of the rule's model when the day was counted.")
    fired = models.PositiveIntegerField()
    reached_mql = models.PositiveIntegerField()
    reached_sql = models.PositiveIntegerField()
    points = models.BigIntegerField(help_text="The sum of the rule's points over the leads it fired on.")
    carried_over_threshold = models.PositiveIntegerField()

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["day", "rule"], name="ruledayrollup_day_rule_unique")]

    def __str__(self) -> str:
        return f"{self.day} rule {self.rule_id}: fired on {self.fired}"


class EffectivenessDirtyDay(models.Model):
    """A creation day whose effectiveness rollups must be recomputed: written in the same transaction as the
    change to an older lead (a score stored, a stage change, a lead deleted), deleted by the refresh that
    recomputed the day. Not unique: a refresh deletes only the rows it read, so a change committed during a
    refresh is never dropped."""

    day = models.DateField()

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.day} to recompute"


class EffectivenessState(models.Model):
    """One row: when the effectiveness rollups were last refreshed and rebuilt. Its lock serialises refreshes.

    ``rebuilt_at`` is empty until the first rebuild has finished: until then the page counts live.
    """

    refreshed_at = models.DateTimeField(null=True, blank=True, help_text="Changes committed before this are in.")
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    build_marks_through = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The last of the marks the first build wrote: the build is done once none up to it is left.",
    )

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"refreshed {self.refreshed_at:%Y-%m-%d %H:%M}" if self.refreshed_at else "never built"
