"""Writes of the reports app: spend (entered or imported) and managers' first-touch corrections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from leads import attribution
from leads.models import Lead, Touch
from reports.csv import LineError, parse_spend_csv
from reports.models import DEFAULT_CURRENCY, FirstTouchCorrection, Spend
from reports.rollups import mark_day_changed

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CORRECT_FIRST_TOUCH = "reports.correct_first_touch"


# --- First-touch corrections ----------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineTouch:
    """A touch no tracking saw, entered by hand: "heard about us on the B2B Growth podcast"."""

    channel: str
    occurred_at: datetime
    source: str = ""
    medium: str = ""
    campaign: str = ""


def correct_first_touch(
    *,
    lead: Lead,
    by: User,
    reason: str,
    now: datetime,
    touch: Touch | None = None,
    offline: OfflineTouch | None = None,
) -> FirstTouchCorrection:
    """Credit ``lead`` to another first touch and record what it was, who changed it, when and why.

    Give either one of the lead's own ``touch``es or an ``offline`` touch, which is stored as a new
    meaningful touch of the lead so every attribution model sees it. Only managers may do this.
    """
    if not by.has_perm(CORRECT_FIRST_TOUCH):
        raise PermissionDenied("Only sales managers may correct a lead's first touch.")
    if (touch is None) == (offline is None):
        raise ValueError("Give either one of the lead's touches or an offline touch.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the first touch is wrong."})
    if touch is not None and touch.lead_id != lead.pk:
        raise ValidationError({"touch": "That touch belongs to another lead."})

    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        correction = FirstTouchCorrection(
            lead=lead,
            corrected_by=by,
            corrected_at=now,
            reason=reason.strip(),
            previous_touch_id=lead.first_touch_id,
            previous_source=lead.first_touch_source,
            previous_medium=lead.first_touch_medium,
            previous_campaign=lead.first_touch_campaign,
            previous_channel=lead.first_touch_channel,
            previous_at=lead.first_touch_at,
        )
        if touch is None:  # then an offline touch was given (checked above)
            touch = _record_offline_touch(lead=lead, offline=offline)  # type: ignore[arg-type]
        attribution.credit_first_touch(lead=lead, touch=touch)
        # credit_first_touch is an update() that sends no signal: mark the lead's day for the rollups here.
        mark_day_changed(created_at=lead.created_at, now=now)
        correction.touch = touch
        correction.source = lead.first_touch_source
        correction.medium = lead.first_touch_medium
        correction.campaign = lead.first_touch_campaign
        correction.channel = lead.first_touch_channel
        assert lead.first_touch_at is not None  # credit_first_touch just set it to the touch's time
        correction.touched_at = lead.first_touch_at
        correction.full_clean()
        correction.save()
    return correction


def _record_offline_touch(*, lead: Lead, offline: OfflineTouch) -> Touch:
    fields = {
        "source": offline.source.strip(),
        "medium": offline.medium.strip(),
        "campaign": offline.campaign.strip(),
        "channel": offline.channel,
    }
    return attribution.record_touch(lead=lead, fields=fields, now=offline.occurred_at, is_meaningful=True)


# --- Spend ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendImportResult:
    created: int
    updated: int
    errors: list[LineError]

    @property
    def is_ok(self) -> bool:
        return not self.errors


def import_spend(*, text: str, default_currency: str = DEFAULT_CURRENCY) -> SpendImportResult:
    """Create or update spend rows from CSV text, all or nothing: a file with any bad line changes nothing.

    A row for a source, campaign and month that already exists replaces its amount and currency.
    """
    rows, errors = parse_spend_csv(text, default_currency=default_currency)
    if errors:
        return SpendImportResult(created=0, updated=0, errors=errors)
    if not rows:
        return SpendImportResult(created=0, updated=0, errors=[LineError(2, "the file has no spend rows")])
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            _, is_new = Spend.objects.update_or_create(
                source=row.source,
                campaign=row.campaign,
                month=row.month,
                defaults={"amount": row.amount, "currency": row.currency},
            )
            created += is_new
            updated += not is_new
    return SpendImportResult(created=created, updated=updated, errors=[])


# --- Data subject requests ---------------------------------------------------------------------------

ERASED_REASON = "(erased with the lead's personal data)"


def lead_personal_data(*, lead: Lead) -> dict[str, object]:
    """The reports app's part of a lead's data export: the managers' first-touch corrections and their reasons."""
    corrections = FirstTouchCorrection.objects.filter(lead=lead).order_by("corrected_at", "pk")
    return {
        "reports": {
            "first_touch_corrections": [
                {"corrected_at": c.corrected_at, "reason": c.reason, "previous_source": c.previous_source,
                 "source": c.source, "channel": c.channel}
                for c in corrections
            ]
        }
    }  # fmt: skip


def erase_lead_personal_data(*, lead_id: int, now: datetime) -> int:
    """Blank the reasons managers typed when correcting the lead's first touch (they may name the person), and mark
    the lead's day for the rollups: erasure stops an open assignment's SLA clock and changes the lead's rows by
    ``update()``, which no receiver hears (a lead disqualified before, for one, gets no stage change here)."""
    created_at = Lead.objects.filter(pk=lead_id).values_list("created_at", flat=True).first()
    if created_at is not None:
        mark_day_changed(created_at=created_at, now=now)
    return (
        FirstTouchCorrection.objects.filter(lead_id=lead_id).exclude(reason=ERASED_REASON).update(reason=ERASED_REASON)
    )
