"""Demo data: users for each role, and realistic leads that go through the real capture service.

Kept apart from the management command so tests can call it directly. Every function is
idempotent: running it again creates nothing twice.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction

from leads import roles, services
from leads.models import ActivityKind, ConsentSource, Lead, LegalBasis, Stage

DEMO_USERS: dict[str, tuple[str, str, str]] = {
    # username: (group, first name, last name)
    "marketer": (roles.MARKETING, "Maya", "Marketer"),
    "manager": (roles.SALES_MANAGER, "Morgan", "Manager"),
    "rep1": (roles.SALES_REP, "Riley", "Rep"),
    "rep2": (roles.SALES_REP, "Robin", "Rep"),
    "rep3": (roles.SALES_REP, "Reese", "Rep"),
    "rep4": (roles.SALES_REP, "Rowan", "Rep"),
}


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    country: str


COMPANIES = (
    Company("Acme Analytics", "acme-analytics.example", "US"),
    Company("Borealis Logistics", "borealis-logistics.example", "SE"),
    Company("Cobalt Health", "cobalthealth.example", "GB"),
    Company("Delta Fintech", "deltafintech.example", "DE"),
    Company("Evergreen Retail", "evergreen-retail.example", "FR"),
    Company("Fjord Software", "fjordsoftware.example", "NO"),
    Company("Granite Manufacturing", "granite-mfg.example", "US"),
    Company("Helix Biotech", "helixbio.example", "CH"),
    Company("Indigo Media", "indigomedia.example", "ES"),
    Company("Juniper Cloud", "junipercloud.example", "IE"),
    Company("Kestrel Security", "kestrelsec.example", "NL"),
    Company("Lumen Energy", "lumen-energy.example", "DK"),
    Company("Meridian Insurance", "meridian-ins.example", "GB"),
    Company("Nimbus Startups", "nimbus.example", "PT"),
    Company("Orbit Telecom", "orbit-telecom.example", "IT"),
    Company("Pioneer Education", "pioneer-edu.example", "CA"),
)
FIRST_NAMES = (
    "Ana", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gustav", "Hana", "Ivan", "Julia", "Kwame", "Lena",
    "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Yara",
)  # fmt: skip
LAST_NAMES = (
    "Andersen", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hughes", "Ivanova", "Jansen",
    "Kowalski", "Larsen", "Moreau", "Nakamura", "O'Brien", "Patel", "Rossi", "Schmidt", "Tanaka", "Walsh",
)  # fmt: skip
TITLES = (
    "Chief Marketing Officer", "VP Marketing", "Head of Growth", "Marketing Manager", "Demand Gen Specialist",
    "CTO", "Director of Engineering", "Sr. Software Engineer", "IT Manager", "CFO", "Finance Director",
    "Head of Operations", "Operations Analyst", "Sales Director", "Account Executive", "Student",
)  # fmt: skip
# (source, medium, campaign) of a first touch, with how often it occurs.
TOUCHES = (
    (("google", "cpc", "brand-search"), 5),
    (("linkedin", "paid_social", "q3-whitepaper"), 4),
    (("newsletter", "email", "monthly-digest"), 3),
    (("b2b-growth-podcast", "podcast", "episode-42"), 2),
    (("partner-webinar", "webinar", "partner-cloud-summit"), 2),
    (("saastr-2026", "event", "booth-scan"), 2),
    (("", "", ""), 2),
)
CONSENT_TEXT = (
    "I agree that Leadsite Demo may contact me about its products by email and phone. "
    "I can withdraw this consent at any time."
)
# Stage a demo lead ends in, with weights.
STAGE_MIX = ((Stage.NEW, 3), (Stage.NURTURE, 5), (Stage.MQL, 3), (Stage.SQL, 2), (Stage.REJECTED, 1))


def ensure_demo_users(*, password: str | None = None) -> dict[str, AbstractUser]:
    """Create (or reset) the demo users, each in its role's group."""
    password = password or settings.DEMO_PASSWORD
    user_model = get_user_model()
    users = {}
    for username, (group_name, first, last) in DEMO_USERS.items():
        user, _ = user_model.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@leadsite.example"
        user.is_staff = group_name in roles.STAFF_GROUPS
        user.is_active = True
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=group_name)])
        users[username] = user
    return users


def _demo_people(count: int, rng: random.Random) -> Iterator[tuple[int, str, str, Company]]:
    for i in range(count):
        yield i, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), COMPANIES[i % len(COMPANIES)]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _weighted(rng: random.Random, options: tuple[tuple[object, int], ...]) -> object:
    values, weights = zip(*options, strict=True)
    return rng.choices(values, weights=weights)[0]


