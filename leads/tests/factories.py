from datetime import UTC, datetime

import factory
from django.contrib.auth import get_user_model

from leads.models import (
    Activity,
    ActivityKind,
    CaptureForm,
    Consent,
    ConsentSource,
    ConsentText,
    FieldKind,
    FormField,
    Lead,
    LeadAttribute,
    LegalBasis,
    Submission,
)

FIXED_NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TEST_PASSWORD = "pw-for-tests-only"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@leadsite.example")
    password = factory.django.Password(TEST_PASSWORD)


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    email = factory.Sequence(lambda n: f"person{n}@acme.example")
    first_name = "Ada"
    last_name = "Lovelace"
    company_name = "Acme"
    company_domain = "acme.example"
    job_title = "Head of Marketing"
    country = "GB"
    created_at = FIXED_NOW
    stage_changed_at = FIXED_NOW


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    lead = factory.SubFactory(LeadFactory)
    legal_basis = LegalBasis.OPT_IN
    text = "You may email me about your products."
    text_version = "1"
    source = ConsentSource.FORM
    given_at = FIXED_NOW


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    lead = factory.SubFactory(LeadFactory)
    kind = ActivityKind.WEBINAR_ATTENDED
    occurred_at = FIXED_NOW


class CaptureFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaptureForm
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"White paper {n}")
    slug = factory.Sequence(lambda n: f"white-paper-{n}")
    headline = "The State of B2B 2026"
    thank_you_text = "Thank you! Your copy is ready."
    asset_url = "https://cdn.acme.example/state-of-b2b.pdf"
    allowed_origins = "https://www.acme.example"
    created_at = FIXED_NOW


class ConsentTextFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentText

    form = factory.SubFactory(CaptureFormFactory)
    version = factory.Sequence(lambda n: n + 1)
    text = "Yes, Acme may email me about its products. I can withdraw this at any time."
    created_at = FIXED_NOW


class FormFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FormField

    form = factory.SubFactory(CaptureFormFactory)
    order = factory.Sequence(lambda n: n)
    label = "Job title"
    kind = FieldKind.TEXT
    lead_attribute = LeadAttribute.JOB_TITLE


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    form = factory.SubFactory(CaptureFormFactory)
    consent_text = factory.SubFactory(ConsentTextFactory, form=factory.SelfAttribute("..form"))
    idempotency_key = factory.Sequence(lambda n: f"nonce-{n}")
    payload = factory.LazyFunction(lambda: {"email": "ada@acme.example", "first_name": "Ada"})
    rendered_at = FIXED_NOW
    submitted_at = FIXED_NOW
    ip_address = "203.0.113.9"
