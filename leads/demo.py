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
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from core import roles
from leads import bulk_demo, services, submissions
from leads.models import (
    ActivityKind,
    CaptureForm,
    ConsentSource,
    FieldKind,
    FormField,
    Lead,
    LeadAttribute,
    LegalBasis,
    Stage,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

T = TypeVar("T")

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
    # The demo rep who sells to it (1 for rep1), none when sales do not: the demo's territories, by the
    # head count in the demo directory (leads.enrichment.demo). Handoff's demo routing rules send each
    # company's leads to its rep's team: 10,000+ staff to the strategic pool (rep1), other enterprises to
    # the enterprise team (rep2), mid-market to the mid-market team (rep3, rep4), and start-ups and SMBs
    # to automated nurture, so none of their leads reached sales.
    rep: int | None = None


COMPANIES = (
    Company("Acme Analytics", "acme-analytics.example", "US", rep=2),
    Company("Borealis Logistics", "borealis-logistics.example", "SE", rep=2),
    Company("Cobalt Health", "cobalthealth.example", "GB", rep=1),
    Company("Delta Fintech", "deltafintech.example", "DE", rep=3),
    Company("Evergreen Retail", "evergreen-retail.example", "FR", rep=1),
    Company("Fjord Software", "fjordsoftware.example", "NO"),
    Company("Granite Manufacturing", "granite-mfg.example", "US", rep=2),
    Company("Helix Biotech", "helixbio.example", "CH", rep=4),
    Company("Indigo Media", "indigomedia.example", "ES"),
    Company("Juniper Cloud", "junipercloud.example", "IE"),
    Company("Kestrel Security", "kestrelsec.example", "NL", rep=3),
    Company("Lumen Energy", "lumen-energy.example", "DK", rep=2),
    Company("Meridian Insurance", "meridian-ins.example", "GB", rep=1),
    Company("Nimbus Startups", "nimbus.example", "PT"),
    Company("Orbit Telecom", "orbit-telecom.example", "IT", rep=1),
    Company("Pioneer Education", "pioneer-edu.example", "CA", rep=4),
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
# Stage a demo lead ends in, with weights; a lead at a company sales do not work stops at nurture.
STAGE_MIX = ((Stage.NEW, 3), (Stage.NURTURE, 5), (Stage.MQL, 3), (Stage.SQL, 2), (Stage.REJECTED, 1))
SALES_STAGES = (Stage.MQL, Stage.SQL, Stage.REJECTED)


def ensure_demo_users(*, password: str | None = None) -> dict[str, User]:
    """Create (or reset) the demo users, each in its role's group."""
    password = password or settings.DEMO_PASSWORD
    user_model = get_user_model()
    users: dict[str, User] = {}
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


def _weighted(rng: random.Random, options: tuple[tuple[T, int], ...]) -> T:
    values, weights = zip(*options, strict=True)
    return rng.choices(values, weights=weights)[0]


def load_demo_leads(*, count: int, reps: list[User], now: datetime, seed: int = 42) -> int:
    """Capture ``count`` realistic demo leads through ``capture_lead``; returns how many were new."""
    rng = random.Random(seed)
    created = 0
    for i, first, last, company in _demo_people(count, rng):
        email = _ascii(f"{first}.{last}.{i}@{company.domain}".lower().replace("'", ""))
        # Draw every random value before deciding to skip, so a re-run sees the same sequence.
        title = rng.choice(TITLES)
        source, medium, campaign = _weighted(rng, TOUCHES)
        stage = _weighted(rng, STAGE_MIX)
        captured_at = now - timedelta(days=rng.randint(1, 120), minutes=rng.randint(0, 1440))
        rep = reps[(company.rep - 1) % len(reps)] if company.rep is not None else None
        if rep is None and stage in SALES_STAGES:
            stage = Stage.NURTURE
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
            _walk_to_stage(lead=result.lead, stage=stage, rep=rep, at=captured_at)
        created += 1
    return created


def _walk_to_stage(*, lead: Lead, stage: Stage, rep: User | None, at: datetime) -> None:
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
    if stage in SALES_STAGES:
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


def bulk_create_leads(*, total: int, reps: list[User], now: datetime, batch_size: int = 50_000) -> int:
    """Top the synthetic ``bulk*`` leads up to ``total`` with set-based inserts; returns how many were added.

    For benchmarks up to a million leads (``leads.bulk_demo``): plausible lead rows (stages, owners,
    countries, scores, a year of creation dates), each with its first touch and its stage changes; no
    consent or activity rows and no per-row service calls. They arrive enriched and routed, so the
    pipeline's sweep leaves them alone, and reports have sources to group by.
    """
    people = bulk_demo.BulkPeople(
        prefix=BULK_PREFIX,
        stages=BULK_STAGES,
        touches=BULK_TOUCHES,
        companies=COMPANIES,
        first_names=FIRST_NAMES,
        last_names=LAST_NAMES,
        titles=TITLES,
    )
    owner_ids = [rep.pk for rep in reps]
    return bulk_demo.bulk_create_leads(people=people, total=total, owner_ids=owner_ids, now=now, batch_size=batch_size)


# (source, medium, campaign, channel) by weight:
BULK_TOUCHES = tuple(
    (*touch, channel)
    for (touch, weight), channel in zip(
        TOUCHES, ("paid_search", "paid_social", "email", "podcast", "webinar", "event", ""), strict=True
    )
    for _ in range(weight)
    if channel
)


# --- Demo forms -------------------------------------------------------------------------------------

# A page served by `python -m http.server 8080` may embed the demo forms, to try embed.js locally.
DEMO_ALLOWED_ORIGINS = "http://localhost:8080\nhttp://127.0.0.1:8080"
TEAM_SIZES = "1-10\n11-50\n51-200\n201-1,000\nMore than 1,000"


@dataclass(frozen=True)
class DemoField:
    label: str
    kind: str = FieldKind.TEXT
    attribute: str = ""
    key: str = ""
    required: bool = False
    progressive: bool = False
    choices: str = ""
    default: str = ""


@dataclass(frozen=True)
class DemoForm:
    slug: str
    name: str
    headline: str
    intro: str
    submit_label: str
    thank_you: str
    legal_basis: str
    is_double_opt_in: bool
    consent_text: str
    fields: tuple[DemoField, ...]
    asset_title: str = ""
    asset_lines: tuple[str, ...] = ()


NAME_FIELDS = (
    DemoField("First name", attribute=LeadAttribute.FIRST_NAME, required=True),
    DemoField("Last name", attribute=LeadAttribute.LAST_NAME, required=True),
    DemoField("Work email", FieldKind.EMAIL, attribute=LeadAttribute.EMAIL, required=True),
    DemoField("Company", attribute=LeadAttribute.COMPANY_NAME, required=True),
)
DEMO_FORMS = (
    DemoForm(
        slug="b2b-demand-gen-report",
        name="White paper: State of B2B demand generation 2026",
        headline="The State of B2B Demand Generation 2026",
        intro="What 400 B2B marketers changed this year, and what it did to their pipeline. 24 pages, no fluff.",
        submit_label="Get the white paper",
        thank_you="Thank you! Your copy of the report is ready.",
        legal_basis=LegalBasis.OPT_IN,
        is_double_opt_in=False,
        consent_text=CONSENT_TEXT,
        fields=(
            *NAME_FIELDS,
            DemoField("Job title", attribute=LeadAttribute.JOB_TITLE),
            DemoField("Country", FieldKind.COUNTRY, attribute=LeadAttribute.COUNTRY),
            # Asked of the person, so a company no directory knows is scored all the same.
            DemoField("Industry", FieldKind.SELECT, attribute=LeadAttribute.INDUSTRY),
            DemoField("Company size", FieldKind.SELECT, attribute=LeadAttribute.SIZE_BAND),
            DemoField("Team size", FieldKind.SELECT, key="team_size", progressive=True, choices=TEAM_SIZES),
            DemoField(
                "Your biggest challenge", FieldKind.SELECT, key="challenge", progressive=True,
                choices="Too few leads\nLead quality\nSlow follow-up by sales\nAttribution",
            ),
            DemoField("Phone", FieldKind.PHONE, attribute=LeadAttribute.PHONE),
        ),
        asset_title="The State of B2B Demand Generation 2026",
        asset_lines=(
            "A Leadsite demo white paper.",
            "1. Gated content still works when the form is short.",
            "2. Speed to lead matters more than lead volume.",
            "3. Progressive profiling beats long forms.",
        ),
    ),
    DemoForm(
        slug="webinar-pipeline-playbook",
        name="Webinar sign-up: The pipeline playbook",
        headline="Live webinar: The Pipeline Playbook",
        intro="Thursday at 16:00 CET, 45 minutes. How three SaaS teams cut their speed-to-lead to minutes.",
        submit_label="Save my seat",
        thank_you="You are registered. We will send the joining link the day before.",
        legal_basis=LegalBasis.OPT_IN,
        is_double_opt_in=True,
        consent_text=(
            "I agree that Leadsite Demo may email me about this webinar and related events. "
            "I can unsubscribe at any time."
        ),
        fields=(
            *NAME_FIELDS,
            DemoField("Job title", attribute=LeadAttribute.JOB_TITLE, required=True),
            DemoField("Questions for the speakers", FieldKind.TEXTAREA, key="webinar_questions"),
            DemoField("Send me the recording if I cannot attend", FieldKind.CHECKBOX, key="wants_recording"),
            DemoField("Webinar", FieldKind.HIDDEN, key="webinar", default="pipeline-playbook-2026"),
            DemoField("Team size", FieldKind.SELECT, key="team_size", progressive=True, choices=TEAM_SIZES),
        ),
    ),
    DemoForm(
        slug="pricing-sheet",
        name="Pricing-sheet request",
        headline="Get the Leadsite pricing sheet",
        intro="Plans, volume discounts and what is included, on one page.",
        submit_label="Send me the pricing",
        thank_you="Here is the pricing sheet. A specialist will be in touch if you asked for a call.",
        legal_basis=LegalBasis.LEGITIMATE_INTEREST,
        is_double_opt_in=False,
        consent_text=(
            "We use your details to send you the pricing sheet and to follow up about it, on the basis of "
            "our legitimate interest. You can object at any time; see our privacy notice."
        ),
        fields=(
            DemoField("Work email", FieldKind.EMAIL, attribute=LeadAttribute.EMAIL, required=True),
            DemoField("First name", attribute=LeadAttribute.FIRST_NAME),
            DemoField("Company", attribute=LeadAttribute.COMPANY_NAME, required=True),
            DemoField("Country", FieldKind.COUNTRY, attribute=LeadAttribute.COUNTRY, required=True),
            DemoField("Phone (for a call back)", FieldKind.PHONE, attribute=LeadAttribute.PHONE),
            DemoField("Number of sales reps", FieldKind.NUMBER, key="sales_reps"),
            DemoField(
                "Interested in", FieldKind.MULTI_SELECT, key="interests",
                choices="Lead capture\nEnrichment\nScoring\nSales handoff",
            ),
            DemoField("Plan", FieldKind.HIDDEN, key="plan", default="growth"),
        ),
        asset_title="Leadsite pricing 2026",
        asset_lines=(
            "Starter: 1,000 leads a month, 2 forms.",
            "Growth: 10,000 leads a month, unlimited forms, scoring.",
            "Enterprise: talk to us.",
        ),
    ),
)  # fmt: skip


def ensure_demo_forms(*, now: datetime) -> int:
    """Create the demo forms (white paper, webinar sign-up, pricing sheet) that are missing; returns how many.

    A form that exists already is left as it is, with whatever a marketer changed in it.
    """
    created = 0
    for spec in DEMO_FORMS:
        if CaptureForm.objects.filter(slug=spec.slug).exists():
            continue
        with transaction.atomic():
            _create_demo_form(spec, now=now)
        created += 1
    return created


def _create_demo_form(spec: DemoForm, *, now: datetime) -> CaptureForm:
    form = CaptureForm(
        slug=spec.slug,
        name=spec.name,
        headline=spec.headline,
        intro=spec.intro,
        submit_label=spec.submit_label,
        thank_you_text=spec.thank_you,
        legal_basis=spec.legal_basis,
        is_double_opt_in=spec.is_double_opt_in,
        allowed_origins=DEMO_ALLOWED_ORIGINS,
        created_at=now,
    )
    form.full_clean()
    form.save()
    for order, field in enumerate(spec.fields, start=1):
        row = FormField(
            form=form, order=order * 10, label=field.label, kind=field.kind, lead_attribute=field.attribute,
            answer_key=field.key, is_required=field.required, is_progressive=field.progressive,
            choices=field.choices, default_value=field.default,
        )  # fmt: skip
        row.full_clean()
        row.save()
    submissions.update_consent_text(form=form, text=spec.consent_text, by=None, now=now)
    if spec.asset_title:
        # One file per demo form however often the demo loads (test runs load it many times).
        name = f"form-assets/demo/{spec.slug}.pdf"
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(simple_pdf(spec.asset_title, spec.asset_lines)))
        form.asset_file.name = name
        form.save(update_fields=["asset_file", "updated_at"])
    return form


def simple_pdf(title: str, lines: tuple[str, ...]) -> bytes:
    """A one-page PDF with a title and a few lines of text, so demo downloads open in any viewer."""
    text = ["BT", "/F1 22 Tf", "72 740 Td", f"({_pdf_text(title)}) Tj", "/F1 12 Tf", "0 -40 Td"]
    for line in lines:
        text += [f"({_pdf_text(line)}) Tj", "0 -20 Td"]
    stream = "\n".join([*text, "ET"]).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(pdf)


def _pdf_text(text: str) -> str:
    ascii_text = _ascii(text)
    return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