def load_demo_leads(*, count: int, reps: list[AbstractUser], now: datetime, seed: int = 42) -> int:
    """Capture ``count`` realistic demo leads through ``capture_lead``; returns how many were new."""
    rng = random.Random(seed)
    created = 0
    for i, first, last, company in _demo_people(count, rng):
        email = _ascii(f"{first}.{last}.{i}@{company.domain}".lower().replace("'", ""))
        # Draw every random value before deciding to skip, so a re-run sees the same sequence.
        title = rng.choice(TITLES)
        source, medium, campaign = _weighted(rng, TOUCHES)  # type: ignore[misc]
        stage = _weighted(rng, STAGE_MIX)
        captured_at = now - timedelta(days=rng.randint(1, 120), minutes=rng.randint(0, 1440))
        rep = reps[i % len(reps)]
        if Lead.objects.filter(email=email).exists():
            continue
        with transaction.atomic():
            result = services.capture_lead(
                details=services.LeadDetails(
                    email=email,
                    first_name=first,
                    last_name=last,
                    company_name=company.name,
                    company_domain=company.domain,
                    job_title=title,
                    country=company.country,
                ),
                consent=services.ConsentDetails(
                    legal_basis=LegalBasis.EVENT if medium == "event" else LegalBasis.OPT_IN,
                    text=CONSENT_TEXT,
                    text_version="demo-1",
                    source=ConsentSource.FORM,
                    source_ref="demo",
                ),
                touch=services.TouchDetails(source=source, medium=medium, campaign=campaign),
                activity_kind=ActivityKind.FORM_SUBMITTED,
                activity_metadata={"form": "demo"},
                now=captured_at,
            )
            _walk_to_stage(lead=result.lead, stage=stage, rep=rep, at=captured_at)  # type: ignore[arg-type]
        created += 1
    return created


def _walk_to_stage(*, lead: Lead, stage: str, rep: AbstractUser, at: datetime) -> None:
    path = {
        Stage.NEW: [],
        Stage.NURTURE: [Stage.NURTURE],
        Stage.MQL: [Stage.MQL],
        Stage.SQL: [Stage.MQL, Stage.SQL],
        Stage.REJECTED: [Stage.MQL, Stage.REJECTED],
    }[stage]
    for step, to_stage in enumerate(path, start=1):
        by = rep if to_stage in (Stage.SQL, Stage.REJECTED) else None
        reason = "Not a fit: no budget this year" if to_stage == Stage.REJECTED else "Demo data"
        services.change_stage(lead=lead, to_stage=to_stage, now=at + timedelta(hours=step * 5), by=by, reason=reason)
    if stage in (Stage.MQL, Stage.SQL, Stage.REJECTED):
        lead.owner = rep
        lead.save(update_fields=["owner", "updated_at"])


BULK_PREFIX = "bulk"
BULK_STAGES = (
    (Stage.NEW,) * 3
    + (Stage.NURTURE,) * 10
    + (Stage.MQL,) * 4
    + (Stage.SQL,) * 2
    + (Stage.REJECTED, Stage.DISQUALIFIED)
)


def bulk_create_leads(*, total: int, reps: list[AbstractUser], now: datetime, batch_size: int = 5000) -> int:
    """Top the synthetic ``bulk*`` leads up to ``total`` with set-based inserts; returns how many were added.

    For benchmarks up to a million leads: no consent, touch or activity rows, no per-row service
    calls, just plausible lead rows (stages, owners, countries, scores, a year of creation dates).
    """
    existing = Lead.objects.filter(email__startswith=BULK_PREFIX).count()
    rng = random.Random(existing)
    added = 0
    for start in range(existing, total, batch_size):
        batch = [_bulk_lead(i, rng=rng, reps=reps, now=now) for i in range(start, min(start + batch_size, total))]
        with transaction.atomic():
            Lead.objects.bulk_create(batch, batch_size=batch_size)
        added += len(batch)
    return added


def _bulk_lead(i: int, *, rng: random.Random, reps: list[AbstractUser], now: datetime) -> Lead:
    company = COMPANIES[i % len(COMPANIES)]
    stage = BULK_STAGES[rng.randrange(len(BULK_STAGES))]
    created_at = now - timedelta(seconds=rng.randrange(365 * 24 * 3600))
    owned = stage in (Stage.MQL, Stage.SQL, Stage.REJECTED)
    fit, engagement = rng.randrange(0, 60), rng.randrange(0, 50)
    return Lead(
        email=f"{BULK_PREFIX}{i}@{company.domain}",
        first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
        last_name=LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)],
        company_name=company.name,
        company_domain=company.domain,
        job_title=TITLES[i % len(TITLES)],
        country=company.country,
        stage=stage,
        stage_changed_at=created_at,
        owner=reps[i % len(reps)] if owned and reps else None,
        score=fit + engagement,
        fit_score=fit,
        engagement_score=engagement,
        created_at=created_at,
        updated_at=created_at,
    )
