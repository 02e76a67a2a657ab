from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets, quote
from django.contrib.admin.views.main import PAGE_VAR, SEARCH_VAR, ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, router
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from core import roles
from core.batch import batch_scope
from core.paginators import EstimatedCountPaginator
from core.queries import distinct_values
from core.typing import signed_in_user
from leads import admin_columns, selectors, services, submissions
from leads.admin_columns import day_over_time
from leads.analytics_admin import FormAnalyticsMixin
from leads.enrichment import provenance
from leads.enrichment import services as enrichment_services
from leads.import_admin import ImportedInFilter
from leads.models import (
    Activity,
    CaptureForm,
    Consent,
    ConsentText,
    FieldKind,
    FormField,
    Lead,
    LeadAttribute,
    ProposedChange,
    ProposedChangeStatus,
    Stage,
    StageChange,
    Submission,
    SubmissionStatus,
    Touch,
)

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = (
        "legal_basis",
        "text",
        "text_version",
        "source",
        "source_ref",
        "given_at",
        "ip_address",
        "status",
        "confirmed_at",
        "confirmed_ip_address",
        "withdrawn_at",
    )
    readonly_fields = fields


class ActivityInline(ReadOnlyInline):
    model = Activity
    fields = ("kind", "occurred_at", "metadata")
    readonly_fields = fields


class TouchInline(ReadOnlyInline):
    model = Touch
    fields = ("occurred_at", "channel", "source", "medium", "campaign", "term", "content", "referrer", "landing_page")
    readonly_fields = fields


class StageChangeInline(ReadOnlyInline):
    model = StageChange
    fields = ("changed_at", "from_stage", "to_stage", "changed_by", "reason")
    readonly_fields = fields


# An admin action on leads; integrations adds its own to LeadAdmin.actions (integrations.privacy_admin).
LeadAction = Callable[[admin.ModelAdmin, HttpRequest, QuerySet[Lead]], HttpResponseBase | None]


def _move_to(stage: str, label: str) -> LeadAction:
    @admin.action(description=f"Move selected leads to {label}", permissions=["change"])
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        moved, refused, owned = 0, 0, 0
        now, by = timezone.now(), signed_in_user(request)
        for lead in queryset.select_related(None).only("id", "stage", "owner_id"):
            if lead.owner_id is not None:
                # Sales' lead: moved here, its rep could neither qualify nor reject it, and its SLA clock would run on.
                owned += 1
                continue
            try:
                services.change_stage(lead=lead, to_stage=stage, now=now, by=by, reason="Changed in admin")
                moved += 1
            except services.StageTransitionError:
                refused += 1
        modeladmin.message_user(request, f"Moved {moved} lead(s) to {label}.", messages.SUCCESS)
        if refused:
            modeladmin.message_user(
                request, f"{refused} lead(s) cannot move to {label} from their stage.", messages.WARNING
            )
        if owned:
            modeladmin.message_user(
                request,
                f"{owned} lead(s) are left as they are: a sales rep owns them. The rep rejects or recycles a lead from "
                "the inbox, and a manager can reassign it.",
                messages.WARNING,
            )

    action.__name__ = f"move_to_{stage}"
    return action


# Withdrawing and erasing cannot be undone, so each is confirmed on a page that names the leads, and done
# for a reviewable number of them at a time rather than for "all 40,000 matching".
WITHDRAW_AT_ONCE = 200


def _reviewable(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Lead],
    *,
    at_most: int,
    fields: tuple[str, ...],
    purpose: str,
) -> list[Lead] | None:
    """The selected leads, or None (with a message) when there are more than can be reviewed on one page."""
    leads = list(queryset.select_related(None).only(*fields)[: at_most + 1])
    if len(leads) > at_most:
        modeladmin.message_user(request, f"Select at most {at_most} leads {purpose}.", messages.ERROR)
        return None
    return leads


def _confirmation_page(
    modeladmin: admin.ModelAdmin, request: HttpRequest, leads: list[Lead], *, action: str, title: str, **extra: object
) -> TemplateResponse:
    """The page naming ``leads`` that posts ``action`` back with ``confirmed=yes`` (admin/leads/lead/<action>.html)."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.opts,
        "title": title,
        "leads": leads,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        **extra,
    }
    return TemplateResponse(request, f"admin/leads/lead/{action}.html", context)


@admin.action(description="Record consent withdrawal", permissions=["change"])
def record_consent_withdrawal(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]
) -> TemplateResponse | None:
    """A person withdrew by phone or email: after a confirmation with a note, withdraw as the link would."""
    fields = ("id", "email", "first_name", "last_name")
    leads = _reviewable(
        modeladmin, request, queryset, at_most=WITHDRAW_AT_ONCE, fields=fields, purpose="to record a consent withdrawal"
    )
    if leads is None:
        return None
    if request.POST.get("confirmed") != "yes":
        return _confirmation_page(
            modeladmin, request, leads, action="record_consent_withdrawal", title="Record consent withdrawal",
            confirm_label="Yes, record the withdrawal",
        )  # fmt: skip
    note = request.POST.get("note", "").strip()[:500]
    changed, unchanged = 0, 0
    now, by = timezone.now(), signed_in_user(request)
    for lead in leads:
        if services.withdraw_consents(lead=lead, now=now, source="admin", by=by, note=note):
            changed += 1
        else:
            unchanged += 1
    modeladmin.message_user(request, f"Recorded a consent withdrawal for {changed} lead(s).", messages.SUCCESS)
    if unchanged:
        modeladmin.message_user(request, f"{unchanged} lead(s) had no consent left to withdraw.", messages.INFO)
    return None


def _no_explanation(lead: Lead) -> str:
    return ""


def _no_pipeline(*, lead_id: int, now: datetime) -> object:
    return None


@dataclass(frozen=True)
class _Standing:
    """What admin feedback compares before and after a save: the lead's score, stage and owner."""

    score: int
    fit: int
    stage: str
    owner: str
    breakdown: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, lead: Lead) -> _Standing:
        rows = [row for row in lead.score_breakdown or [] if isinstance(row, dict)]
        return cls(
            score=lead.score, fit=lead.fit_score, stage=lead.get_stage_display(), owner=str(lead.owner or "nobody"),
            breakdown=tuple((str(row.get("reason") or row.get("name", "")), int(row.get("points") or 0))
                            for row in rows),
        )  # fmt: skip


