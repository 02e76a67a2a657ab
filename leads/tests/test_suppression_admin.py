"""The suppression list in admin: staff add an email address or a phone number; only its hash is kept."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from leads.models import SuppressedAddress
from leads.suppression import email_hash, phone_hash
from tests.personas import client_for

pytestmark = pytest.mark.django_db

ADD = reverse("admin:leads_suppressedaddress_add")
NEITHER = "Give an email address or a phone number."
BOTH = "Give an email address or a phone number, not both: each goes on the list as its own row."


def add(marketer: object, **fields: str) -> Any:
    return client_for(marketer).post(ADD, {"email": "", "phone": "", "country": "", "reason": "Objected", **fields})


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response
    return {field: list(messages) for field, messages in response.context["adminform"].form.errors.items()}


def test_an_address_is_added_as_its_hash(marketer: object) -> None:
    add(marketer, email="Ada@Acme.example")

    row = SuppressedAddress.objects.get()
    assert (row.email_hash, row.phone_hash, row.reason) == (email_hash("ada@acme.example"), None, "Objected")


def test_a_number_in_international_form_is_added_as_the_hash_of_its_e164_form(marketer: object) -> None:
    """Spaces and all, it is the number leads store as +442071838750 (erasure hashes that)."""
    add(marketer, phone="+44 20 7183 8750")

    row = SuppressedAddress.objects.get()
    assert (row.email_hash, row.phone_hash) == (None, phone_hash("+442071838750"))


def test_a_national_number_is_read_in_the_country_given(marketer: object) -> None:
    add(marketer, phone="020 7183 8750", country="GB")

    assert SuppressedAddress.objects.get().phone_hash == phone_hash("+442071838750")


def test_a_national_number_without_a_country_is_a_form_error(marketer: object) -> None:
    response = add(marketer, phone="020 7183 8750")

    assert errors_of(response) == {
        "country": ["Choose the country of this number, or give it in international form (+44 20 …)."]
    }
    assert not SuppressedAddress.objects.exists()


def test_a_number_that_does_not_parse_is_a_form_error(marketer: object) -> None:
    response = add(marketer, phone="12345", country="GB")

    assert errors_of(response) == {"phone": ["This is not a valid phone number in United Kingdom."]}
    assert not SuppressedAddress.objects.exists()


def test_neither_an_address_nor_a_number_is_a_form_error(marketer: object) -> None:
    response = add(marketer)

    assert errors_of(response) == {"__all__": [NEITHER]}
    assert not SuppressedAddress.objects.exists()


def test_both_an_address_and_a_number_is_a_form_error(marketer: object) -> None:
    response = add(marketer, email="ada@acme.example", phone="+44 20 7183 8750")

    assert errors_of(response) == {"__all__": [BOTH]}
    assert not SuppressedAddress.objects.exists()


def test_a_number_on_the_list_already_is_a_form_error(marketer: object) -> None:
    """However it was typed: the list holds the number once."""
    add(marketer, phone="+442071838750")

    response = add(marketer, phone="020 7183 8750", country="GB")

    assert errors_of(response) == {"phone": ["This number is on the list already."]}
    assert SuppressedAddress.objects.count() == 1


def test_the_add_page_asks_for_an_address_or_a_number(marketer: object) -> None:
    response = client_for(marketer).get(ADD)

    assert list(response.context["adminform"].form.fields) == ["email", "phone", "country", "reason"]
