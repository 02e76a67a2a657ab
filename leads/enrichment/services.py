"""Enrich a lead: run the configured providers in order and keep what they found, with its provenance."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from core.batch import once_per_batch

# Importing the modules that define provider kinds registers them.
from leads import events, merge
from leads.enrichment import directory, freshness, http  # noqa: F401
from leads.enrichment.providers import (
    PROVIDER_KINDS,
    Found,
    LeadSnapshot,
    ProviderContext,
    ProviderError,
)
from leads.enrichment.values import RefusedValue, clean_value
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

# A failed or partly failed enrichment is tried again after each of these delays, then left as it is.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)


@dataclass(frozen=True)
class _Run:
    provider: EnrichmentProvider
    status: str
    latency_ms: int
    found: dict[str, Found]
    error: str = ""


def snapshot_of(lead: Lead) -> LeadSnapshot:
    values: dict[str, Any] = {f.name: getattr(lead, f.name) or ("" if f.name != "employee_count" else None)
                              for f in fields(LeadSnapshot)}  # fmt: skip
    return LeadSnapshot(**values)


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


def is_enrichment_due(lead: Lead, *, now: datetime) -> bool:
    """Whether the providers should run for ``lead`` now: never run yet, or a retry whose time has come."""
    if lead.enrichment_status == EnrichmentStatus.PENDING:
        return True
    return lead.enrichment_retry_at is not None and lead.enrichment_retry_at <= now


def enrich_lead(*, lead_id: int, now: datetime) -> Lead:
    """Run every active provider for a lead whose enrichment is due; a no-op otherwise.

    Providers run outside any transaction (they may call slow services); the results are then
    saved in one transaction, together with the run log, only if no other attempt saved first: a second
    run (a retry after a worker died, or a duplicate task) leaves the same lead and the same run log.
    When a provider failed (an error, its timeout, an open circuit) the lead goes on with what is known
    and is enriched again after the next of ``RETRY_DELAYS``.
    """
    lead = Lead.objects.get(pk=lead_id)
    if not is_enrichment_due(lead, now=now):
        return lead
    snapshot = snapshot_of(lead)
    runs = []
    for provider in once_per_batch(_active_providers):
        run = _run_provider(provider, snapshot, now)
        snapshot = snapshot.with_values(run.found)
        runs.append(run)
    return _save_enrichment(lead=lead, runs=runs, now=now)


def _industries() -> list[Industry]:
    return list(Industry.objects.all())


def _size_bands() -> list[SizeBand]:
    return list(SizeBand.objects.all())


def _active_providers() -> list[EnrichmentProvider]:
    return list(EnrichmentProvider.objects.filter(is_active=True).order_by("order", "id"))


def _status(runs: list[_Run]) -> str:
    failed = sum(run.status == ProviderRunStatus.FAILED for run in runs)
    if failed == 0:
        return EnrichmentStatus.ENRICHED
    return EnrichmentStatus.FAILED if failed == len(runs) else EnrichmentStatus.PARTIAL


def _apply(lead: Lead, runs: list[_Run], now: datetime) -> tuple[list[str], dict[int, dict[str, str]]]:
    """Set what the providers found on ``lead``, each value checked as a typed one.

    The merge policy (``leads.merge``) decides what a provider may replace: what another provider set, and
    what the person typed only when the provider ``may_overwrite``; never what staff, an import or the
    person after confirming their address set. A value the lead keeps its own against is not dropped: it
    is recorded as a conflict (``Lead.enrichment_conflicts``: the provider's value, its confidence, time,
    and the value kept). Returns the changed names, and per run (by index) the values it did not set and why.
    """
    changed, sources, conflicts = [], dict(lead.enrichment_sources), dict(lead.enrichment_conflicts)
    set_by = merge.sources_of(field_sources=lead.field_sources, enrichment_sources=sources)
    not_set: dict[int, dict[str, str]] = {}
    for index, run in enumerate(runs):
        replaces = {merge.Source.PROVIDER, *([merge.Source.PERSON] if run.provider.may_overwrite else [])}
        for name, found in run.found.items():
            try:
                value = clean_value(name, found.value)
            except RefusedValue as error:  # a provider's answer is outside input: left out, and logged
                logger.warning("Provider %s: ignored %s for lead %s: %s", run.provider.name, name, lead.pk, error)
                not_set.setdefault(index, {})[name] = f"refused: {error}"
                continue
            current = getattr(lead, name)
            holder = set_by.get(name, merge.Source.PERSON)
            held_by_another = not merge.is_blank(current) and holder not in replaces
            if current == value:
                conflicts.pop(name, None)  # the provider agrees now
                continue
            if name in changed:
                not_set.setdefault(index, {})[name] = "an earlier provider set it"
                continue
            if held_by_another:
                conflicts[name] = {
                    "provider": run.provider.name, "value": value, "confidence": found.confidence,
                    "at": now.isoformat(), "kept": current, "kept_source": str(holder),
                }  # fmt: skip
                not_set.setdefault(index, {})[name] = f"kept the value set by {holder}"
                continue
            setattr(lead, name, value)
            sources[name] = {"provider": run.provider.name, "confidence": found.confidence, "at": now.isoformat()}
            conflicts.pop(name, None)
            changed.append(name)
    industries = once_per_batch(_industries)
    canonical = directory.canonical_industry(lead.industry, industries) if lead.industry else ""
    if canonical and canonical != lead.industry:
        lead.industry = canonical
        changed.append("industry")
    lead.enrichment_sources, lead.enrichment_conflicts = sources, conflicts
    if set_size_band(lead=lead, now=now):
        changed.append("size_band")
    return sorted(set(changed)), not_set


def set_size_band(*, lead: Lead, now: datetime) -> bool:
    """Give ``lead`` the size band of its employee count, as enrichment does (in memory: the caller saves it).

    False when the count has no band or the lead has it already.
    """
    band = directory.size_band_for(lead.employee_count, once_per_batch(_size_bands))
    if not band or band == lead.size_band:
        return False
    lead.size_band = band
    entry = {"provider": "size bands", "confidence": 1.0, "at": now.isoformat()}
    lead.enrichment_sources = {**lead.enrichment_sources, "size_band": entry}
    return True


def _next_retry_at(status: str, attempts: int, now: datetime) -> datetime | None:
    if status == EnrichmentStatus.ENRICHED or attempts > len(RETRY_DELAYS):
        return None
    return now + RETRY_DELAYS[attempts - 1]


def _save_enrichment(*, lead: Lead, runs: list[_Run], now: datetime) -> Lead:
    attempts_before = lead.enrichment_attempts
    # The inputs the providers read: a change of any of them meanwhile marked the lead for a new round.
    inputs = {name: getattr(lead, name) for name in sorted(freshness.ENRICHMENT_INPUTS)}
    changed, not_set = _apply(lead, runs, now)
    status = _status(runs)
    if status == EnrichmentStatus.FAILED and lead.enrichment_status == EnrichmentStatus.PARTIAL:
        status = EnrichmentStatus.PARTIAL  # a failed retry keeps what an earlier attempt found
    lead.enrichment_status, lead.enriched_at = status, now
    lead.enrichment_attempts = attempts_before + 1
    lead.enrichment_retry_at = _next_retry_at(status, lead.enrichment_attempts, now)
    with transaction.atomic():
        # Only the attempt that finds the count and the inputs it started from writes; a concurrent duplicate,
        # or a run that read a title or address changed since, gives up (the change queued a new round).
        claimed = Lead.objects.filter(pk=lead.pk, enrichment_attempts=attempts_before, **inputs).update(
            enrichment_status=status,
            enriched_at=now,
            enrichment_attempts=lead.enrichment_attempts,
            enrichment_retry_at=lead.enrichment_retry_at,
        )
        if not claimed:
            return Lead.objects.get(pk=lead.pk)
        ProviderRun.objects.bulk_create(
            ProviderRun(
                lead=lead, provider=run.provider, provider_name=run.provider.name, status=run.status,
                latency_ms=run.latency_ms, fields_set=sorted(set(run.found) - set(not_set.get(index, {}))),
                fields_not_set=not_set.get(index, {}), error=run.error, started_at=now,
            )
            for index, run in enumerate(runs)
        )  # fmt: skip
        lead.save(update_fields=[*changed, "enrichment_sources", "enrichment_conflicts", "updated_at"])
        events.emit(events.LEAD_ENRICHED, lead_id=lead.pk, event_id=f"lead.enriched:{lead.pk}", occurred_at=now)
    return lead


def refresh_stale_enrichment(*, now: datetime, older_than: timedelta, limit: int) -> int:
    """Enrich again, up to ``limit`` at a time, the leads last enriched more than ``older_than`` ago.

    Companies grow, people change jobs: a provider's answer ages. The oldest are taken first, so
    repeated runs work through the whole backlog in bounded chunks; each lead is marked pending and given
    to the pipeline (which enriches, then rescores). Erased leads are left alone. Returns how many.
    """
    from leads import services  # leads.services marks leads for enrichment through this package

    due = (
        Lead.objects.filter(enriched_at__lt=now - older_than, erased_at__isnull=True)
        .exclude(enrichment_status=EnrichmentStatus.PENDING)
        .order_by("enriched_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    lead_ids = list(due)
    with transaction.atomic():
        Lead.objects.filter(pk__in=lead_ids).update(
            enrichment_status=EnrichmentStatus.PENDING, enrichment_attempts=0, enrichment_retry_at=None
        )
        if lead_ids:
            services.enqueue_pipeline_for(lead_ids=lead_ids)
    return len(lead_ids)