# --- Lists of the tables that grow with the leads ------------------------------------------------------


# How many pages past the one shown a team-scoped user's list counts (see ``LargeTableAdmin.get_paginator``).
PAGES_COUNTED_AHEAD = 3
# Up to how many rows a search found are read by their keys (``CountAheadPaginator``): four pages.
FEW_FOUND = 200


class CountAheadPaginator(EstimatedCountPaginator):
    """Counts the rows only up to ``count_limit`` when it is given: ``more_than`` then says how many there are at least.

    Without it, as ``EstimatedCountPaginator``: an estimate of an unfiltered table on PostgreSQL, else an exact count.

    With ``search``, the count first reads the keys of the rows found, in no order, up to ``FEW_FOUND``: when there
    are no more (``found_all``), the pages read those rows by their keys; else it counts the rows, in no order.
    """

    def __init__(self, *args: Any, count_limit: int | None = None, search: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_limit = count_limit
        self.search = search
        self.found_all = False

    @cached_property
    def count(self) -> int:
        if self.count_limit is None or not isinstance(self.object_list, QuerySet):
            return super().count
        if not self.search:
            return self.object_list[: self.count_limit].count()
        # A search (``icontains``) can't use an index: in the list's order the database walks the order's index and
        # looks each row up until it has a page, all of them for a word few rows have (2 s at a million leads on
        # SQLite). Read as the rows lie, every row is read once (0.4 s); the few found are then sorted by key.
        # Past ``FEW_FOUND`` the keys would be too many to send back as parameters: the rows are counted instead.
        unordered = self.object_list.order_by()
        keys = list(unordered.values_list("pk", flat=True)[: FEW_FOUND + 1])
        if len(keys) <= FEW_FOUND:  # under every count limit (``LargeTableAdmin.get_paginator``)
            self.object_list = self.object_list.filter(pk__in=keys)
            self.found_all = True
            return len(keys)
        if len(keys) >= self.count_limit:
            return self.count_limit
        return unordered[: self.count_limit].count()

    @property
    def more_than(self) -> int | None:
        """At least this many rows and more, when the count stopped at its limit; None when it counted them all."""
        return self.count - 1 if self.count_limit is not None and self.count >= self.count_limit else None


class NarrowChangeList(ChangeList):
    """The list's rows read with only the columns its admin's ``list_columns`` names (all of them when it names none).

    Only the rows shown: actions still get the whole rows of what was selected.
    """

    def get_results(self, request: HttpRequest) -> None:
        columns = getattr(self.model_admin, "list_columns", ())
        if columns:
            self.queryset = self.queryset.only(*columns)
        super().get_results(request)
        if getattr(self.paginator, "found_all", False):
            # A search found few rows: the list reads them by their keys (CountAheadPaginator), on one page as on many.
            self.queryset = self.paginator.object_list
            if not self.multi_page or (self.show_all and self.can_show_all):
                self.result_list = self.queryset._clone()

    def url_for_result(self, result: models.Model) -> str:
        # The change page's address around the row's key, as Django's reverse() of it for each row gives it.
        before, after = self._change_url
        return f"{before}{quote(getattr(result, self.pk_attname))}{after}"

    @cached_property
    def _change_url(self) -> tuple[str, str]:
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_change"
        before, _, after = reverse(name, args=("0",), current_app=self.model_admin.admin_site.name).rpartition("/0/")
        return f"{before}/", f"/{after}"


class LargeTableAdmin(admin.ModelAdmin):
    """What the lists of the tables that grow with the leads share (leads, stage changes, submissions, assignments):
    a page of them must cost about the same at a million rows as at a hundred (issue 13, bench/admin_bench.py)."""

    # Rendering the rows is most of what a list page costs: 50 a page (Django's default is 100), as the inbox shows.
    list_per_page = 50
    # Counting a million rows on every view is what makes admin slow: the paginator estimates an unfiltered total
    # (core.paginators), and this skips admin's second, unfiltered count.
    show_full_result_count = False
    paginator = CountAheadPaginator
    # The columns the rows of the list read (``NarrowChangeList``), those of ``list_select_related`` among them.
    list_columns: tuple[str, ...] = ()

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return NarrowChangeList

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> CountAheadPaginator:
        """For a search, or a team-scoped user (a manager), a paginator that counts only a few pages past the one shown.

        A search reads every row's text (``icontains``), as a manager's rows are a filter over every lead
        (core.roles): counting them all scans every lead, a second or more at a million, where the page itself stops
        at its 50th row. Past the count the list says "more than N", and its page links reach the last page counted.
        The limit stays above ``list_max_show_all``, so "Show all" never offers to load every row.
        """
        limit = None
        searched = bool(request.GET.get(SEARCH_VAR, "").strip())
        if searched or roles.is_team_scoped(request.user):
            shown = _page_number(request)
            limit = max((shown + PAGES_COUNTED_AHEAD) * per_page, self.list_max_show_all) + 1
        return CountAheadPaginator(
            queryset, per_page, orphans, allow_empty_first_page, count_limit=limit, search=searched
        )

    def action_checkbox(self, obj: models.Model) -> SafeString:
        # Django's markup, written here: Django renders a checkbox widget through the template engine for each row,
        # an eighth of what the leads list cost.
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME, obj.pk, label,
        )  # fmt: skip


