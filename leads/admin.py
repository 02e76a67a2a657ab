from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from leads import services
from leads.models import Activity, Consent, Lead, Stage, StageChange, Touch
from leads.paginators import EstimatedCountPaginator


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
    fields = ("legal_basis", "text", "text_version", "source", "source_ref", "given_at", "ip_address", "withdrawn_at")
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


def _move_to(stage: str, label: str) -> object:
    @admin.action(description=f"Move selected leads to {label}", permissions=["change"])
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        moved, refused = 0, 0
        now = timezone.now()
        for lead in queryset.select_related(None).only("id", "stage"):
            try:
                services.change_stage(lead=lead, to_stage=stage, now=now, by=request.user, reason="Changed in admin")
                moved += 1
            except services.StageTransitionError:
                refused += 1
        modeladmin.message_user(request, f"Moved {moved} lead(s) to {label}.", messages.SUCCESS)
        if refused:
            modeladmin.message_user(
                request, f"{refused} lead(s) cannot move to {label} from their stage.", messages.WARNING
            )

    action.__name__ = f"move_to_{stage}"
    return action


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("email", "full_name", "company_name", "country", "stage", "score", "owner", "created_at")
    list_filter = ("stage", "owner", "country")
    search_fields = ("email", "first_name", "last_name", "company_name")
    list_select_related = ("owner",)
    # Counting a million rows on every changelist view is what makes admin slow; the paginator
    # estimates the unfiltered total instead and this skips the second "of N" count.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    date_hierarchy = None
    ordering = ("-created_at", "-id")
    raw_id_fields = ("owner",)
    # Stage and score have their own services (and scoring rules); admin never writes them directly.
    readonly_fields = (
        "stage",
        "stage_changed_at",
        "score",
        "fit_score",
        "engagement_score",
        "score_breakdown",
        "scored_at",
        "email_domain_kind",
        "enrichment_status",
        "enriched_at",
        "enrichment_sources",
        "created_at",
        "updated_at",
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
        ("Enrichment", {"fields": ("email_domain_kind", "enrichment_status", "enriched_at", "enrichment_sources")}),
        ("Pipeline", {"fields": ("stage", "stage_changed_at", "owner")}),
        ("Score", {"fields": ("score", "fit_score", "engagement_score", "score_breakdown", "scored_at")}),
        ("Other", {"fields": ("custom_answers", "created_at", "updated_at")}),
    )
    inlines = (ConsentInline, TouchInline, ActivityInline, StageChangeInline)
    actions = (
        _move_to(Stage.NURTURE, "nurture"),
        _move_to(Stage.DISQUALIFIED, "disqualified"),
    )


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ("lead", "from_stage", "to_stage", "changed_by", "changed_at")
    list_filter = ("to_stage",)
    list_select_related = ("lead", "changed_by")
    raw_id_fields = ("lead", "changed_by")
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
