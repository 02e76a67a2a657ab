"""Admin for managers and marketers: teams with their calendars, members and rep pools, SLA policies, and the
routing rules (with "test this rule on a lead"). Assignments and routing decisions are read-only here, with their
reasons; the lead's own admin page shows them too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, ForeignKey, Model, Q, QuerySet
from django.forms import BaseInlineFormSet, ModelChoiceField, ModelForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django_countries import countries

from core import roles
from core.paginators import EstimatedCountPaginator
from core.typing import signed_in_user
from handoff import routing, selectors
from handoff.calendar import BusinessCalendar
from handoff.models import (
    Assignment,
    ClosedDate,
    ContactLog,
    Membership,
    Notification,
    RepPool,
    RoutingDecision,
    RoutingDestination,
    RoutingRule,
    SLAPolicy,
    SLARecord,
    Team,
    TeamHours,
)
from handoff.services import routing as routing_services
from leads import events
from leads.admin import LEAD_LABEL, LargeTableAdmin, LeadAdmin, SetChoiceFilter
from leads.admin_columns import day_over_time
from leads.enrichment.titles import JobFunction, Seniority
from leads.models import ChannelRule, Industry, Lead, SizeBand

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
    return roles.scoped_by_lead(request.user, queryset, leads=Lead.objects.all(), lead=lead)


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
        fields = () if request.user.has_perm(MANAGE_MEMBERSHIP) else ("managers", "is_default")
        # The report rollups, the API and the webhooks name a team by its slug: set once, when the team is made.
        return (*fields, "slug") if obj is not None else fields

    def get_prepopulated_fields(self, request: HttpRequest, obj: Team | None = None) -> dict[str, Any]:
        return {} if obj is not None else dict(self.prepopulated_fields)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: list[Any], change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change and not request.user.has_perm(MANAGE_MEMBERSHIP):
            # A manager who sets up a new team runs it (and sees it afterwards); staffing it is not theirs.
            form.instance.managers.add(request.user)

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count  # type: ignore[attr-defined]


class PoolMembersField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Model) -> str:
        return f"{obj.user} ({obj.team})" if isinstance(obj, Membership) else str(obj)


class RepPoolForm(ModelForm):
    members = PoolMembersField(
        queryset=Membership.objects.select_related("user", "team"),
        required=False,
        widget=FilteredSelectMultiple("members", is_stacked=False),
        help_text="Reps of the pool's team who take the leads routing sends to the pool.",
    )

    class Meta:
        model = RepPool
        fields = ("team", "name", "members")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        team, members = data.get("team"), data.get("members") or []
        strangers = [str(member.user) for member in members if team is not None and member.team_id != team.pk]
        if strangers:
            self.add_error("members", f"Not members of {team}: {', '.join(strangers)}.")
        return data


@admin.register(RepPool)
class RepPoolAdmin(admin.ModelAdmin):
    """Named subsets of a team's reps (senior account directors) that routing rules may send leads to."""

    form = RepPoolForm
    list_display = ("name", "team", "member_names")
    list_filter = ("team",)
    list_select_related = ("team",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RepPool]:
        pools = super().get_queryset(request).prefetch_related("members__user")
        if sees_every_team(request):
            return pools
        return pools.filter(team__in=selectors.managed_teams(user=signed_in_user(request)))

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "team" and not sees_every_team(request):
            kwargs["queryset"] = selectors.managed_teams(user=signed_in_user(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: RepPool | None = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if not sees_every_team(request):  # a manager picks among their own teams' reps
            managed = selectors.managed_teams(user=signed_in_user(request))
            members = form.base_fields["members"]
            assert isinstance(members, PoolMembersField)
            members.queryset = Membership.objects.filter(team__in=managed).select_related("user", "team")
        return form

    @admin.display(description="Members")
    def member_names(self, pool: RepPool) -> str:
        return ", ".join(str(member.user) for member in pool.members.all()) or "—"


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
        # A manager sees their own teams' policies and those without a team, which time their reps too; they set
        # only their own teams' (has_change_permission).
        return policies.filter(Q(team__in=selectors.managed_teams(user=signed_in_user(request))) | Q(team__isnull=True))

    def has_change_permission(self, request: HttpRequest, obj: SLAPolicy | None = None) -> bool:
        return not _every_teams_for_a_manager(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: SLAPolicy | None = None) -> bool:
        return not _every_teams_for_a_manager(request, obj) and super().has_delete_permission(request, obj)

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        changelist = super().get_changelist_instance(request)
        if not sees_every_team(request):
            # The list's inline edits check no row's own permission: a manager edits a policy on its page.
            changelist.list_editable = ()
        return changelist

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "team" and not sees_every_team(request):
            kwargs["queryset"] = selectors.managed_teams(user=signed_in_user(request))
            kwargs["required"] = True
            kwargs["help_text"] = "The team this policy times. Policies for every team are set by an administrator."
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


def _every_teams_for_a_manager(request: HttpRequest, policy: SLAPolicy | None) -> bool:
    """Whether ``policy`` is one for every team, asked about by a manager (who reads it and may not change it)."""
    return policy is not None and policy.team_id is None and not sees_every_team(request)


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


def render_reasons(*, decision: RoutingDecision | None, assignment: Assignment | None) -> str:
    """The reasons partial the rep's lead page shows, for admin pages."""
    return render_to_string("handoff/_decision_reasons.html", {"decision": decision, "assignment": assignment})


# How much of an assignment's reasoning its row in the admin list shows.
WHY_IN_LIST_CHARS = 60


@admin.register(Assignment)
class AssignmentAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = ("lead", "rep", "team", "state", "assigned", "due", "outcome", "ended", "why")
    list_filter = ("team", "state", ("outcome", SetChoiceFilter))
    list_select_related = ("lead", "rep", "team")
    list_columns = (
        "state", "assigned_at", "sla_due_at", "outcome", "ended_at", "reason", "reasons", "rep__username",
        "team__name", *(f"lead__{name}" for name in LEAD_LABEL),
    )  # fmt: skip
    raw_id_fields = ("lead",)
    ordering = ("-assigned_at", "-id")
    inlines = (SLARecordInline, ContactLogInline)
    exclude = ("reasons",)
    readonly_fields = ("why_this_rep",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assignment]:
        return scoped_by_lead(request, super().get_queryset(request))

    @admin.display(description="Assigned", ordering="assigned_at")
    def assigned(self, assignment: Assignment) -> str:
        return day_over_time(assignment.assigned_at)

    @admin.display(description="SLA due", ordering="sla_due_at")
    def due(self, assignment: Assignment) -> str:
        return day_over_time(assignment.sla_due_at)

    @admin.display(description="Ended", ordering="ended_at")
    def ended(self, assignment: Assignment) -> str:
        return day_over_time(assignment.ended_at)

    @admin.display(description="Why")
    def why(self, assignment: Assignment) -> str:
        # A few words in the list's narrow column (the whole reasoning hovers, and is on the assignment's page), cut
        # as Django's Truncator cuts them, which costs ten times as much.
        summary = str(assignment.reasons.get("summary") or assignment.reason)
        shown = summary if len(summary) <= WHY_IN_LIST_CHARS else f"{summary[: WHY_IN_LIST_CHARS - 1]}…"
        return format_html('<span title="{}">{}</span>', summary, shown)

    @admin.display(description="Why this rep")
    def why_this_rep(self, assignment: Assignment) -> str:
        return render_reasons(decision=None, assignment=assignment)


# --- Routing ------------------------------------------------------------------------------------------------


def _names(model: type[SizeBand] | type[Industry]) -> list[tuple[str, str]]:
    return [(name, name) for name in model.objects.order_by("name").values_list("name", flat=True)]


def _sources() -> list[tuple[str, str]]:
    """First-touch sources seen on leads, and those the channel rules name."""
    seen = set(selectors.first_touch_values("source"))
    for sources in ChannelRule.objects.values_list("sources", flat=True):
        seen.update(str(source) for source in sources or ())
    return [(source, source) for source in sorted(seen)]


SPELLED = {"c_level": "C-level", "vp": "VP", "it": "IT", "hr": "HR"}
# Each list condition: its pick list. A stored value missing from the list stays selectable, marked.
PICK_LISTS = {
    "size_bands": lambda: _names(SizeBand),
    "industries": lambda: _names(Industry),
    "countries": lambda: list(countries),
    "seniorities": lambda: [(value.value, SPELLED.get(value.value, value.value.title())) for value in Seniority],
    "job_functions": lambda: [(value.value, SPELLED.get(value.value, value.value.title())) for value in JobFunction],
    "sources": _sources,
}
LABELS = {
    "size_bands": "Size bands", "industries": "Industries", "countries": "Countries", "seniorities": "Seniorities",
    "job_functions": "Job functions", "sources": "First-touch sources",
}  # fmt: skip


class RoutingRuleForm(forms.ModelForm):
    """Conditions from pick lists; min ≤ max and a complete destination are checked by ``RoutingRule.clean``."""

    nurture_track = forms.ChoiceField(required=False, label="Nurture track")

    class Meta:
        model = RoutingRule
        fields = (
            "name", "order", "is_active", "is_default", *PICK_LISTS, "employee_min", "employee_max",
            "score_min", "score_max", "destination", "team", "pool", "nurture_track",
        )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the fields the form edits: a reader (a manager) gets every field read-only, none here.
        for name, choices in PICK_LISTS.items():
            if name not in self.fields:
                continue
            stored = [str(value) for value in (getattr(self.instance, name, None) or [])]
            offered = choices()
            known = {key.casefold() for key, _ in offered}
            extra = [(value, f"{value} (not in the list)") for value in stored if value.casefold() not in known]
            self.fields[name] = forms.MultipleChoiceField(
                choices=offered + extra,
                required=False,
                label=LABELS[name],
                widget=FilteredSelectMultiple(LABELS[name].lower(), is_stacked=False),
                help_text="Any of these; none chosen matches every lead.",
            )
        if "nurture_track" in self.fields:
            self._offer_tracks()
        if "pool" in self.fields:
            pool_field = self.fields["pool"]
            assert isinstance(pool_field, forms.ModelChoiceField)
            pool_field.queryset = RepPool.objects.select_related("team")

    def _offer_tracks(self) -> None:
        tracks = events.nurture_track_choices()
        current = self.instance.nurture_track
        if current and current not in dict(tracks):
            tracks = [*tracks, (current, f"{current} (no live track has this key)")]
        track_field = self.fields["nurture_track"]
        assert isinstance(track_field, forms.ChoiceField)
        track_field.choices = [("", "—"), *tracks]
        track_field.help_text = "A live track of the nurture app."

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        destination = data.get("destination")
        # Keep only the destination chosen, so the rule never holds a stale team or track.
        if destination == RoutingDestination.NURTURE:
            data["team"], data["pool"] = None, None
            self.instance.team, self.instance.pool = None, None
        elif destination == RoutingDestination.TEAM:
            data["pool"], data["nurture_track"] = None, ""
            self.instance.pool, self.instance.nurture_track = None, ""
        elif destination == RoutingDestination.POOL:
            data["nurture_track"] = ""
            self.instance.nurture_track = ""
            if data.get("pool") is not None:
                data["team"] = data["pool"].team
                self.instance.team = data["pool"].team
        return data


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ("name", "order", "is_active", "is_default", "where_to", "conditions")
    list_editable = ("order", "is_active")
    list_select_related = ("team", "pool")
    ordering = ("is_default", "order", "id")
    change_form_template = "admin/handoff/routingrule/change_form.html"
    fieldsets = (
        (None, {"fields": ("name", "order", "is_active", "is_default")}),
        ("When the lead matches (empty = any)", {"fields": (*PICK_LISTS, ("employee_min", "employee_max"),
                                                            ("score_min", "score_max"))}),
        ("Then send it to", {"fields": ("destination", "team", "pool", "nurture_track")}),
    )  # fmt: skip

    def has_delete_permission(self, request: HttpRequest, obj: RoutingRule | None = None) -> bool:
        # The default rule is the safety net that routes every lead; it can be edited, not removed.
        return not (obj is not None and obj.is_default) and super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RoutingRule]) -> None:
        super().delete_queryset(request, queryset.filter(is_default=False))

    @admin.display(description="Sends to")
    def where_to(self, rule: RoutingRule) -> str:
        if rule.destination == RoutingDestination.NURTURE:
            return f"Nurture: {routing_services.track_name(rule.nurture_track)}"
        if rule.destination == RoutingDestination.POOL and rule.pool is not None:
            return f"Pool: {rule.pool}"
        return f"Team: {rule.team}" if rule.team else "—"

    @admin.display(description="When")
    def conditions(self, rule: RoutingRule) -> str:
        return routing.describe(routing_services.conditions_of(rule))

    def get_urls(self) -> list[URLPattern]:
        tester = self.admin_site.admin_view(self.test_view)
        return [path("<int:object_id>/test/", tester, name="handoff_routingrule_test"), *super().get_urls()]

    def test_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The "test this rule on a lead" page: whether it matches, each condition checked, the first that failed."""
        rule = get_object_or_404(RoutingRule.objects.select_related("team", "pool"), pk=object_id)
        if not self.has_view_or_change_permission(request, rule):
            raise Http404("No such rule.")
        form = RuleTestForm(request.GET or None)
        result = None
        if form.is_valid():
            result = routing_services.try_rule_on_lead(rule=rule, lead=form.cleaned_data["lead"])
        context = {
            **self.admin_site.each_context(request),
            "title": f"Test “{rule}” on a lead",
            "opts": self.model._meta,
            "original": rule,
            "rule": rule,
            "form": form,
            "result": result,
            "lead": form.cleaned_data.get("lead") if result else None,
            "change_url": reverse("admin:handoff_routingrule_change", args=[rule.pk]),
        }
        return TemplateResponse(request, "admin/handoff/routingrule/test_rule.html", context)


class RuleTestForm(forms.Form):
    lead = forms.CharField(label="Lead", help_text="The lead's id or email address.", max_length=254)

    def clean_lead(self) -> Lead:
        value = self.cleaned_data["lead"].strip()
        lead = Lead.objects.filter(pk=int(value)).first() if value.isdigit() else None
        lead = lead or Lead.objects.filter(email__iexact=value).order_by("pk").first()
        if lead is None:
            raise ValidationError("No lead has this id or email address.")
        return lead


class RoutingDecisionInline(admin.StackedInline):
    """Where routing sent the lead and why, and why its latest assignment went to that rep (the lead's admin)."""

    model = RoutingDecision
    can_delete = False
    fields = ("reasons_shown",)
    readonly_fields = ("reasons_shown",)
    verbose_name = "routing and assignment"
    verbose_name_plural = "Why this lead is here (routing and assignment)"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Whoever sees the lead's page (the lead admin scopes which leads) sees why it is where it is. Shown
        # on reading the page only: a saved lead form then carries no formset of this display-only inline.
        return request.method == "GET" and request.user.has_perm("leads.view_lead")

    @admin.display(description="Reasons")
    def reasons_shown(self, decision: RoutingDecision) -> str:
        latest = decision.lead.assignments.order_by("-assigned_at", "-id").first()
        return render_reasons(decision=decision, assignment=latest)


# The lead's admin page (leads' own admin, which may not import handoff) shows the routing decision and the
# latest assignment's reasons: handoff adds its inline here, as it adds its lead scope above.
# (mypy reads LeadAdmin.inlines as exactly its four inline classes; any inline class belongs there.)
LeadAdmin.inlines = (*LeadAdmin.inlines, RoutingDecisionInline)  # type: ignore[assignment]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("kind", "assignment", "created_at", "sent_at", "attempts")
    list_filter = ("kind",)
    list_select_related = ("assignment__lead", "assignment__rep")
    raw_id_fields = ("assignment",)
    ordering = ("-created_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return scoped_by_lead(request, super().get_queryset(request), lead="assignment__lead")