# The lead's columns its name in a list reads (``Lead.__str__``).
LEAD_LABEL = ("first_name", "last_name", "email", "phone")


class CountryFilter(admin.AllValuesFieldListFilter):
    """The countries of every lead, not only of the leads the user sees.

    For a manager, the countries of their teams' leads are a scan of every lead (2.4 s at a million); those of every
    lead, a seek of the country index for each (``core.queries.distinct_values``). A manager is offered a country none
    of their leads has, as they are offered every owner: picking it shows an empty list.
    """

    def __init__(self, field: models.Field, request: HttpRequest, params: dict[str, Any], model: type[models.Model],
                 model_admin: admin.ModelAdmin, field_path: str) -> None:  # fmt: skip
        super().__init__(field, request, params, model, model_admin, field_path)
        # Django's filter only iterates over its choices: a list serves as its queryset did.
        countries = distinct_values(model, field_path, using=router.db_for_read(model))
        self.lookup_choices = countries  # type: ignore[assignment]


class SetChoiceFilter(admin.ChoicesFieldListFilter):
    """A filter on a choice most rows leave blank: a submission's spam reason, an assignment's outcome.

    A choice few rows have is read from a partial index of the rows that have one (``WHERE NOT (column = '')``); the
    query also says the column is not blank, because SQLite uses a partial index only for a query whose ``WHERE``
    holds the index's own condition. Without one, the list walked its order's index through every row to find none:
    2 s for a spam reason no submission has, at a million. For a column of the model itself: across a multi-valued
    relation, ``exclude()`` would mean "no related row is blank" rather than "the one matched is not".
    """

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        filtered = super().queryset(request, queryset)
        chosen: list[str] = self.used_parameters.get(self.lookup_kwarg) or []  # type: ignore[assignment]
        if filtered is not None and chosen and "" not in chosen:
            filtered = filtered.exclude(**{self.field_path: ""})
        return filtered


def _page_number(request: HttpRequest) -> int:
    """The list page asked for, as admin's ChangeList reads it (1 when missing or not a number)."""
    try:
        return max(int(request.GET.get(PAGE_VAR, 1)), 1)
    except ValueError:
        return 1


