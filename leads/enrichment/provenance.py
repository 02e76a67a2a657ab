"""Which provider set each enriched value of a lead, when and how sure, and what providers said that was not kept.

Read from ``Lead.enrichment_sources`` and ``Lead.enrichment_conflicts`` (no query), for the rep's lead page
and admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models

from leads.models import Lead


@dataclass(frozen=True)
class EnrichedValue:
    """One value a provider set on the lead, or (``kept`` not empty) one it found but the lead kept its own."""

    label: str
    value: str
    provider: str
    confidence: str
    at: datetime | None
    kept: str = ""
    kept_source: str = ""

    @property
    def is_conflict(self) -> bool:
        return bool(self.kept_source)


def enriched_values(lead: Lead) -> list[EnrichedValue]:
    """The provider-set values first, then the conflicts, each in field order."""
    rows = []
    for name, entry in _entries(lead.enrichment_sources):
        rows.append(
            EnrichedValue(
                label=_label(name), value=_show(getattr(lead, name, "")), provider=str(entry.get("provider", "")),
                confidence=_percent(entry.get("confidence")), at=_time(entry.get("at")),
            )
        )  # fmt: skip
    for name, entry in _entries(lead.enrichment_conflicts):
        rows.append(
            EnrichedValue(
                label=_label(name), value=_show(entry.get("value")), provider=str(entry.get("provider", "")),
                confidence=_percent(entry.get("confidence")), at=_time(entry.get("at")),
                kept=_show(entry.get("kept")), kept_source=_source_label(entry.get("kept_source")),
            )
        )  # fmt: skip
    return rows


def _entries(mapping: Any) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(mapping, dict):
        return []
    order = {field.name: index for index, field in enumerate(Lead._meta.fields)}
    entries = [(name, entry) for name, entry in mapping.items() if isinstance(entry, dict)]
    return sorted(entries, key=lambda item: order.get(item[0], len(order)))


def _label(name: str) -> str:
    try:
        field = Lead._meta.get_field(name)
    except Exception:  # a field removed since the entry was written
        return name.replace("_", " ").capitalize()
    assert isinstance(field, models.Field)
    return str(field.verbose_name).capitalize()


def _show(value: Any) -> str:
    return "—" if value in (None, "") else str(value)


def _percent(value: Any) -> str:
    return f"{round(float(value) * 100)} %" if isinstance(value, int | float) and not isinstance(value, bool) else ""


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


_SOURCE_LABELS = {
    "person": "typed by the person",
    "person_verified": "confirmed by the person",
    "staff": "set by staff",
    "import": "imported",
    "provider": "another provider",
}


def _source_label(value: Any) -> str:
    return _SOURCE_LABELS.get(str(value), str(value or "typed"))
