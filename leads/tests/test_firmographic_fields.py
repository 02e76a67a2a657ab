"""Forms ask the person for the firmographics no directory knows: industry and company size (a size band)."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from leads import selectors
from leads.forms import SubmissionForm
from leads.models import CaptureForm, ConsentText, FieldKind, FormField, Lead, SizeBand
from leads.tests.factories import CaptureFormFactory, ConsentTextFactory, FormFieldFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def firmographics_form() -> CaptureForm:
    form = CaptureFormFactory(slug="helix-report")
    ConsentTextFactory(form=form)
    FormFieldFactory(form=form, order=1, label="Work email", kind=FieldKind.EMAIL, lead_attribute="email")
    FormFieldFactory(form=form, order=2, label="Industry", kind=FieldKind.SELECT, lead_attribute="industry")
    FormFieldFactory(form=form, order=3, label="Company size", kind=FieldKind.SELECT, lead_attribute="size_band")
    return form


def submission_form(form: CaptureForm, data: dict[str, str] | None = None) -> SubmissionForm:
    consent_text = ConsentText.objects.get(form=form)
    return SubmissionForm(data, fields=list(form.fields.all()), consent_text=consent_text, legal_basis=form.legal_basis)


def test_company_size_offers_the_size_bands(firmographics_form: CaptureForm) -> None:
    form = submission_form(firmographics_form)

    offered = [value for value, _ in form.fields["size_band"].choices if value]

    assert offered == list(SizeBand.objects.order_by("min_employees").values_list("name", flat=True))
    assert offered[:2] == ["Start-up", "SMB"]


def test_industry_without_choices_offers_the_industry_list(firmographics_form: CaptureForm) -> None:
    form = submission_form(firmographics_form)

    offered = [value for value, _ in form.fields["industry"].choices if value]

    assert "Healthcare" in offered and "Software" in offered


def test_a_size_that_is_no_band_is_a_field_error(firmographics_form: CaptureForm) -> None:
    form = submission_form(firmographics_form, {"email": "ada@helix-biotech.de", "size_band": "Huge", "consent": "on"})

    assert not form.is_valid() and "size_band" in form.errors


def test_company_size_takes_no_choices_of_its_own(firmographics_form: CaptureForm) -> None:
    field = FormField(
        form=firmographics_form, label="Size", kind=FieldKind.SELECT, lead_attribute="size_band", choices="Big\nSmall"
    )

    with pytest.raises(ValidationError) as error:
        field.clean()

    assert "choices" in error.value.message_dict


def test_a_submission_sets_industry_and_size_band_on_the_lead(firmographics_form: CaptureForm) -> None:
    with time_machine.travel("2026-03-02 10:00Z", tick=False) as clock:
        client = Client()
        page = client.get(reverse("leads:form", args=[firmographics_form.slug]))
        clock.shift(timedelta(seconds=20))
        client.post(
            reverse("leads:form", args=[firmographics_form.slug]),
            {
                "token": page.context["token"], "email": "vp@helix-biotech.de", "industry": "Healthcare",
                "size_band": "Mid-market", "consent": "on",
            },
        )  # fmt: skip

    lead = Lead.objects.get(email="vp@helix-biotech.de")
    assert (lead.industry, lead.size_band) == ("Healthcare", "Mid-market")
    assert lead.field_sources["size_band"]["source"] == "person"


def test_a_returning_visitor_is_asked_the_missing_firmographics_first() -> None:
    form = CaptureFormFactory(slug="progressive")
    fields = [
        FormFieldFactory(form=form, order=1, label="Email", kind=FieldKind.EMAIL, lead_attribute="email"),
        FormFieldFactory(
            form=form, order=2, label="Budget", kind=FieldKind.NUMBER, lead_attribute="", answer_key="budget",
            is_progressive=True,
        ),
        FormFieldFactory(
            form=form, order=3, label="Industry", kind=FieldKind.SELECT, lead_attribute="industry", is_progressive=True
        ),
        FormFieldFactory(
            form=form, order=4, label="Size", kind=FieldKind.SELECT, lead_attribute="size_band", is_progressive=True
        ),
    ]  # fmt: skip
    lead = LeadFactory(industry="", size_band="")

    shown = selectors.fields_to_show(fields=fields, lead=selectors.visitor_lead(lead.pk), max_new_questions=2)

    assert [field.key for field in shown] == ["email", "industry", "size_band"]


def test_a_returning_visitor_is_not_asked_a_firmographic_enrichment_found() -> None:
    form = CaptureFormFactory(slug="progressive")
    fields = [
        FormFieldFactory(form=form, order=1, label="Email", kind=FieldKind.EMAIL, lead_attribute="email"),
        FormFieldFactory(
            form=form, order=2, label="Industry", kind=FieldKind.SELECT, lead_attribute="industry", is_progressive=True
        ),
        FormFieldFactory(
            form=form, order=3, label="Size", kind=FieldKind.SELECT, lead_attribute="size_band", is_progressive=True
        ),
    ]  # fmt: skip
    lead = LeadFactory(industry="Software", size_band="")

    shown = selectors.fields_to_show(fields=fields, lead=selectors.visitor_lead(lead.pk), max_new_questions=2)

    assert [field.key for field in shown] == ["email", "size_band"]