@admin.register(Lead)
class LeadAdmin(LargeTableAdmin):
    # Stacked columns (leads.admin_columns): the key facts fit a 1280 px screen beside the filters.
    list_display = (
        admin_columns.lead_person, admin_columns.lead_company, admin_columns.lead_stage, "why_not_mql",
        admin_columns.lead_created,
    )  # fmt: skip
    # Filled in by the apps above leads when they are ready (leads imports none of them): scoring says why a lead is
    # not an MQL yet (scoring.explain), handoff runs a saved lead's pipeline at once (handoff.pipeline.process_lead).
    explain_hold: ClassVar[Callable[[Lead], str]] = staticmethod(_no_explanation)
    process_now: ClassVar[Callable[..., object]] = staticmethod(_no_pipeline)
    list_filter = ("stage", "owner", ("country", CountryFilter), ImportedInFilter)
    search_fields = selectors.LEAD_SEARCH_FIELDS
    list_select_related = ("owner",)
    date_hierarchy = None
    ordering = ("-created_at", "-id")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, without its warning
    # Stage, score and owner have their own services (scoring rules; assignment in the managers' team
    # queue, which records it and starts the SLA clock); admin never writes them directly.
    readonly_fields = (
        "stage",
        "stage_changed_at",
        "nurture_ends_at",
        "owner",
        "score",
        "fit_score",
        "engagement_score",
        "why_this_score",
        "why_not_mql",
        "scored_at",
        "email_domain_kind",
        "enrichment",
        "enriched_at",
        "enrichment_sources",
        "enriched_values",
        "enrichment_attempts",
        "enrichment_retry_at",
        "pipeline_step",
        "pipeline_step_at",
        "pipeline_reason",
        "pipeline_due_at",
        "created_at",
        "updated_at",
        "erased_at",
        "proposed_changes",
        "proposed_changes_to_view",
        "field_sources",
    )
    fieldsets = (
        (None, {"fields": ("email", "phone", "first_name", "last_name", "job_title")}),
        (
            "Company",
            {
                "fields": (
                    "company_name",
                    "company_domain",
                    "website",
                    "country",
                    "industry",
                    "employee_count",
                    "size_band",
                )
            },
        ),
        ("Role", {"fields": ("seniority", "job_function")}),
        (
            "Enrichment",
            {
                "fields": (
                    "email_domain_kind",
                    "enrichment",
                    "enriched_at",
                    "enrichment_attempts",
                    "enrichment_retry_at",
                    "enriched_values",
                )
            },
        ),
        (
            "Pipeline",
            {
                "fields": (
                    "pipeline_step",
                    "pipeline_step_at",
                    "pipeline_reason",
                    "why_not_mql",
                    "pipeline_due_at",
                    "stage",
                    "stage_changed_at",
                    "nurture_ends_at",
                    "owner",
                )
            },
        ),
        ("Score", {"fields": ("score", "fit_score", "engagement_score", "why_this_score", "scored_at")}),
        (
            "Other",
            {
                "fields": (
                    "custom_answers",
                    "field_sources",
                    "enrichment_sources",
                    "created_at",
                    "updated_at",
                    "erased_at",
                )
            },
        ),
    )

    def has_erase_permission(self, request: HttpRequest) -> bool:
        # The export and erase actions (GDPR art. 15, 17, 20) call every app, so integrations provides them
        # (integrations/privacy_admin.py) and adds them to ``actions`` when it is ready.
        return request.user.has_perm("leads.erase_lead")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        # A manager sees their teams' leads only (core.roles); marketing every lead. "Why not an MQL" reads the
        # consents (usable or not) of every listed lead: fetched in one query.
        return roles.scoped_leads(request.user, super().get_queryset(request)).prefetch_related("consents")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Rendered inside the batch scope, so the scoring model behind "why not an MQL" is read once for the page.
        with batch_scope():
            response = super().changelist_view(request, extra_context)
            if isinstance(response, TemplateResponse):
                response.render()
        return response

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Lead], search_term: str
    ) -> tuple[QuerySet[Lead], bool]:
        # Each word as the inbox asks it (selectors.lead_words_search_q): on PostgreSQL a word the trigram indexes
        # can't serve is asked in other terms.
        return queryset.filter(selectors.lead_words_search_q(search_term)), False

    @admin.display(description="Why not an MQL")
    def why_not_mql(self, lead: Lead) -> str:
        """Points short of the threshold (and which unknown facts would give them), fields missing."""
        return LeadAdmin.explain_hold(lead) or "—"

    @admin.display(description="Enrichment status")
    def enrichment(self, lead: Lead) -> str:
        return lead.enrichment_status_label  # "Not enriched: erased" rather than "Pending" once the lead is erased

    @admin.display(description="Enriched values")
    def enriched_values(self, lead: Lead) -> str:
        """Which provider set each value, when and how sure; what a provider found that the lead did not keep."""
        return render_to_string("leads/_enrichment_provenance.html", {"values": provenance.enriched_values(lead)})

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.erased_at is not None:
            # The person asked to be forgotten: nobody types their data back in here.
            return fields + tuple(name for name in flatten_fieldsets(self.fieldsets) if name not in fields)
        return fields

    @admin.display(description="Why this score")
    def why_this_score(self, lead: Lead) -> str:
        """The stored breakdown (written by the scoring app): each rule that counted, its points and why."""
        rows = [row for row in lead.score_breakdown or [] if isinstance(row, dict)]
        if not rows:
            return "Not scored yet, or no rule gave points."
        return format_html(
            "<table><thead><tr><th>Rule</th><th>Points</th><th>Why</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((row.get("name", ""), row.get("points", ""), row.get("reason", "")) for row in rows),
            ),
        )  # fmt: skip

    def save_model(self, request: HttpRequest, obj: Lead, form: forms.ModelForm, change: bool) -> None:
        before = {name: form.initial.get(name) for name in form.changed_data}
        now = timezone.now()
        standing = _Standing.of(obj) if change else None
        if "employee_count" in form.changed_data and "size_band" not in form.changed_data:
            enrichment_services.set_size_band(lead=obj, now=now)  # "Size — · 900 employees" no more
        super().save_model(request, obj, form, change)
        # What staff typed is staff's: no later submission replaces it (leads.merge). A new title, address or
        # company marks the lead for enrichment again.
        services.record_staff_edit(lead=obj, before=before, by=signed_in_user(request), now=now)
        # A lead held from MQL for a missing field moves on as soon as marketing completes it. The pipeline runs
        # now, so the page after saving shows the new score, stage and owner (the worker's wake-up finds nothing).
        services.enqueue_pipeline(lead_id=obj.pk)
        LeadAdmin.process_now(lead_id=obj.pk, now=now)
        if standing is not None:
            lead = Lead.objects.select_related("owner").get(pk=obj.pk)
            for level, text in _save_feedback(lead, before=standing, since=now):
                self.message_user(request, text, level)

    # --- Proposed changes (leads.merge): shown above the fields, each accepted or dismissed in one click.

    def get_fieldsets(self, request: HttpRequest, obj: Lead | None = None) -> _FieldsetSpec:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and obj.proposed_changes.filter(status=ProposedChangeStatus.OPEN).exists():
            # Only who may change the lead gets the buttons; a manager reads the list.
            field = "proposed_changes" if self.has_change_permission(request, obj) else "proposed_changes_to_view"
            description = "Sent by someone using this lead's email address, and not applied."
            fieldsets.insert(0, ("Proposed changes", {"fields": (field,), "description": description}))
        return fieldsets

    @admin.display(description="Open proposed changes")
    def proposed_changes(self, lead: Lead) -> str:
        return _proposed_changes_table(lead, with_buttons=True)

    @admin.display(description="Open proposed changes")
    def proposed_changes_to_view(self, lead: Lead) -> str:
        return _proposed_changes_table(lead, with_buttons=False)

    def get_urls(self) -> list[URLPattern]:
        decide = self.admin_site.admin_view(self.decide_change_view)
        # Before the model's own URLs, whose "<path:object_id>/" would take this address too.
        url = path("<int:lead_id>/changes/<int:change_id>/<slug:decision>/", decide, name="leads_lead_decide_change")
        return [url, *super().get_urls()]

    def decide_change_view(self, request: HttpRequest, lead_id: int, change_id: int, decision: str) -> HttpResponse:
        """Accept or dismiss one proposed change of the lead (POST), as a user who may change leads."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        lead = self.get_object(request, str(lead_id))
        if lead is None or decision not in PROPOSED_CHANGE_DECISIONS:
            raise Http404("No such lead or decision.")
        if not self.has_change_permission(request, lead):
            raise PermissionDenied
        change = get_object_or_404(ProposedChange, pk=change_id, lead=lead)
        decide, done = PROPOSED_CHANGE_DECISIONS[decision]
        try:
            decide(change=change, by=signed_in_user(request), now=timezone.now())
        except (services.ChangeAlreadyDecidedError, ValidationError) as error:
            self.message_user(request, " ".join(_messages_of(error)), messages.ERROR)
        else:
            # The history names the field, not the value: erasure rewrites no change message.
            self.log_change(request, lead, f"{done} the proposed change of {change.field}.")
            self.message_user(request, f"{done}: {change.label}.", messages.SUCCESS)
        return redirect("admin:leads_lead_change", lead.pk)

    inlines = (ConsentInline, TouchInline, ActivityInline, StageChangeInline)
    actions: tuple[LeadAction, ...] = (
        _move_to(Stage.NURTURE, "nurture"),
        _move_to(Stage.DISQUALIFIED, "disqualified"),
        record_consent_withdrawal,
    )


def _save_feedback(lead: Lead, *, before: _Standing, since: datetime) -> list[tuple[int, str]]:
    """What saving changed in the lead's score, stage and owner, each with its reason, as admin messages."""
    after = _Standing.of(lead)
    notes: list[tuple[int, str]] = []
    if after.score != before.score:
        gained = [reason for reason in after.breakdown if reason not in before.breakdown]
        lost = [reason for reason in before.breakdown if reason not in after.breakdown]
        why = "; ".join([*(f"{text}" for text, _ in gained), *(f"no longer {text}" for text, _ in lost)])
        notes.append((messages.INFO, f"Score {before.score} → {after.score}" + (f": {why}." if why else ".")))
    else:
        notes.append((messages.INFO, f"Score unchanged at {after.score}."))
    if after.stage != before.stage:
        change = lead.stage_changes.filter(changed_at__gte=since).order_by("-changed_at", "-id").first()
        reason = change.reason if change is not None and change.reason else lead.pipeline_reason
        notes.append((messages.INFO, f"Stage {before.stage} → {after.stage}" + (f": {reason}" if reason else ".")))
    if after.owner != before.owner:
        notes.append((messages.INFO, f"Owner {before.owner} → {after.owner}: {lead.pipeline_reason}"))
    elif lead.pipeline_reason:
        notes.append((messages.INFO, f"Owner {after.owner}: {lead.pipeline_reason}"))
    held = LeadAdmin.explain_hold(lead)
    if held:
        notes.append((messages.WARNING, f"Not an MQL yet: {held}"))
    return notes


