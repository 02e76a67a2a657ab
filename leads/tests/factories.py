from datetime import UTC, datetime

import factory
from django.contrib.auth import get_user_model

from leads.models import Activity, ActivityKind, Consent, ConsentSource, Lead, LegalBasis

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
