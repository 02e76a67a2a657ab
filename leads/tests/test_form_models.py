import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from leads.models import CaptureForm, FieldKind, FormField, LeadAttribute
from leads.tests.factories import CaptureFormFactory, FormFieldFactory


def errors_of(instance: CaptureForm | FormField) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        instance.clean()
    return raised.value.message_dict


def test_a_field_maps_to_an_attribute_or_a_custom_key_not_both() -> None:
    field = FormField(label="Title", kind=FieldKind.TEXT, lead_attribute=LeadAttribute.JOB_TITLE, answer_key="title")

    assert "answer_key" in errors_of(field)


def test_a_custom_key_cannot_take_a_name_the_form_uses_itself() -> None:
    field = FormField(label="Website", kind=FieldKind.TEXT, answer_key="company_website")

    assert "taken by the form" in errors_of(field)["answer_key"][0]


def test_the_email_attribute_needs_an_email_field() -> None:
    field = FormField(label="Email", kind=FieldKind.TEXT, lead_attribute=LeadAttribute.EMAIL)

    assert "Email takes a field of kind: Email" in errors_of(field)["kind"][0]


def test_a_select_needs_choices() -> None:
    field = FormField(label="Team size", kind=FieldKind.SELECT, answer_key="team_size")

    assert "choices" in errors_of(field)


def test_email_cannot_be_progressive() -> None:
    field = FormField(label="Email", kind=FieldKind.EMAIL, lead_attribute=LeadAttribute.EMAIL, is_progressive=True)

    assert "is_progressive" in errors_of(field)


def test_a_hidden_field_cannot_be_required() -> None:
    field = FormField(label="Plan", kind=FieldKind.HIDDEN, answer_key="plan", is_required=True)

    assert "is_required" in errors_of(field)


@pytest.mark.django_db
def test_a_form_cannot_ask_for_the_same_attribute_twice() -> None:
    form = CaptureFormFactory()
    FormFieldFactory(form=form, lead_attribute=LeadAttribute.JOB_TITLE)

    with pytest.raises(IntegrityError):
        FormFieldFactory(form=form, lead_attribute=LeadAttribute.JOB_TITLE)


def test_allowed_origins_must_be_origins() -> None:
    form = CaptureForm(slug="wp", allowed_origins="https://www.acme.example\nwww.acme.example/blog")

    assert "www.acme.example/blog" in errors_of(form)["allowed_origins"][0]


def test_allowed_origins_refuse_a_line_that_would_widen_the_embed_policy() -> None:
    form = CaptureForm(slug="wp", allowed_origins="https://www.acme.example *")

    assert "https://www.acme.example *" in errors_of(form)["allowed_origins"][0]


def test_the_redirect_must_be_on_an_allowed_origin() -> None:
    form = CaptureForm(slug="wp", allowed_origins="https://www.acme.example", redirect_url="https://evil.example/x")

    assert "redirect_url" in errors_of(form)


def test_a_redirect_to_an_allowed_origin_is_accepted() -> None:
    form = CaptureForm(
        slug="wp", allowed_origins="https://www.acme.example", redirect_url="https://www.acme.example/thanks"
    )

    form.clean()


def test_a_form_has_a_file_or_an_external_asset_not_both() -> None:
    form = CaptureForm(slug="wp", asset_file="form-assets/a.pdf", asset_url="https://cdn.acme.example/a.pdf")

    assert "asset_url" in errors_of(form)


def test_the_slug_confirm_is_reserved() -> None:
    assert "slug" in errors_of(CaptureForm(slug="confirm"))
