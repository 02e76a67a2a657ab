import pytest

from leads import selectors
from leads.models import FieldKind, FormField, Lead, LeadAttribute

FIELDS = [
    FormField(pk=1, label="Email", kind=FieldKind.EMAIL, lead_attribute=LeadAttribute.EMAIL, is_required=True),
    FormField(pk=2, label="First name", kind=FieldKind.TEXT, lead_attribute=LeadAttribute.FIRST_NAME),
    FormField(pk=3, label="Company", kind=FieldKind.TEXT, lead_attribute=LeadAttribute.COMPANY_NAME),
    FormField(pk=4, label="Campaign", kind=FieldKind.HIDDEN, answer_key="campaign"),
    FormField(pk=5, label="Country", kind=FieldKind.COUNTRY, lead_attribute=LeadAttribute.COUNTRY, is_progressive=True),
    FormField(pk=6, label="Team size", kind=FieldKind.SELECT, answer_key="team_size", is_progressive=True),
    FormField(pk=7, label="Budget", kind=FieldKind.NUMBER, answer_key="budget", is_progressive=True),
]


def shown(lead: Lead | None, max_new_questions: int = 2) -> list[int]:
    fields = selectors.fields_to_show(fields=FIELDS, lead=lead, max_new_questions=max_new_questions)
    return [field.pk for field in fields]


def test_a_new_visitor_gets_every_field_but_the_progressive_ones() -> None:
    assert shown(None) == [1, 2, 3, 4]


def test_a_returning_visitor_is_not_asked_again_what_we_know() -> None:
    lead = Lead(email="ada@acme.example", first_name="Ada", company_name="")

    assert shown(lead, max_new_questions=0) == [1, 3, 4]


def test_a_returning_visitor_gets_the_next_unanswered_progressive_fields_up_to_the_limit() -> None:
    lead = Lead(email="ada@acme.example", first_name="Ada", company_name="Acme")

    assert shown(lead) == [1, 4, 5, 6]


def test_progressive_fields_already_answered_are_skipped() -> None:
    lead = Lead(email="ada@acme.example", first_name="Ada", company_name="Acme", country="GB")
    lead.custom_answers = {"team_size": "11-50"}

    assert shown(lead) == [1, 4, 7]


def test_email_is_always_asked_even_when_known() -> None:
    lead = Lead(email="ada@acme.example")

    assert 1 in shown(lead)


@pytest.mark.parametrize("empty", ["", None, []])
def test_an_empty_custom_answer_counts_as_unanswered(empty: object) -> None:
    lead = Lead(email="ada@acme.example", first_name="Ada", company_name="Acme", country="GB")
    lead.custom_answers = {"team_size": empty}

    assert shown(lead) == [1, 4, 6, 7]


def test_a_known_phone_is_not_asked_again_on_a_form_that_asks_email() -> None:
    fields = [*FIELDS, FormField(pk=8, label="Phone", kind=FieldKind.PHONE, lead_attribute=LeadAttribute.PHONE)]
    lead = Lead(email="ada@acme.example", phone="+442079460958")

    shown = selectors.fields_to_show(fields=fields, lead=lead, max_new_questions=0)

    assert 8 not in [field.pk for field in shown]


def test_phone_is_always_asked_on_a_form_without_email() -> None:
    fields = [FormField(pk=8, label="Phone", kind=FieldKind.PHONE, lead_attribute=LeadAttribute.PHONE)]
    lead = Lead(phone="+442079460958")

    shown = selectors.fields_to_show(fields=fields, lead=lead, max_new_questions=0)

    assert [field.pk for field in shown] == [8]
