"""Factories for the nurture tests; each gives a valid object with no arguments."""

from __future__ import annotations

import factory

from leads.tests.factories import FIXED_NOW, LeadFactory
from nurture.models import Enrollment, EnrollmentSource, Step, Track, TrackStatus


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    name = factory.Sequence(lambda n: f"Track {n}")
    key = factory.Sequence(lambda n: f"track-{n}")
    status = TrackStatus.LIVE
    time_zone = "Europe/London"
    holiday_country = "GB"


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Step

    track = factory.SubFactory(TrackFactory)
    position = factory.Sequence(lambda n: n + 1)
    delay_days = 0
    subject = "Hello {{ first_name }}"
    body = "Hi **{{ first_name }}** at {{ company }}. [Read the report](https://www.example.com/report)."


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    lead = factory.SubFactory(LeadFactory)
    track = factory.SubFactory(TrackFactory)
    source = EnrollmentSource.ROUTING
    started_at = FIXED_NOW
    next_due_at = FIXED_NOW
