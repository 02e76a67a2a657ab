from typing import Any

import pytest

from leads.forms import SubmissionForm, clean_attribution, hidden_field_values
from leads.models import ConsentText, FieldKind, FormField, LeadAttribute, LegalBasis

CONSENT = ConsentText(text="Yes, Acme may email me about its products.")


def field(kind: str, *, key: str = "answer", attribute: str = "", **options: Any) -> FormField:
    return FormField(
        pk=1, label="Question", kind=kind, lead_attribute=attribute, answer_key="" if attribute else key, **options
    )


def submission_form(
    fields: list[FormField], data: dict[str, Any], legal_basis: str = LegalBasis.OPT_IN
) -> SubmissionForm:
    return SubmissionForm({"consent": "on", **data}, fields=fields, consent_text=CONSENT, legal_basis=legal_basis)


@pytest.mark.parametrize(
    ("kind", "options", "value", "answer"),
    [
        (FieldKind.TEXT, {}, "  Head of Growth ", "Head of Growth"),
        (FieldKind.EMAIL, {}, "ada@acme.example", "ada@acme.example"),
        (FieldKind.PHONE, {}, "+44 20 7946 0958", "+44 20 7946 0958"),
        (FieldKind.NUMBER, {}, "12", 12),
        (FieldKind.NUMBER, {}, "2.5", 2.5),
        (FieldKind.TEXTAREA, {}, "Line one\nLine two", "Line one\nLine two"),
        (FieldKind.SELECT, {"choices": "1-10\n11-50"}, "11-50", "11-50"),
        (
            FieldKind.MULTI_SELECT,
            {"choices": "Scoring\nRouting\nEnrichment"},
            ["Scoring", "Routing"],
            ["Scoring", "Routing"],
        ),
        (FieldKind.CHECKBOX, {}, "on", True),
        (FieldKind.COUNTRY, {}, "DE", "DE"),
        (FieldKind.HIDDEN, {}, "spring-campaign", "spring-campaign"),
    ],
)
def test_each_field_kind_accepts_a_good_answer(
    kind: str, options: dict[str, str], value: object, answer: object
) -> None:
    form = submission_form([field(kind, **options)], {"answer": value})

    assert form.is_valid(), form.errors
    assert form.answers() == {"answer": answer}


@pytest.mark.parametrize(
    ("kind", "options", "value", "message"),
    [
        (FieldKind.TEXT, {}, "x" * 501, "at most 500 characters"),
        (FieldKind.EMAIL, {}, "ada@", "valid email address"),
        (FieldKind.PHONE, {}, "020 7946 0958", "country code"),
        (FieldKind.PHONE, {}, "+44 12", "does not look like a phone number"),
        (FieldKind.NUMBER, {}, "twelve", "Enter a number"),
        (FieldKind.NUMBER, {}, "1e20", "less than or equal to"),
        (FieldKind.SELECT, {"choices": "1-10\n11-50"}, "5000", "Select a valid choice"),
        (FieldKind.MULTI_SELECT, {"choices": "Scoring\nRouting"}, ["Scoring", "Hacking"], "Select a valid choice"),
        (FieldKind.COUNTRY, {}, "XX", "Select a valid choice"),
    ],
)
def test_each_field_kind_rejects_a_bad_answer_with_a_message(
    kind: str, options: dict[str, str], value: object, message: str
) -> None:
    form = submission_form([field(kind, **options)], {"answer": value})

    assert not form.is_valid()
    assert message in str(form.errors["answer"])


@pytest.mark.parametrize(
    "kind", [FieldKind.TEXT, FieldKind.EMAIL, FieldKind.NUMBER, FieldKind.SELECT, FieldKind.CHECKBOX]
)
def test_a_required_field_must_be_answered(kind: str) -> None:
    form = submission_form([field(kind, is_required=True, choices="A\nB")], {})

    assert not form.is_valid()
    assert "answer" in form.errors


