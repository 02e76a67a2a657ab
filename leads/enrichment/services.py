"""Enrich a lead: run the configured providers in order and keep what they found, with its provenance."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from django.db import transaction

from leads import events

# Importing the modules that define provider kinds registers them.
from leads.enrichment import directory, http  # noqa: F401
from leads.enrichment.providers import (
    PROVIDER_KINDS,
    Found,
    LeadSnapshot,
    ProviderContext,
    ProviderError,
)
from leads.models import (
    EnrichmentProvider,
    EnrichmentStatus,
    Industry,
    Lead,
    ProviderRun,
    ProviderRunStatus,
    SizeBand,
)

logger = logging.getLogger(__name__)

# After this long a lead still pending is routed with what is known (see `leads_waiting_for_enrichment`).
ENRICHMENT_WAIT = timedelta(minutes=10)


@dataclass(frozen=True)
class _Run:
    provider: EnrichmentProvider
    status: str
    latency_ms: int
    found: dict[str, Found]
    error: str = ""


def snapshot_of(lead: Lead) -> LeadSnapshot:
    return LeadSnapshot(**{f.name: getattr(lead, f.name) or ("" if f.name != "employee_count" else None)
                           for f in fields(LeadSnapshot)})  # fmt: skip


def _run_provider(provider: EnrichmentProvider, snapshot: LeadSnapshot, now: datetime) -> _Run:
    kind = PROVIDER_KINDS.get(provider.kind)
    if kind is None:
        return _Run(provider, ProviderRunStatus.FAILED, 0, {}, f"Unknown provider kind {provider.kind!r}.")
    context = ProviderContext(
        settings=provider.settings, timeout_seconds=provider.timeout_seconds, now=now, provider_key=str(provider.pk)
    )
    started = time.monotonic()
    try:
        result = kind.enrich(snapshot, context)
    except ProviderError as exc:
        return _Run(provider, ProviderRunStatus.FAILED, _ms_since(started), {}, str(exc))
    except Exception as exc:  # a buggy provider must not stop the others or the pipeline
        logger.exception("Enrichment provider %s crashed", provider.name)
        return _Run(provider, ProviderRunStatus.FAILED, _ms_since(started), {}, f"{exc.__class__.__name__}: {exc}")
    status = ProviderRunStatus.OK if result.values else ProviderRunStatus.EMPTY
    return _Run(provider, status, _ms_since(started), dict(result.values))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def enrich_lead(*, lead_id: int, now: datetime) -> Lead:
    """Run every active provider for a lead still pending enrichment; a no-op once it is done.

    Providers run outside any transaction (they may call slow services); the results are then
    saved in one transaction, together with the run log, only if the lead is still pending: a second
    run (a retry after a worker died, or a duplicate task) leaves the same lead and the same run log.
    """
    lead = Lead.objects.get(pk=lead_id)
    if lead.enrichment_status != EnrichmentStatus.PENDING:
        return lead
    snapshot = snapshot_of(lead)
    runs = []
    for provider in EnrichmentProvider.objects.filter(is_active=True).order_by("order", "id"):
        run = _run_provider(provider, snapshot, now)
        snapshot = snapshot.with_values(run.found)
        runs.append(run)
    return _save_enrichment(lead=lead, runs=runs, now=now)


def _status(runs: list[_Run]) -> str:
    failed = sum(run.status == ProviderRunStatus.FAILED for run in runs)
    if failed == 0:
        return EnrichmentStatus.ENRICHED
    return EnrichmentStatus.FAILED if failed == len(runs) else EnrichmentStatus.PARTIAL


def _apply(lead: Lead, runs: list[_Run], now: datetime) -> list[str]:
    """Set what the providers found on ``lead``; returns the changed field names."""
    changed, sources = [], dict(lead.enrichment_sources)
    for run in runs:
        for name, found in run.found.items():
            current = getattr(lead, name)
            typed = current not in ("", None) and name not in sources
            if name in changed or (typed and not run.provider.may_overwrite) or current == found.value:
                continue
            setattr(lead, name, found.value)
            sources[name] = {"provider": run.provider.name, "confidence": found.confidence, "at": now.isoformat()}
            changed.append(name)
    canonical = directory.canonical_industry(lead.industry, Industry.objects.all()) if lead.industry else ""
    if canonical and canonical != lead.industry:
        lead.industry = canonical
        changed.append("industry")
    band = directory.size_band_for(lead.employee_count, SizeBand.objects.all())
    if band and band != lead.size_band:
        lead.size_band = band
        sources["size_band"] = {"provider": "size bands", "confidence": 1.0, "at": now.isoformat()}
        changed.append("size_band")
    lead.enrichment_sources = sources
    return sorted(set(changed))


def _save_enrichment(*, lead: Lead, runs: list[_Run], now: datetime) -> Lead:
    changed = _apply(lead, runs, now)
    lead.enrichment_status = _status(runs)
    lead.enriched_at = now
    with transaction.atomic():
        # Only the attempt that finds the lead still pending writes; a concurrent duplicate gives up.
        claimed = Lead.objects.filter(pk=lead.pk, enrichment_status=EnrichmentStatus.PENDING).update(
            enrichment_status=lead.enrichment_status, enriched_at=now
        )
        if not claimed:
            return Lead.objects.get(pk=lead.pk)
        ProviderRun.objects.bulk_create(
            ProviderRun(
                lead=lead, provider=run.provider, provider_name=run.provider.name, status=run.status,
                latency_ms=run.latency_ms, fields_set=sorted(run.found), error=run.error, started_at=now,
            )
            for run in runs
        )  # fmt: skip
        lead.save(update_fields=[*changed, "enrichment_sources", "updated_at"])
        events.emit(events.LEAD_ENRICHED, lead_id=lead.pk, event_id=f"lead.enriched:{lead.pk}", occurred_at=now)
    return lead


def give_up_waiting(*, lead_id: int, now: datetime) -> bool:
    """Mark a lead whose enrichment never finished as failed, so the pipeline routes it with what is known.

    Returns whether this call changed it (a conditional update: safe when the sweep runs twice).
    """
    return bool(
        Lead.objects.filter(pk=lead_id, enrichment_status=EnrichmentStatus.PENDING).update(
            enrichment_status=EnrichmentStatus.FAILED, enriched_at=now
        )
    )


def leads_waiting_for_enrichment(*, now: datetime, wait: timedelta = ENRICHMENT_WAIT) -> list[int]:
    """Ids of leads still pending enrichment after ``wait``: the sweep's safety net for lost tasks."""
    return list(
        Lead.objects.filter(enrichment_status=EnrichmentStatus.PENDING, created_at__lt=now - wait)
        .order_by("created_at")
        .values_list("id", flat=True)[:1000]
    )
