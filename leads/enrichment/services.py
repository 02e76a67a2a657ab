"""Enrich a lead: run the configured providers in order and keep what they found, with its provenance."""

from __future__ import annotations

import copy
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from core.batch import once_per_batch
from core.bulk import update_each

# Importing the modules that define provider kinds registers them.
from leads import events, merge
from leads.enrichment import directory, freshness, http  # noqa: F401
from leads.enrichment.domains import classify_email_domain
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

# A provider not run because the caller's hold on the lead would end first: a failed run, tried again later.
OUT_OF_TIME = "Not run: the lead's lease in the pipeline would run out first."
# A failed or partly failed enrichment is tried again after each of these delays, then left as it is.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)


class Hold(Protocol):
    """The caller's hold on the leads it enriches (the pipeline's lease): no provider may outlast it."""

    clock: Callable[[], datetime]

    def keep(self) -> datetime:
        """Renew the hold when due; returns the time by which the providers must have answered."""
        ...


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


def _run_provider(provider: EnrichmentProvider, snapshot: LeadSnapshot, now: datetime, hold: Hold | None) -> _Run:
    kind = PROVIDER_KINDS.get(provider.kind)
    if kind is None:
        return _Run(provider, ProviderRunStatus.FAILED, 0, {}, f"Unknown provider kind {provider.kind!r}.")
    deadline, clock = None, None
    if hold is not None:
        # Renewed before each provider; one that calls out ends its retries before the deadline (http.py).
        deadline, clock = hold.keep(), hold.clock
        if clock() >= deadline:
            return _Run(provider, ProviderRunStatus.FAILED, 0, {}, OUT_OF_TIME)
    context = ProviderContext(
        settings=provider.settings, timeout_seconds=provider.timeout_seconds, now=now, provider_key=str(provider.pk),
        deadline=deadline, clock=clock,
    )  # fmt: skip
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
    """Whether the providers should run for ``lead`` now: never run yet, or a retry whose time has come.

    Never for an erased lead: no provider hears of the person again (the company's facts it keeps included).
    """
    if lead.erased_at is not None:
        return False
    if lead.enrichment_status == EnrichmentStatus.PENDING:
        return True
    return lead.enrichment_retry_at is not None and lead.enrichment_retry_at <= now


def enrich_lead(*, lead_id: int, now: datetime, hold: Hold | None = None) -> Lead:
    """Run every active provider for a lead whose enrichment is due; a no-op otherwise.

    Providers run outside any transaction (they may call slow services); the results are then
    saved in one transaction, together with the run log, only if no other attempt saved first: a second
    run (a retry after a worker died, or a duplicate task) leaves the same lead and the same run log.
    When a provider failed (an error, its timeout, an open circuit) the lead goes on with what is known
    and is enriched again after the next of ``RETRY_DELAYS``. With ``hold`` (the pipeline's lease on the lead), no
    provider runs past it: one with no time left is not called, and counts as failed.
    """
    lead = Lead.objects.get(pk=lead_id)
    if not is_enrichment_due(lead, now=now):
        return lead
    return _save_enrichment(lead=lead, runs=_run_providers(lead, now=now, hold=hold), now=now)


def enrich_leads(*, lead_ids: Iterable[int], now: datetime, hold: Hold | None = None) -> list[int]:
    """``enrich_lead`` for a batch: the leads read in one query, the results written set-based.

    Providers still run lead by lead, each renewing ``hold`` (the caller's lease) and ending before it. What
    the batch found is written in one transaction: the leads whose attempt count and inputs are still the
    ones read (as ``enrich_lead`` checks them) get one ``UPDATE`` per set of changed columns, the run log
    one ``INSERT``, the audit trail one ``INSERT``. Returns the ids of the leads it enriched.
    """
    leads = [
        lead for lead in Lead.objects.filter(pk__in=list(lead_ids)).order_by("pk") if is_enrichment_due(lead, now=now)
    ]
    directory.prefetch_entries(
        [lead.company_domain for lead in leads]
        + [classify_email_domain(lead.email or "").company_domain for lead in leads]
    )
    results = []
    for lead in leads:
        runs = _run_providers(lead, now=now, hold=hold)
        before = copy.copy(lead)
        inputs = _inputs_of(lead)
        attempts_before = lead.enrichment_attempts
        changed, not_set = _apply_results(lead, runs, now)
        results.append(
            _Result(lead, before, inputs, attempts_before, changed, _provider_runs(lead, runs, not_set, now), runs)
        )
    return _save_batch(results, now=now)


