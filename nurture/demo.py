"""Demo data: the start-up and general nurture tracks (the keys the demo routing rules name), three steps each,
some demo leads enrolled, sends and clicks.

Idempotent: once the demo tracks exist nothing more is created. The emails of the demo sends are not sent
(they are history); the worker sends the steps that fall due from now on, through the console backend.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from django.db import transaction

from leads.models import ActivityKind, Lead, Stage
from nurture import sending, services
from nurture.models import Enrollment, EnrollmentSource, Send, SendStatus, Step, Track, TrackStatus
from scoring.models import ScoringModel, ScoringRule

ASSET = "https://www.example.com/assets/b2b-demand-gen-report.pdf"
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
MAIL_SCANNER = "Barracuda Sentinel (EE)"
STARTUP_STEPS = (
    (0, "{{ first_name|default:\"Hi\" }}, the start-up playbook for {{ company|default:\"your team\" }}",
     "Hi {{ first_name|default:\"there\" }},\n\nTeams like **{{ company|default:\"yours\" }}** grow fastest when "
     "marketing and sales share one list. Our [start-up playbook]({{ asset_link }}) shows how in ten pages.\n\n"
     "Cheers,\nThe Leadsite team"),
    (3, "Three pipeline mistakes early teams make",
     "Hi {{ first_name|default:\"there\" }},\n\n1. Buying lists\n2. Scoring nothing\n3. Handing every form to "
     "sales\n\n[Read how to avoid them](https://www.example.com/blog/pipeline-mistakes)."),
    (5, "Start free, grow into it",
     "Hi {{ first_name|default:\"there\" }},\n\nOur start-up plan is free up to 1,000 leads. "
     "[See the plans](https://www.example.com/pricing) or just reply to this email."),
)  # fmt: skip
LONG_STEPS = (
    (0, "The 2026 B2B demand generation report",
     "Hi {{ first_name|default:\"there\" }},\n\nThanks for your interest. Here is the "
     "[full report]({{ asset_link }}): benchmarks from 400 B2B teams."),
    (7, "How {{ company|default:\"teams like yours\" }} can cut lead response time",
     "Hi {{ first_name|default:\"there\" }},\n\nLeads called within an hour convert seven times more often. "
     "[Read the case study](https://www.example.com/case-studies/response-time)."),
    (14, "Webinar: scoring that sales trusts",
     "Hi {{ first_name|default:\"there\" }},\n\nJoin our product team live next month. "
     "[Save your seat](https://www.example.com/webinars/scoring)."),
)  # fmt: skip


def load_demo_nurture(*, now: datetime, seed: int = 11) -> str:
    """The two demo tracks, the email click rule in the default scoring model, and a few enrolled leads."""
    with transaction.atomic():
        rule_added = _ensure_click_rule()
        if Track.objects.filter(key__in=("start-up-nurture", "general-nurture")).exists():
            return "demo tracks already there"
        startup = _track("Start-up nurture", "start-up-nurture", STARTUP_STEPS, is_default=False)
        long_track = _track("General nurture", "general-nurture", LONG_STEPS, is_default=True)
    enrolled, sent, clicked = _enroll_demo_leads([startup, long_track], now=now, rng=random.Random(seed))
    rule = "; “Clicked a nurture email” scoring rule added" if rule_added else ""
    return f"2 live tracks, {enrolled} leads enrolled, {sent} emails in their history, {clicked} clicked{rule}"


def _ensure_click_rule() -> bool:
    model = ScoringModel.objects.filter(is_active=True).first()
    if model is None or model.rules.filter(kind="activity", params__activity_kind=ActivityKind.EMAIL_CLICKED).exists():
        return False
    last = model.rules.order_by("-order").values_list("order", flat=True).first() or 0
    ScoringRule.objects.create(
        scoring_model=model,
        order=last + 10,
        name="Clicked a nurture email",
        kind="activity",
        dimension="engagement",
        points=8,
        cap=24,
        params={"activity_kind": ActivityKind.EMAIL_CLICKED.value, "within_days": 60},
    )
    return True


def _track(name: str, key: str, steps: tuple[tuple[int, str, str], ...], *, is_default: bool) -> Track:
    track = Track.objects.create(
        name=name,
        key=key,
        status=TrackStatus.LIVE,
        description=f"Demo track: {name.lower()}.",
        is_default_below_threshold=is_default,
        is_default_recycle=is_default,
        time_zone="Europe/London",
        holiday_country="GB",
    )
    for position, (delay, subject, body) in enumerate(steps, start=1):
        step = Step(track=track, position=position, delay_days=delay, subject=subject, body=body, asset_url=ASSET)
        step.full_clean()
        step.save()
    return track


def _enroll_demo_leads(tracks: list[Track], *, now: datetime, rng: random.Random) -> tuple[int, int, int]:
    leads = list(
        Lead.objects.filter(stage=Stage.NURTURE, erased_at__isnull=True, email__isnull=False)
        .exclude(email__startswith="bulk")
        .order_by("id")[:16]
    )
    enrolled = sent = clicked = 0
    for index, lead in enumerate(leads):
        track = tracks[index % len(tracks)]
        started = now - timedelta(days=rng.randint(8, 30))
        source = EnrollmentSource.ROUTING if track.key == "start-up-nurture" else EnrollmentSource.BELOW_THRESHOLD
        enrollment = services.enroll_lead(
            lead_id=lead.pk, track=track, source=source, reason="Demo enrollment", now=started
        )
        if enrollment is None:
            continue
        enrolled += 1
        steps = list(track.steps.order_by("position"))[: rng.randint(1, 2)]
        for offset, step in enumerate(steps):
            at = started + timedelta(days=3 * offset, hours=2)
            send = Send.objects.create(
                enrollment=enrollment, step=step, track=track, lead=lead, position=step.position,
                subject=sending.compile_step(step).render_subject(sending.person_values(lead)),
                to_email=lead.email or "", domain=(lead.email or "").rpartition("@")[2],
                message_id=f"<nurture.demo.{uuid.uuid4().hex}@localhost>", status=SendStatus.SENT,
                created_at=at, sent_at=at,
            )  # fmt: skip
            sent += 1
            if rng.random() < 0.2:  # a company's mail gateway checks the link on delivery: never scored
                services.record_click(
                    send_id=send.pk, url=ASSET, now=at + timedelta(seconds=20), user_agent=MAIL_SCANNER
                )
            if rng.random() < 0.4:
                services.record_click(send_id=send.pk, url=ASSET, now=at + timedelta(hours=5), user_agent=BROWSER)
                clicked += 1
        following = track.steps.filter(position__gt=steps[-1].position).order_by("position").first()
        calendar = services.lead_calendar(track, lead.country)
        Enrollment.objects.filter(pk=enrollment.pk).update(
            last_position=steps[-1].position,
            last_sent_at=started + timedelta(days=3 * (len(steps) - 1), hours=2),
            next_due_at=calendar.due_after(now, following.delay_days) if following else now,
        )
    services.count_clicks(now=now)  # the people's clicks, long past the burst window
    return enrolled, sent, clicked
