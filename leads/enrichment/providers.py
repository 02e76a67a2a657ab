"""Enrichment provider kinds: a registry mapping each ``kind`` string to an implementation.

A provider takes a snapshot of what we know about a lead and returns attribute values, each with a
confidence between 0 and 1. Admin configures which providers run, in what order and with which
settings (``leads.models.EnrichmentProvider``); adding a kind means one decorated class plus tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from leads.enrichment.domains import DomainKind, classify_email_domain
from leads.enrichment.titles import JobFunction, Seniority, parse_title

# Lead attributes a provider may set.
ENRICHABLE_FIELDS = (
    "company_name",
    "company_domain",
    "website",
    "country",
    "industry",
    "employee_count",
    "size_band",
    "job_title",
    "seniority",
    "job_function",
    "email_domain_kind",
)


@dataclass(frozen=True)
class LeadSnapshot:
    """Plain data about one lead, as providers see it; later providers see earlier providers' values."""

    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    company_domain: str = ""
    website: str = ""
    country: str = ""
    industry: str = ""
    employee_count: int | None = None
    size_band: str = ""
    job_title: str = ""
    seniority: str = ""
    job_function: str = ""
    email_domain_kind: str = ""

    def with_values(self, values: Mapping[str, Found]) -> LeadSnapshot:
        """A copy with the blanks filled from ``values`` (what a provider found; a name no provider may set is
        left out here, and refused when the values are applied)."""
        filled = {
            name: found.value
            for name, found in values.items()
            if name in ENRICHABLE_FIELDS and getattr(self, name) in ("", None)
        }
        return replace(self, **filled)


@dataclass(frozen=True)
class Found:
    """One attribute value a provider found, and how sure it is (0 to 1)."""

    value: Any
    confidence: float


@dataclass(frozen=True)
class ProviderResult:
    values: Mapping[str, Found] = field(default_factory=dict)


class ProviderError(Exception):
    """The provider could not answer (outage, timeout, malformed reply); the run is recorded as failed."""


class OutOfTime(ProviderError):
    """The provider was not called: the caller's deadline left no time for it (not a failure of its service)."""


@dataclass(frozen=True)
class ProviderContext:
    """What a provider run may use besides the snapshot: its settings, its time budget and "now".

    ``deadline`` is when the caller's hold on the lead ends (the pipeline's lease, less a margin): a provider that
    calls out stops before it, whatever its timeout and retries say, and tells the time by ``clock`` (``now``
    without one). None: no deadline (an admin action, a test).
    """

    settings: Mapping[str, Any]
    timeout_seconds: float
    now: datetime
    provider_key: str = ""
    deadline: datetime | None = None
    clock: Callable[[], datetime] | None = None

    def time_left(self) -> timedelta | None:
        """How long the provider may still take; None when it has no deadline."""
        if self.deadline is None:
            return None
        return self.deadline - (self.clock() if self.clock is not None else self.now)


class ProviderKind:
    """One way of enriching a lead. Subclasses set ``label`` and implement ``enrich``."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    help_text: ClassVar[str] = ""
    default_settings: ClassVar[Mapping[str, Any]] = {}

    def validate_settings(self, settings: Mapping[str, Any]) -> dict[str, str]:
        """Errors by setting name; empty when the settings are usable. Unknown keys are errors."""
        if not isinstance(settings, Mapping):
            return {"settings": "Settings must be a JSON object."}
        unknown = sorted(set(settings) - set(self.default_settings))
        return dict.fromkeys(unknown, "Unknown setting.")

    def enrich(self, snapshot: LeadSnapshot, context: ProviderContext) -> ProviderResult:
        raise NotImplementedError


PROVIDER_KINDS: dict[str, ProviderKind] = {}


def provider_kind(name: str) -> Callable[[type[ProviderKind]], type[ProviderKind]]:
    """Register a provider kind under ``name`` (the value stored in the admin-edited provider row)."""

    def register(cls: type[ProviderKind]) -> type[ProviderKind]:
        if name in PROVIDER_KINDS:
            raise ValueError(f"Provider kind {name!r} is registered twice.")
        cls.name = name
        PROVIDER_KINDS[name] = cls()
        return cls

    return register


def kind_choices() -> list[tuple[str, str]]:
    return [(name, kind.label) for name, kind in sorted(PROVIDER_KINDS.items())]


@provider_kind("job_title")
class JobTitleProvider(ProviderKind):
    label = "Job title → seniority and function"
    help_text = "Reads the job title the person typed; needs no outside service."

    def enrich(self, snapshot: LeadSnapshot, context: ProviderContext) -> ProviderResult:
        info = parse_title(snapshot.job_title)
        values = {}
        if info.seniority != Seniority.UNKNOWN:
            values["seniority"] = Found(str(info.seniority), 0.8)
        if info.function != JobFunction.OTHER:
            values["job_function"] = Found(str(info.function), 0.7)
        return ProviderResult(values)


@provider_kind("email_domain")
class EmailDomainProvider(ProviderKind):
    label = "Email domain → free-mail / disposable / company domain"
    help_text = "Classifies the email domain with the shipped free-mail list and the disposable blocklist."

    def enrich(self, snapshot: LeadSnapshot, context: ProviderContext) -> ProviderResult:
        if not snapshot.email:
            return ProviderResult()
        info = classify_email_domain(snapshot.email)
        values = {"email_domain_kind": Found(str(info.kind), 1.0)}
        if info.kind == DomainKind.COMPANY:
            values["company_domain"] = Found(info.company_domain, 0.9)
            values["website"] = Found(info.website, 0.6)
        return ProviderResult(values)