def _run_providers(lead: Lead, *, now: datetime, hold: Hold | None = None) -> list[_Run]:
    snapshot = snapshot_of(lead)
    runs = []
    for provider in once_per_batch(_active_providers):
        run = _run_provider(provider, snapshot, now, hold)
        snapshot = snapshot.with_values(run.found)
        runs.append(run)
    return runs


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
    # The band follows the count only where a provider could have set it: not over one staff or the person chose.
    band_holder = set_by.get("size_band", merge.Source.PERSON)
    may_band = merge.is_blank(lead.size_band) or "size_band" in changed or band_holder == merge.Source.PROVIDER
    if may_band and set_size_band(lead=lead, now=now):
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


def _inputs_of(lead: Lead) -> dict[str, Any]:
    """The inputs the providers read: a change of any of them meanwhile marked the lead for a new round."""
    return {name: getattr(lead, name) for name in sorted(freshness.ENRICHMENT_INPUTS)}


def _apply_results(lead: Lead, runs: list[_Run], now: datetime) -> tuple[list[str], dict[int, dict[str, str]]]:
    """What ``runs`` found, and the enrichment status they give, set on ``lead`` in memory (the caller saves)."""
    attempts_before = lead.enrichment_attempts
    changed, not_set = _apply(lead, runs, now)
    status = _status(runs)
    if status == EnrichmentStatus.FAILED and lead.enrichment_status == EnrichmentStatus.PARTIAL:
        status = EnrichmentStatus.PARTIAL  # a failed retry keeps what an earlier attempt found
    lead.enrichment_status, lead.enriched_at = status, now
    lead.enrichment_attempts = attempts_before + 1
    lead.enrichment_retry_at = _next_retry_at(status, lead.enrichment_attempts, now)
    return changed, not_set


def enriched_event_id(lead_id: int, enriched_at: datetime) -> str:
    """The ``lead.enriched`` event's id: one per enrichment of the lead, so a later one (a new job title, the
    refresh of stale data) reaches subscribers too, while the same run told twice is sent once."""
    return f"{events.LEAD_ENRICHED}:{lead_id}:{enriched_at.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}"


def _provider_runs(
    lead: Lead, runs: list[_Run], not_set: dict[int, dict[str, str]], now: datetime
) -> list[ProviderRun]:
    return [
        ProviderRun(
            lead=lead, provider=run.provider, provider_name=run.provider.name, status=run.status,
            latency_ms=run.latency_ms, fields_set=sorted(set(run.found) - set(not_set.get(index, {}))),
            fields_not_set=not_set.get(index, {}), error=run.error, started_at=now,
        )
        for index, run in enumerate(runs)
    ]  # fmt: skip


def _save_enrichment(*, lead: Lead, runs: list[_Run], now: datetime) -> Lead:
    attempts_before = lead.enrichment_attempts
    inputs = _inputs_of(lead)
    changed, not_set = _apply_results(lead, runs, now)
    with transaction.atomic():
        # Only the attempt that finds the count and the inputs it started from writes; a concurrent duplicate,
        # or a run that read a title or address changed since, gives up (the change queued a new round), and so
        # does a run for a lead erased while its providers ran.
        claimed = Lead.objects.filter(
            pk=lead.pk, enrichment_attempts=attempts_before, erased_at__isnull=True, **inputs
        ).update(
            enrichment_status=lead.enrichment_status,
            enriched_at=now,
            enrichment_attempts=lead.enrichment_attempts,
            enrichment_retry_at=lead.enrichment_retry_at,
        )
        if not claimed:
            return Lead.objects.get(pk=lead.pk)
        ProviderRun.objects.bulk_create(_provider_runs(lead, runs, not_set, now))
        lead.save(update_fields=[*changed, "enrichment_sources", "enrichment_conflicts", "updated_at"])
        events.emit(events.LEAD_ENRICHED, lead_id=lead.pk, event_id=enriched_event_id(lead.pk, now), occurred_at=now)
    return lead


