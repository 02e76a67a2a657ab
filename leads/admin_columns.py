"""Compact list columns for the Leads and Submissions lists in admin, so their key facts fit a 1280 px screen.

Each column stacks two related values (the person's name over their address; the stage over the score), the
way mail clients list messages, instead of one narrow column each that the table would push off the page.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from leads.models import Lead, Stage, Submission, SubmissionStatus

SHORT_STAGES: dict[str, str] = {
    Stage.NEW: "New",
    Stage.NURTURE: "Nurture",
    Stage.MQL: "MQL",
    Stage.SQL: "SQL",
    Stage.REJECTED: "Rejected",
    Stage.DISQUALIFIED: "Disqualified",
}


def day_over_time(value: datetime | None) -> str:
    """An instant as the admin lists show it: the day over the time, so the column stays narrow.

    Written as one string: Django's localized "Dec. 5, 2026, 9:06 a.m." (or ``format_html``) costs several times as
    much, for each cell of a list.
    """
    if value is None:
        return "—"
    local = timezone.localtime(value)
    # Digits and a month's short name: nothing to escape.
    return mark_safe(f'{local.day} {local:%b %Y}<br><span class="quiet">{local:%H:%M}</span>')


@admin.display(description="Lead", ordering="email")
def lead_person(lead: Lead) -> str:
    return format_html(
        '{}<br><span class="quiet">{}</span>', lead.full_name or "—", lead.email or lead.phone or "(erased)"
    )


@admin.display(description="Company", ordering="company_name")
def lead_company(lead: Lead) -> str:
    return format_html('{}<br><span class="quiet">{}</span>', lead.company_name or "—", lead.country or "")


@admin.display(description="Stage · score", ordering="stage")
def lead_stage(lead: Lead) -> str:
    """The stage and score over the owner (select the owner: ``list_select_related``)."""
    owner = str(lead.owner) if lead.owner_id else "no owner"
    return format_html(
        '{} · {}<br><span class="quiet">{}</span>', SHORT_STAGES.get(lead.stage, lead.stage), lead.score, owner
    )


@admin.display(description="Created", ordering="created_at")
def lead_created(lead: Lead) -> str:
    return day_over_time(lead.created_at)


@admin.display(description="Sent", ordering="submitted_at")
def submission_sent(submission: Submission) -> str:
    return day_over_time(submission.submitted_at)


@admin.display(description="Who")
def submission_person(submission: Submission) -> str:
    email = submission.payload.get("email", "") or (submission.lead.email if submission.lead else "") or "—"
    if submission.lead_id is None:
        return format_html('{}<br><span class="quiet">no lead</span>', email)
    url = reverse("admin:leads_lead_change", args=[submission.lead_id])
    return format_html('{}<br><a class="quiet" href="{}">{}</a>', email, url, submission.lead)


@admin.display(description="Status", ordering="status")
def submission_status(submission: Submission) -> str:
    if submission.status != SubmissionStatus.SPAM:
        released = " (released from spam)" if submission.released_at else ""
        return format_html("{}{}", submission.get_status_display(), released)
    return format_html(
        '<strong>{}</strong><br><span class="quiet">{}</span>',
        submission.get_status_display(),
        submission.get_spam_reason_display(),
    )
