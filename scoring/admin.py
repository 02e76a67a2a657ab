"""Admin for marketers: scoring models and rules with a what-if preview, rescore jobs, and held MQLs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.paginators import EstimatedCountPaginator
from core.typing import signed_in_user

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts, _FieldsetSpec
    from django.utils.functional import _StrPromise
from scoring import baseline, rules, selectors, services
from scoring.forms import RULE_FIELDS, ScoringModelForm, ScoringRuleForm, param_field_names
from scoring.models import LeadMissingMqlFields, RescoreJob, ScoringModel, ScoringRule


class WhatIfPreviewMixin:
    """A "Preview impact" button on the change form: validates the form and shows the what-if numbers unsaved."""

    def what_if(self, candidate: Any) -> services.WhatIf:
        raise NotImplementedError

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "POST" and "_preview" in request.POST:
            return self._preview_view(request, object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]

    def _preview_view(self, request: HttpRequest, object_id: str | None) -> HttpResponse:
        model_admin: admin.ModelAdmin = self  # type: ignore[assignment]
        add = object_id is None
        obj = None if object_id is None else model_admin.get_object(request, unquote(object_id))
        if object_id is not None and obj is None:
            raise Http404(f"No {model_admin.opts.verbose_name} with id “{object_id}”.")
        allowed = model_admin.has_add_permission(request) if add else model_admin.has_change_permission(request, obj)
        if not allowed:
            raise PermissionDenied
        fieldsets = model_admin.get_fieldsets(request, obj)
        form_class = model_admin.get_form(request, obj, change=not add, fields=flatten_fieldsets(fieldsets))
        form: ModelForm = form_class(request.POST, request.FILES, instance=obj)
        what_if = self.what_if(form.save(commit=False)) if form.is_valid() else None
        admin_form = helpers.AdminForm(
            form,
            list(fieldsets),  # type: ignore[arg-type]  # django-stubs' _FieldOpts vs AdminForm's dict
            model_admin.get_prepopulated_fields(request, obj),
            model_admin.get_readonly_fields(request, obj),
            model_admin=model_admin,
        )
        context = {
            **model_admin.admin_site.each_context(request),
            "title": f"Preview: {'add' if add else 'change'} {model_admin.opts.verbose_name}",
            "subtitle": str(obj) if obj else None,
            "adminform": admin_form,
            "object_id": object_id,
            "original": obj,
            "is_popup": False,
            "to_field": None,
            "media": model_admin.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": model_admin.get_preserved_filters(request),
            "what_if": what_if,
        }
        return model_admin.render_change_form(request, context, add=add, change=not add, obj=obj, form_url="")


@admin.action(description="Rescore all leads now", permissions=["change"])
def rescore_now(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ScoringModel]) -> None:
    job = services.request_rescore(reason="Requested in admin", by=signed_in_user(request), now=timezone.now())
    url = reverse("admin:scoring_rescorejob_change", args=[job.pk])
    modeladmin.message_user(request, format_html('Rescore queued: <a href="{}">{}</a>.', url, job), messages.SUCCESS)


@admin.register(ScoringModel)
class ScoringModelAdmin(WhatIfPreviewMixin, admin.ModelAdmin):
    form = ScoringModelForm
    list_display = (
        "name",
        "is_active",
        "mql_threshold",
        "nurture_threshold",
        "engagement_half_life_days",
        "rule_count",
    )
    list_display_links = ("name",)
    readonly_fields = ("rules_table",)
    fieldsets = (
        (None, {"fields": ("name", "is_active")}),
        ("Thresholds", {"fields": ("mql_threshold", "nurture_threshold", "engagement_half_life_days")}),
        ("Baseline qualification", {"fields": ("baseline_fields",)}),
        ("Rules", {"fields": ("rules_table",)}),
    )
    actions = (rescore_now,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ScoringModel]:
        return super().get_queryset(request).annotate(rule_count=Count("rules"))

    @admin.display(description="rules", ordering="rule_count")
    def rule_count(self, obj: ScoringModel) -> int:
        return obj.rule_count  # type: ignore[attr-defined]

    @admin.display(description="rules")
    def rules_table(self, obj: ScoringModel | None) -> SafeString:
        if obj is None or obj.pk is None:
            return format_html("{}", "Save the model first, then add its rules.")
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    rule.order,
                    reverse("admin:scoring_scoringrule_change", args=[rule.pk]),
                    rule.name,
                    rule.kind_label,
                    rule.get_dimension_display(),
                    rule.points,
                    rule.cap or "—",
                    "yes" if rule.is_active else "no",
                )
                for rule in obj.rules.order_by("order", "id")
            ),
        )
        add_url = reverse("admin:scoring_scoringrule_add") + f"?scoring_model={obj.pk}"
        return format_html(
            "<table><thead><tr><th>Order</th><th>Rule</th><th>Kind</th><th>Counts towards</th><th>Points</th>"
            "<th>Cap</th><th>Active</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a class="addlink" href="{}">Add a rule</a></p>',
            rows,
            add_url,
        )

    def save_model(self, request: HttpRequest, obj: ScoringModel, form: Any, change: bool) -> None:
        services.save_scoring_model(scoring_model=obj, by=signed_in_user(request), now=timezone.now())

    def what_if(self, candidate: ScoringModel) -> services.WhatIf:
        return services.preview_model_change(model=candidate, now=timezone.now())


class KindListFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return rules.kind_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet[ScoringRule]) -> QuerySet[ScoringRule]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(ScoringRule)
class ScoringRuleAdmin(WhatIfPreviewMixin, admin.ModelAdmin):
    form = ScoringRuleForm
    list_display = ("name", "scoring_model", "kind_label", "dimension", "points", "cap", "is_active", "order")
    list_filter = ("scoring_model", "dimension", "is_active", KindListFilter)
    list_select_related = ("scoring_model",)
    search_fields = ("name",)
    ordering = ("scoring_model", "order", "id")

    class Media:
        js = ("js/scoring/rule_form.js",)

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, obj: ScoringRule) -> str:
        return obj.kind_label

    def get_fieldsets(self, request: HttpRequest, obj: ScoringRule | None = None) -> _FieldsetSpec:
        fieldsets: list[tuple[str | _StrPromise | None, _FieldOpts]] = [
            (None, {"fields": ("scoring_model", "name", "order", "is_active")}),
            ("What it scores", {"fields": ("kind", "dimension", "points", "cap")}),
        ]
        for name, label in rules.kind_choices():
            if rules.RULE_KINDS[name].param_fields:
                options: _FieldOpts = {
                    "fields": tuple(param_field_names(name)),
                    "classes": ("scoring-params", f"scoring-kind-{name}"),
                }
                fieldsets.append((f"Parameters: {label}", options))
        return fieldsets

    def get_form(
        self, request: HttpRequest, obj: ScoringRule | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # The parameter inputs are added by the form itself; the model form is built from the model fields.
        kwargs["fields"] = [name for name in (kwargs.get("fields") or RULE_FIELDS) if name in RULE_FIELDS]
        return super().get_form(request, obj, change, **kwargs)

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # The form's script picks the dimension for kinds that count towards one only (activity rules).
        context["kind_dimensions"] = {name: list(kind.dimensions) for name, kind in rules.RULE_KINDS.items()}
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: ScoringRule, form: Any, change: bool) -> None:
        services.save_scoring_rule(rule=obj, by=signed_in_user(request), now=timezone.now())

    def delete_model(self, request: HttpRequest, obj: ScoringRule) -> None:
        services.delete_scoring_rule(rule=obj, by=signed_in_user(request), now=timezone.now())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ScoringRule]) -> None:
        for rule in queryset:
            services.delete_scoring_rule(rule=rule, by=signed_in_user(request), now=timezone.now())

    def what_if(self, candidate: ScoringRule) -> services.WhatIf:
        return services.preview_rule_change(rule=candidate, now=timezone.now())


@admin.register(RescoreJob)
class RescoreJobAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "scope",
        "status",
        "progress",
        "changed",
        "moved_to_mql",
        "moved_to_nurture",
        "disqualified",
        "created_at",
        "finished_at",
        "requested_by",
        "reason",
    )
    list_filter = ("status", "scope")
    list_select_related = ("requested_by", "scoring_model")
    readonly_fields = ("progress",)

    @admin.display(description="progress")
    def progress(self, job: RescoreJob) -> SafeString:
        percent = job.progress_percent
        return format_html(
            '<progress max="100" value="{}"></progress> {}% ({} of {})',
            percent,
            percent,
            f"{job.done:,}",
            f"{job.total:,}",
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LeadMissingMqlFields)
class LeadMissingMqlFieldsAdmin(admin.ModelAdmin):
    """Leads that scored as MQLs but lack a baseline field: open one, complete it, and the next pass moves it."""

    list_display = ("lead", "email", "company_name", "score", "stage", "missing", "created_at")
    list_display_links = None
    search_fields = ("email", "first_name", "last_name", "company_name")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    ordering = ("-score", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[LeadMissingMqlFields]:
        model = ScoringModel.objects.filter(is_active=True).first()
        names = baseline.required(model.baseline_fields or ()) if model else ()
        # One flag per required field, so the "missing" column needs no query per row.
        flags = {
            f"lacks_{name}": Case(When(baseline.missing_q([name]), then=Value(True)), default=Value(False))
            for name in names
        }
        return selectors.leads_missing_mql_fields().annotate(**flags)

    @admin.display(description="lead")
    def lead(self, obj: LeadMissingMqlFields) -> SafeString:
        url = reverse("admin:leads_lead_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.full_name or obj.email or obj.phone)

    @admin.display(description="missing")
    def missing(self, obj: LeadMissingMqlFields) -> str:
        labels = [field.label for name, field in baseline.ALL_FIELDS.items() if getattr(obj, f"lacks_{name}", False)]
        return ", ".join(labels)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MissingMqlFieldsFilter(admin.SimpleListFilter):
    """For the leads changelist: only the leads held from MQL for a missing baseline field."""

    title = "MQL — missing fields"
    parameter_name = "mql_missing_fields"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Held: missing fields")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() != "yes":
            return queryset
        return queryset.filter(Q(pk__in=selectors.leads_missing_mql_fields().values("pk")))