PROPOSED_CHANGE_DECISIONS = {
    "accept": (services.accept_proposed_change, "Accepted"),
    "dismiss": (services.dismiss_proposed_change, "Dismissed"),
}


def _proposed_changes_table(lead: Lead, *, with_buttons: bool) -> str:
    changes = lead.proposed_changes.filter(status=ProposedChangeStatus.OPEN).select_related("submission__form")
    rows = [
        format_html(
            "<tr><td>{}</td><td>{}</td><td><strong>{}</strong></td><td>{}</td><td>{}</td></tr>",
            change.label, change.current_display, change.value_display, _proposed_by(change),
            _decide_buttons(lead, change) if with_buttons else "",
        )
        for change in changes
    ]  # fmt: skip
    return format_html(
        "<table><thead><tr><th>Field</th><th>Now</th><th>Proposed</th><th>From</th><th></th></tr></thead>"
        "<tbody>{}</tbody></table>",
        format_html_join("", "{}", ((row,) for row in rows)),
    )


def _decide_buttons(lead: Lead, change: ProposedChange) -> str:
    # Each button posts the change form to its own address (formaction): a form inside that form is not allowed.
    button = '<button type="submit" class="button" formaction="{}" formnovalidate>{}</button>'
    return format_html(
        button + " " + button,
        reverse("admin:leads_lead_decide_change", args=[lead.pk, change.pk, "accept"]),
        "Accept",
        reverse("admin:leads_lead_decide_change", args=[lead.pk, change.pk, "dismiss"]),
        "Dismiss",
    )