@dataclass(frozen=True)
class _Result:
    """One lead's enrichment, applied in memory, waiting for the batch's write."""

    lead: Lead
    before: Lead  # a copy as read, for the audit trail
    inputs: dict[str, Any]
    attempts_before: int
    changed: list[str]
    runs: list[ProviderRun]
    found: list[_Run]  # what the providers answered, to apply again to a row changed since it was read


# Written for every enriched lead, whatever the providers found.
_STATUS_COLUMNS = ("enrichment_status", "enriched_at", "enrichment_attempts", "enrichment_retry_at",
                   "enrichment_sources", "enrichment_conflicts", "updated_at")  # fmt: skip


def _save_batch(results: list[_Result], *, now: datetime) -> list[int]:
    """Write the batch's results for the leads no other attempt saved first; returns their ids.

    A lead whose row changed in another way since the batch read it (staff edited a value, the person sent a
    form while the batch's providers ran) is not written from the batch's copy, which would put the providers'
    values over theirs: it is read again and saved as ``enrich_lead`` saves one lead, the merge rules applied
    to what it holds now.
    """
    if not results:
        return []
    with transaction.atomic():
        # A lead erased while the providers ran is not read: nothing they found for it is written.
        current = Lead.objects.filter(pk__in=[result.lead.pk for result in results], erased_at__isnull=True)
        if connection.features.has_select_for_update:
            current = current.select_for_update()
        columns = ("pk", "updated_at", "enrichment_attempts", *sorted(freshness.ENRICHMENT_INPUTS))
        as_read = {row[0]: row[1:] for row in current.values_list(*columns)}
        ours = [
            result
            for result in results
            if as_read.get(result.lead.pk, (None,))[1:] == (result.attempts_before, *result.inputs.values())
        ]
        claimed = [result for result in ours if as_read[result.lead.pk][0] == result.before.updated_at]
        changed_since = [result for result in ours if as_read[result.lead.pk][0] != result.before.updated_at]
        by_columns: dict[tuple[str, ...], list[Lead]] = defaultdict(list)
        for result in claimed:
            result.lead.updated_at = now
            by_columns[tuple(sorted(set(result.changed)))].append(result.lead)
        for changed, leads in by_columns.items():
            update_each(leads, [*changed, *_STATUS_COLUMNS])
        ProviderRun.objects.bulk_create(run for result in claimed for run in result.runs)
        _audit([(result.before, result.lead, result.changed) for result in claimed])
        for result in claimed:
            lead_id = result.lead.pk
            events.emit(
                events.LEAD_ENRICHED, lead_id=lead_id, event_id=enriched_event_id(lead_id, now), occurred_at=now
            )
        for result in changed_since:  # rare: one lead's save each
            _save_enrichment(lead=Lead.objects.get(pk=result.lead.pk), runs=result.found, now=now)
    return sorted(result.lead.pk for result in ours)


def _audit(changes: list[tuple[Lead, Lead, list[str]]]) -> None:
    """The audit entries ``lead.save()`` leaves through django-auditlog, for leads written by ``bulk_update``."""
    if not changes or not auditlog.contains(Lead):
        return
    content_type = ContentType.objects.get_for_model(Lead)
    entries = []
    for before, after, fields_changed in changes:
        diff = model_instance_diff(
            before, after, fields_to_check=fields_changed, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES
        )
        if diff:
            entries.append(
                LogEntry(
                    content_type=content_type, object_pk=str(after.pk), object_id=after.pk, object_repr=str(after),
                    action=LogEntry.Action.UPDATE, changes=diff, cid=get_cid(),
                )
            )  # fmt: skip
    LogEntry.objects.bulk_create(entries)


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
