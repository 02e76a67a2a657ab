"""The local company directory: a provider over it, and the CSV import marketers use to fill it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from core.batch import once_per_batch
from leads.enrichment.domains import DomainKind, classify_email_domain
from leads.enrichment.providers import Found, LeadSnapshot, ProviderContext, ProviderKind, ProviderResult, provider_kind
from leads.models import CompanyDirectoryEntry, Industry, SizeBand

CSV_COLUMNS = ("domain", "name", "employee_count", "industry", "country")


@provider_kind("company_directory")
class CompanyDirectoryProvider(ProviderKind):
    label = "Company directory (local table)"
    help_text = "Looks the company domain up in the company directory marketers import in admin."

    def enrich(self, snapshot: LeadSnapshot, context: ProviderContext) -> ProviderResult:
        if not snapshot.company_domain:
            return ProviderResult()
        entry = directory_entry(snapshot.company_domain)
        if entry is None:
            return ProviderResult()
        found = {
            "company_name": entry.name,
            "employee_count": entry.employee_count,
            "industry": entry.industry,
            "country": entry.country,
        }
        return ProviderResult({name: Found(value, 0.9) for name, value in found.items() if value not in ("", None)})


def _entries_seen() -> dict[str, CompanyDirectoryEntry | None]:
    return {}


def directory_entry(domain: str) -> CompanyDirectoryEntry | None:
    """The directory's entry for ``domain``; inside a pipeline batch each domain is read once (or prefetched)."""
    seen = once_per_batch(_entries_seen)  # a new dict outside a batch: nothing is kept
    key = domain.lower()
    if key not in seen:
        seen[key] = CompanyDirectoryEntry.objects.filter(domain=key).first()
    return seen[key]


def prefetch_entries(domains: Iterable[str]) -> None:
    """Read the entries of ``domains`` for the current batch in one query (a no-op outside a batch)."""
    seen = once_per_batch(_entries_seen)
    wanted = {domain.lower() for domain in domains if domain} - set(seen)
    if not wanted:
        return
    found = {entry.domain: entry for entry in CompanyDirectoryEntry.objects.filter(domain__in=wanted)}
    seen.update({domain: found.get(domain) for domain in wanted})


def size_band_for(employee_count: int | None, bands: Iterable[SizeBand]) -> str:
    """The name of the band whose range holds ``employee_count``; "" when unknown or in no band."""
    if employee_count is None:
        return ""
    for band in bands:
        below_top = band.max_employees is None or employee_count <= band.max_employees
        if employee_count >= band.min_employees and below_top:
            return band.name
    return ""


def canonical_industry(raw: str, industries: Iterable[Industry]) -> str:
    """The admin-listed industry name for ``raw`` (by name or alias, any case); "" when it is not listed."""
    wanted = raw.strip().lower()
    for industry in industries:
        if wanted == industry.name.lower() or wanted in (alias.lower() for alias in industry.aliases):
            return industry.name
    return ""


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    errors: list[str]


def import_directory_csv(text: str) -> ImportReport:
    """Create or update directory entries from CSV text with a header row; all rows or none.

    Columns: domain (required), name, employee_count, industry (from the admin list, or an alias),
    country (ISO alpha-2). Every bad line is reported with its line number and nothing is saved.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [column for column in ("domain",) if column not in (reader.fieldnames or [])]
    if missing:
        return ImportReport(0, 0, [f"The header row needs the column(s): {', '.join(missing)}."])
    industries = list(Industry.objects.all())
    rows, errors = [], []
    for line, row in enumerate(reader, start=2):
        entry, problem = _parse_row(row, industries)
        if problem:
            errors.append(f"Line {line}: {problem}")
        else:
            rows.append(entry)
    if errors:
        return ImportReport(0, 0, errors)
    return _save_rows(rows)


def _parse_row(row: dict[str, str | None], industries: list[Industry]) -> tuple[dict[str, object], str]:
    value = {key: (row.get(key) or "").strip() for key in CSV_COLUMNS}
    info = classify_email_domain(value["domain"])
    if info.kind != DomainKind.COMPANY:
        return {}, f"{value['domain']!r} is not a company domain ({info.kind})."
    count = value["employee_count"].replace(",", "").replace("_", "")
    if count and not count.isdigit():
        return {}, f"employee_count {value['employee_count']!r} is not a whole number."
    industry = canonical_industry(value["industry"], industries) if value["industry"] else ""
    if value["industry"] and not industry:
        return {}, f"industry {value['industry']!r} is not in the industry list (add it or an alias in admin)."
    country = value["country"].upper()
    if country and (len(country) != 2 or not country.isalpha()):
        return {}, f"country {value['country']!r} is not a two-letter ISO code."
    entry = {"name": value["name"], "employee_count": int(count) if count else None, "industry": industry}
    return {"domain": info.company_domain, **entry, "country": country}, ""


def _save_rows(rows: list[dict[str, object]]) -> ImportReport:
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            _, is_new = CompanyDirectoryEntry.objects.update_or_create(
                domain=row["domain"], defaults={key: value for key, value in row.items() if key != "domain"}
            )
            created, updated = created + is_new, updated + (not is_new)
    return ImportReport(created, updated, [])