def _proposed_by(change: ProposedChange) -> str:
    sent = f"{timezone.localtime(change.created_at):%Y-%m-%d %H:%M}"
    return f"{change.submission.form.name}, {sent}" if change.submission else sent


def _messages_of(error: Exception) -> list[str]:
    return error.messages if isinstance(error, ValidationError) else [str(error)]


@admin.register(StageChange)
class StageChangeAdmin(LargeTableAdmin):
    list_display = ("lead", "from_stage", "to_stage", "changed_by", "changed")
    list_filter = ("to_stage",)
    list_select_related = ("lead", "changed_by")
    list_columns = (
        "from_stage", "to_stage", "changed_at", "changed_by__username", *(f"lead__{name}" for name in LEAD_LABEL),
    )  # fmt: skip
    raw_id_fields = ("lead", "changed_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[StageChange]:
        return roles.scoped_by_lead(request.user, super().get_queryset(request), leads=Lead.objects.all())

    @admin.display(description="Changed", ordering="changed_at")
    def changed(self, change: StageChange) -> str:
        return day_over_time(change.changed_at)


# --- Forms ------------------------------------------------------------------------------------------


# The fields a new form starts with: what every lead needs (a direct channel, a name, a firm).
DEFAULT_FORM_FIELDS: tuple[dict[str, Any], ...] = (
    {"order": 1, "label": "Work email", "kind": FieldKind.EMAIL, "lead_attribute": LeadAttribute.EMAIL,
     "is_required": True},
    {"order": 2, "label": "First name", "kind": FieldKind.TEXT, "lead_attribute": LeadAttribute.FIRST_NAME,
     "is_required": True},
    {"order": 3, "label": "Last name", "kind": FieldKind.TEXT, "lead_attribute": LeadAttribute.LAST_NAME},
    {"order": 4, "label": "Company", "kind": FieldKind.TEXT, "lead_attribute": LeadAttribute.COMPANY_NAME,
     "is_required": True},
)  # fmt: skip


class TextareaField(forms.CharField):
    """A textarea's text with its line breaks as LF, as every other writer stores them: browsers post CR LF.

    Normalised where the value is cleaned, so a form saved without an edit compares equal to what is stored:
    it changes nothing, and the audit trail records no change.
    """

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        return text.replace("\r\n", "\n").replace("\r", "\n") if text else text


# Text fields keep the admin's textarea widget and get their line breaks normalised.
TEXTAREA_OVERRIDES: dict[type[models.Field], dict[str, Any]] = {models.TextField: {"form_class": TextareaField}}


class FormFieldFormSet(BaseInlineFormSet):
    """Checks across the fields of one form, which no single field can check alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound:
            self._keep_stored_order()

    def _keep_stored_order(self) -> None:
        """Keep the rows' stored numbers when the rows are posted in the order they are stored in.

        The form builder's script (static/js/form_builder_reorder.js) numbers the rows 1, 2, 3… as it shows
        them, while stored numbers may have gaps (the demo forms' 10, 20, 30…, or where a row was removed):
        taken as posted, a save without an edit would renumber every row. Once a row has moved, the posted
        positions are taken as they are.
        """
        stored = {str(field.pk): (field.order, field.pk) for field in self.get_queryset()}
        existing: list[tuple[int, str, tuple[int, int]]] = []  # (posted position, data key, stored order and pk)
        added: list[tuple[int, str]] = []
        for i in range(self.total_form_count()):
            key = f"{self.add_prefix(i)}-order"
            try:
                position = int(self.data[key])
            except (KeyError, TypeError, ValueError):
                return  # the row's own validation reports it
            row = stored.get(str(self.data.get(f"{self.add_prefix(i)}-id", "")))
            if row is None:
                added.append((position, key))
            else:
                existing.append((position, key, row))
        existing.sort(key=lambda row: row[0])
        stored_sequence = [row[2] for row in existing]
        if not existing or stored_sequence != sorted(stored_sequence) or any(p <= existing[-1][0] for p, _ in added):
            return
        data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
        for _, key, (order, _pk) in existing:
            data[key] = str(order)
        last = stored_sequence[-1][0]
        for n, (_, key) in enumerate(sorted(added), start=1):
            data[key] = str(last + n)  # new rows come after the stored ones, in their posted order
        self.data = data

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        # A suggested field of a new form (DEFAULT_FORM_FIELDS) is kept unless its row is removed, even when
        # nobody edits it: unchanged extra rows are otherwise dropped as empty.
        if self.initial_extra and self.initial_form_count() <= i < self.initial_form_count() + len(self.initial_extra):
            form.empty_permitted = False
            form.has_changed = lambda: True
        return form

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        rows = [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        # Each row passed FormField.clean, so exactly one of the two is set.
        keys: list[str] = [row["lead_attribute"] or row["answer_key"] for row in rows]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValidationError(
                f"Each field needs its own lead attribute or answer key; used twice: {', '.join(repeated)}."
            )
        reachable = [row for row in rows if row.get("lead_attribute") in (LeadAttribute.EMAIL, LeadAttribute.PHONE)]
        if not any(row.get("is_required") for row in reachable):
            raise ValidationError("Add a required Email (or Phone) field: a lead is someone we can reach.")
        has_required_email = any(r.get("lead_attribute") == LeadAttribute.EMAIL and r.get("is_required") for r in rows)
        if self.instance.is_double_opt_in and not has_required_email:
            raise ValidationError("Double opt-in sends a confirmation email: add a required Email field.")


class FormFieldInlineForm(forms.ModelForm):
    class Meta:
        model = FormField
        fields = (
            "order",
            "label",
            "kind",
            "lead_attribute",
            "answer_key",
            "is_required",
            "is_progressive",
            "choices",
            "help_text",
            "default_value",
        )
        # Narrow inputs, so a row of the table fits a 1280 px screen; the order is set by dragging the rows
        # (or moving them with the keyboard), which static/js/form_builder_reorder.js writes into this field.
        widgets = {
            "order": forms.HiddenInput(attrs={"data-order": "true"}),
            "label": forms.TextInput(attrs={"size": 16}),
            "answer_key": forms.TextInput(attrs={"size": 10}),
            "choices": forms.Textarea(attrs={"rows": 1, "cols": 14}),
            "help_text": forms.TextInput(attrs={"size": 12}),
            "default_value": forms.TextInput(attrs={"size": 8}),
        }


class FormFieldInline(admin.TabularInline):
    model = FormField
    form = FormFieldInlineForm
    formset = FormFieldFormSet
    formfield_overrides = TEXTAREA_OVERRIDES
    extra = 0
    ordering = ("order", "id")
    classes = ("form-builder",)
    # Folded into one "Options" cell per row, so that a row fits a 1280 px screen.
    template = "admin/leads/captureform/fields_inline.html"
    option_fields = ("choices", "help_text", "default_value")

    def get_extra(self, request: HttpRequest, obj: CaptureForm | None = None, **kwargs: Any) -> int:
        return len(DEFAULT_FORM_FIELDS) if obj is None or obj.pk is None else 0

    fields = (
        "order",
        "label",
        "kind",
        "lead_attribute",
        "answer_key",
        "is_required",
        "is_progressive",
        "choices",
        "help_text",
        "default_value",
    )


class ConsentTextInline(ReadOnlyInline):
    model = ConsentText
    verbose_name_plural = "consent text versions (each consent keeps the version its person saw)"
    fields = ("version", "text", "created_at", "created_by")
    readonly_fields = fields
    ordering = ("-version",)


def _https_url_fields(field: models.Field, **kwargs: Any) -> forms.Field | None:
    # Typed addresses without a scheme become https:// (Django 6's default; silences its warning now).
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class CaptureFormAdminForm(forms.ModelForm):
    consent_text = TextareaField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"}),
        help_text="The exact words shown beside the consent box (opt-in) or under the form (legitimate interest). "
        "Changing them makes a new version; earlier consents keep the version their person saw.",
    )

    class Meta:
        model = CaptureForm
        fields = (
            "name",
            "slug",
            "is_active",
            "headline",
            "intro",
            "submit_label",
            "legal_basis",
            "is_double_opt_in",
            "thank_you_text",
            "asset_file",
            "asset_url",
            "redirect_url",
            "allowed_origins",
            "progressive_questions",
        )
        formfield_callback = _https_url_fields

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        current = selectors.current_consent_text(self.instance) if self.instance.pk else None
        if current is not None:
            self.fields["consent_text"].initial = current.text


@admin.register(CaptureForm)
class CaptureFormAdmin(FormAnalyticsMixin, admin.ModelAdmin):
    form = CaptureFormAdminForm
    list_display = ("name", "slug", "is_active", "legal_basis", "is_double_opt_in", "links")
    list_filter = ("is_active", "is_double_opt_in", "legal_basis")
    search_fields = ("name", "slug", "headline")
    prepopulated_fields = {"slug": ("name",)}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}, **TEXTAREA_OVERRIDES}
    readonly_fields = ("links", "embed_snippet", "created_at", "updated_at")
    inlines = (FormFieldInline, ConsentTextInline)

    def get_readonly_fields(self, request: HttpRequest, obj: CaptureForm | None = None) -> tuple[str, ...]:
        # The slug is the form's public address (the sites that embed it) and what its submissions and the report
        # rollups name it by: it is set once, when the form is made.
        return (*self.readonly_fields, "slug") if obj is not None else self.readonly_fields

    def get_prepopulated_fields(self, request: HttpRequest, obj: CaptureForm | None = None) -> dict[str, Any]:
        return {} if obj is not None else dict(self.prepopulated_fields)

    fieldsets = (
        (None, {"fields": ("name", "slug", "is_active", "links")}),
        ("Page", {"fields": ("headline", "intro", "submit_label")}),
        ("Consent", {"fields": ("legal_basis", "consent_text", "is_double_opt_in")}),
        ("After submitting", {"fields": ("thank_you_text", "asset_file", "asset_url", "redirect_url")}),
        ("Embedding", {"fields": ("allowed_origins", "embed_snippet")}),
        (
            "Progressive profiling",
            {
                "fields": ("progressive_questions",),
                "description": "Mark fields as progressive below. New visitors never see them; a returning "
                "visitor is not asked again what we know, and gets this many unanswered progressive fields.",
            },
        ),
        ("History", {"fields": ("created_at", "updated_at")}),
    )

    def get_formset_kwargs(
        self, request: HttpRequest, obj: CaptureForm, inline: admin.options.InlineModelAdmin, prefix: str
    ) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, FormFieldInline) and obj.pk is None:
            kwargs["initial"] = [dict(row) for row in DEFAULT_FORM_FIELDS]
        return kwargs

    def save_model(self, request: HttpRequest, obj: CaptureForm, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        submissions.update_consent_text(
            form=obj, text=form.cleaned_data["consent_text"], by=signed_in_user(request), now=timezone.now()
        )

    @admin.display(description="Links")
    def links(self, obj: CaptureForm) -> str:
        if not obj.pk:
            return "Save the form first."
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Preview</a> · <a href="{}" target="_blank" rel="noopener">'
            'Public page</a> · <a href="{}?form__id__exact={}">Submissions</a> · <a href="{}">Analytics</a>',
            reverse("leads:form_preview", args=[obj.slug]),
            reverse("leads:form", args=[obj.slug]),
            reverse("admin:leads_submission_changelist"),
            obj.pk,
            reverse("admin:leads_captureform_form_analytics", args=[obj.pk]),
        )

    @admin.display(description="Embed snippet")
    def embed_snippet(self, obj: CaptureForm) -> str:
        if not obj.pk:
            return "Save the form first."
        snippet = f'<script src="{settings.SITE_URL}{reverse("leads:form_embed_script", args=[obj.slug])}"></script>'
        return format_html(
            '<textarea readonly rows="2" class="vLargeTextField" aria-label="Embed snippet">{}</textarea>'
            '<div class="help">Paste it where the form should appear, on a page of an allowed origin.</div>',
            snippet,
        )


@admin.action(description="Release selected spam into the pipeline", permissions=["change"])
def release_from_spam(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
    released, failed = 0, 0
    now, by = timezone.now(), signed_in_user(request)
    for submission in queryset.filter(status=SubmissionStatus.SPAM).select_related("form", "consent_text"):
        try:
            if submissions.release_submission(submission=submission, by=by, now=now):
                released += 1
        except ValidationError:
            failed += 1
    modeladmin.message_user(request, f"Released {released} submission(s) into the pipeline.", messages.SUCCESS)
    if failed:
        modeladmin.message_user(
            request,
            f"{failed} submission(s) were not released: no usable email or phone, or an address on the suppression "
            "list (an erased person, or one who objected).",
            messages.WARNING,
        )


@admin.register(Submission)
class SubmissionAdmin(LargeTableAdmin):
    list_display = (
        admin_columns.submission_sent, "form", admin_columns.submission_person, admin_columns.submission_status,
        "ip_address",
    )  # fmt: skip
    list_filter = ("status", ("spam_reason", SetChoiceFilter), "form")
    search_fields = ("lead__email", "payload__email", "=ip_address")
    # Their forms and leads are read after the page's rows (``get_queryset``), not joined to every submission.
    list_select_related = ()
    ordering = ("-submitted_at", "-id")
    actions = (release_from_spam,)
    fields = (
        "form",
        "submitted_at",
        "status",
        "spam_reason",
        "spam_detail",
        "released_at",
        "released_by",
        "lead",
        "consent",
        "consent_text",
        "answers",
        "attribution_data",
        "ip_address",
        "user_agent",
        "rendered_at",
        "confirmation_sent_at",
        "idempotency_key",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Submission], search_term: str
    ) -> tuple[QuerySet[Submission], bool]:
        # ``search_fields`` asked as indexes can serve them (selectors.submission_search_q).
        for word in selectors.search_words(search_term):
            queryset = queryset.filter(selectors.submission_search_q(word))
        return queryset, False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        # No index serves the list's order: joined, SQLite reads every submission's lead before it sorts them and
        # keeps a page (6 s at a million); alone, it sorts the submissions (0.2 s), and the page's forms and leads
        # come in one query each.
        leads = Lead.objects.only(*LEAD_LABEL)
        return super().get_queryset(request).prefetch_related("form", models.Prefetch("lead", queryset=leads))

    @admin.display(description="Email")
    def email(self, obj: Submission) -> str:
        return obj.payload.get("email", "") or (obj.lead.email if obj.lead else "") or ""

    @admin.display(description="Answers")
    def answers(self, obj: Submission) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))

    @admin.display(description="Attribution")
    def attribution_data(self, obj: Submission) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.attribution, indent=2, ensure_ascii=False))
