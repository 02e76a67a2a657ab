"""Admin for managers: teams with their calendars and members, and SLA policies. Assignments are read-only here."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, ForeignKey, Model, QuerySet
from django.forms import BaseInlineFormSet, ModelChoiceField, ModelForm
from django.http import HttpRequest

from core import roles
from core.paginators import EstimatedCountPaginator
from core.typing import signed_in_user
from handoff import selectors
from handoff.calendar import BusinessCalendar
from handoff.models import (
    Assignment,
    ClosedDate,
    ContactLog,
    Membership,
    Notification,
    SLAPolicy,
    SLARecord,
    Team,
    TeamHours,
)

SELLING_ROLES = (roles.SALES_REP, roles.SALES_MANAGER)
MANAGE_MEMBERSHIP = "handoff.manage_team_membership"

# A manager sees the leads of the teams they run, in every app's admin: leads' admin asks core.roles, which
# gets the rule from here (admin imports this module at start-up; without it team-scoped staff see no lead).
roles.register_lead_scope(selectors.lead_scope)


def sees_every_team(request: HttpRequest) -> bool:
    """Marketing (read only), superusers and whoever may staff teams see every team; a manager their own."""
    return not roles.is_team_scoped(request.user) or request.user.has_perm(MANAGE_MEMBERSHIP)


M = TypeVar("M", bound=Model)


def scoped_by_lead(request: HttpRequest, queryset: QuerySet[M], *, lead: str = "lead") -> QuerySet[M]:
    """``queryset`` narrowed to the rows whose lead (at the path ``lead``) the user may see."""
    if not roles.is_team_scoped(request.user):
        return queryset
    return queryset.filter(**{f"{lead}__in": selectors.visible_leads(user=signed_in_user(request))})


REQUIRED_HOURS = ("weekday", "opens_at", "closes_at")


class TeamHoursFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        """Reject overlapping or never-open hours the way the SLA maths would, before they are saved."""
        super().clean()
        hours: dict[int, list[tuple[object, object]]] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not all(data.get(name) is not None for name in REQUIRED_HOURS):
                continue  # empty, deleted, or already reported by the row's own validation
            hours.setdefault(data["weekday"], []).append((data["opens_at"], data["closes_at"]))
        try:
            BusinessCalendar(timezone="UTC", hours=hours)  # type: ignore[arg-type]
        except ValueError as error:
            raise ValidationError(str(error).replace("calendar is never open", "the team is never open")) from error


class TeamHoursInline(admin.TabularInline):
    model = TeamHours
    formset = TeamHoursFormSet
    extra = 0
    min_num = 1


class ClosedDateInline(admin.TabularInline):
    model = ClosedDate
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "capacity_weight", "is_active", "out_of_office_from", "out_of_office_until")

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "user":
            # Only people who can work an inbox can take leads.
            kwargs["queryset"] = get_user_model().objects.filter(groups__name__in=SELLING_ROLES).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Without the permission a manager keeps their reps' capacity and time off up to date, but who is in
    # the team is someone else's decision: a rep added to a team is a person whose leads its managers see.
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_add_permission(request, obj) and request.user.has_perm(MANAGE_MEMBERSHIP)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and request.user.has_perm(MANAGE_MEMBERSHIP)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple[str, ...]:
        return () if request.user.has_perm(MANAGE_MEMBERSHIP) else ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "timezone", "holiday_country", "is_default", "member_count")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("managers",)
    search_fields = ("name", "slug")
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_default", "managers")}),
        ("Calendar", {"fields": ("timezone", "holiday_country", "holiday_subdivision")}),
    )
    inlines = (TeamHoursInline, ClosedDateInline, MembershipInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        teams = super().get_queryset(request).annotate(member_count=Count("memberships"))
        if sees_every_team(request):
            return teams
        return teams.filter(pk__in=selectors.managed_teams(user=signed_in_user(request)).values("pk"))

    def get_readonly_fields(self, request: HttpRequest, obj: Team | None = None) -> tuple[str, ...]:
        # The managers decide who sees the team's leads; the default team gets every unrouted MQL.
        return () if request.user.has_perm(MANAGE_MEMBERSHIP) else ("managers", "is_default")

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: list[Any], change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change and not request.user.has_perm(MANAGE_MEMBERSHIP):
            # A manager who sets up a new team runs it (and sees it afterwards); staffing it is not theirs.
            form.instance.managers.add(request.user)

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count  # type: ignore[attr-defined]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "priority", "is_active", "team", "criteria", "target", "reminder_percent", "on_breach")
    list_filter = ("is_active", "team", "on_breach")
    list_editable = ("priority", "is_active")
    fieldsets = (
        (None, {"fields": ("name", "priority", "is_active", "team")}),
        ("Which leads (empty matches all)", {"fields": ("stage", "size_band", "min_score", "max_score", "source")}),
        ("First-contact target", {"fields": ("target_duration", "reminder_percent", "on_breach")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[SLAPolicy]:
        policies = super().get_queryset(request)
        if sees_every_team(request):
            return policies
        # A policy without a team applies to every team: a manager sees and sets their own teams' only.
        return policies.filter(team__in=selectors.managed_teams(user=signed_in_user(request)))

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "team" and not sees_every_team(request):
            kwargs["queryset"] = selectors.managed_teams(user=signed_in_user(request))
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Leads")
    def criteria(self, policy: SLAPolicy) -> str:
        parts = [
            policy.get_stage_display() if policy.stage else "",
            policy.size_band,
            f"score ≥ {policy.min_score}" if policy.min_score is not None else "",
            f"score ≤ {policy.max_score}" if policy.max_score is not None else "",
            f"from {policy.source}" if policy.source else "",
        ]
        return ", ".join(part for part in parts if part) or "all"

    @admin.display(description="Target")
    def target(self, policy: SLAPolicy) -> str:
        return f"{format_hours(policy.target_duration)} business hours"


def format_hours(duration: timedelta) -> str:
    hours = duration.total_seconds() / 3600
    return f"{hours:g}"


class ReadOnlyAdmin(admin.ModelAdmin):
    """History written by the services; admin only shows it."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class SLARecordInline(admin.StackedInline):
    model = SLARecord
    can_delete = False
    readonly_fields = (
        "policy",
        "target_duration",
        "on_breach",
        "started_at",
        "due_at",
        "remind_at",
        "reminded_at",
        "met_at",
        "breached_at",
        "escalated_at",
        "stopped_at",
    )

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ContactLogInline(admin.TabularInline):
    model = ContactLog
    extra = 0
    can_delete = False
    readonly_fields = ("rep", "kind", "note", "contacted_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("lead", "rep", "team", "state", "assigned_at", "sla_due_at", "outcome", "ended_at")
    list_filter = ("team", "state", "outcome")
    list_select_related = ("lead", "rep", "team")
    raw_id_fields = ("lead",)
    ordering = ("-assigned_at", "-id")
    inlines = (SLARecordInline, ContactLogInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        return scoped_by_lead(request, super().get_queryset(request))


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("kind", "assignment", "created_at", "sent_at", "attempts")
    list_filter = ("kind",)
    list_select_related = ("assignment__lead", "assignment__rep")
    raw_id_fields = ("assignment",)
    ordering = ("-created_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return scoped_by_lead(request, super().get_queryset(request), lead="assignment__lead")