def test_an_optional_field_may_stay_empty() -> None:
    form = submission_form([field(FieldKind.NUMBER)], {})

    assert form.is_valid()
    assert form.answers() == {"answer": ""}


def test_a_phone_number_without_country_code_is_read_in_the_given_country() -> None:
    fields = [
        field(FieldKind.PHONE, attribute=LeadAttribute.PHONE),
        FormField(pk=2, label="Country", kind=FieldKind.COUNTRY, lead_attribute=LeadAttribute.COUNTRY),
    ]

    form = submission_form(fields, {"phone": "020 7946 0958", "country": "GB"})

    assert form.is_valid(), form.errors


def test_a_hidden_field_is_cut_to_size_instead_of_failing() -> None:
    form = submission_form([field(FieldKind.HIDDEN)], {"answer": "x" * 900})

    assert form.is_valid()
    assert len(form.answers()["answer"]) == 500


def test_a_text_field_mapped_to_a_lead_attribute_takes_that_attribute_length() -> None:
    form = submission_form([field(FieldKind.TEXT, attribute=LeadAttribute.FIRST_NAME)], {"first_name": "x" * 101})

    assert "at most 100 characters" in str(form.errors["first_name"])


def test_opt_in_needs_the_consent_box_ticked() -> None:
    form = SubmissionForm({}, fields=[], consent_text=CONSENT, legal_basis=LegalBasis.OPT_IN)

    assert not form.is_valid()
    assert "tick the box" in str(form.errors["consent"])


def test_the_consent_box_shows_the_exact_consent_text() -> None:
    form = SubmissionForm(fields=[], consent_text=CONSENT, legal_basis=LegalBasis.OPT_IN)

    assert form.fields["consent"].label == CONSENT.text


def test_legitimate_interest_has_no_consent_box() -> None:
    form = SubmissionForm(fields=[], consent_text=CONSENT, legal_basis=LegalBasis.LEGITIMATE_INTEREST)

    assert "consent" not in form.fields


def test_optional_email_and_phone_still_need_one_of_them() -> None:
    fields = [
        field(FieldKind.EMAIL, attribute=LeadAttribute.EMAIL),
        FormField(pk=2, label="Phone", kind=FieldKind.PHONE, lead_attribute=LeadAttribute.PHONE),
    ]

    form = submission_form(fields, {})

    assert "so we can reach you" in str(form.errors["email"])


def test_hidden_fields_take_their_value_from_the_page_url_or_the_default() -> None:
    fields = [field(FieldKind.HIDDEN, key="plan", default_value="growth"), field(FieldKind.HIDDEN, key="promo")]

    values = hidden_field_values(fields, {"promo": "spring"})

    assert values == {"plan": "growth", "promo": "spring"}


def test_attribution_keeps_utm_values_and_the_click_id() -> None:
    params = {"utm_source": "linkedin", "utm_medium": "paid_social", "utm_campaign": "q3", "gclid": "abc123"}

    attribution = clean_attribution(params)

    assert attribution == params


def test_attribution_reads_utm_values_from_the_landing_page_when_missing() -> None:
    landing = "https://www.acme.example/whitepaper?utm_source=newsletter&utm_medium=email"

    attribution = clean_attribution({"landing_page": landing})

    assert (attribution["utm_source"], attribution["utm_medium"]) == ("newsletter", "email")


def test_attribution_drops_urls_that_are_not_web_addresses() -> None:
    attribution = clean_attribution({"referrer": "javascript:alert(1)", "landing_page": "file:///etc/passwd"})

    assert attribution == {}


def test_attribution_cuts_over_long_values_instead_of_failing() -> None:
    attribution = clean_attribution({"utm_medium": "m" * 500})

    assert len(attribution["utm_medium"]) == 100


def test_attribution_drops_control_characters_the_database_would_refuse() -> None:
    attribution = clean_attribution({"utm_source": "news\x00letter\n", "utm_campaign": "\x00"})

    assert attribution == {"utm_source": "newsletter"}
