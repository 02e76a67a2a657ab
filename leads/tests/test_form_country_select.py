"""The country select: its choices built once per language, its HTML rendered once per name, value and attributes."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from leads import forms as lead_forms
from leads.forms import KeptSelect, SubmissionForm, country_choices
from leads.models import ConsentText, FieldKind, FormField, LeadAttribute, LegalBasis


@pytest.fixture(autouse=True)
def _nothing_kept() -> None:
    lead_forms._rendered_selects.clear()


def _country_form(data: dict[str, Any] | None = None) -> SubmissionForm:
    country = FormField(pk=1, label="Country", kind=FieldKind.COUNTRY, lead_attribute=LeadAttribute.COUNTRY)
    return SubmissionForm(data, fields=[country], consent_text=ConsentText(text="Yes"), legal_basis=LegalBasis.OPT_IN)


@pytest.mark.parametrize(
    ("value", "attrs"),
    [
        (None, {}),
        ("DE", {}),
        ("", {"required": True, "id": "id_country", "class": "form-select"}),
        ("GB", {"aria-describedby": "id_country_helptext", "aria-invalid": "true", "disabled": False}),
    ],
    ids=["nothing chosen", "a country chosen", "required", "with an error"],
)
def test_the_kept_select_renders_what_djangos_select_renders(value: str | None, attrs: dict[str, Any]) -> None:
    choices = country_choices()
    expected = forms.Select(choices=list(choices), attrs={"autocomplete": "country"}).render("country", value, attrs)

    first = KeptSelect(choices=choices, attrs={"autocomplete": "country"}).render("country", value, attrs)
    again = KeptSelect(choices=choices, attrs={"autocomplete": "country"}).render("country", value, attrs)

    assert first == expected
    assert again == expected


def _count_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The values of the selects rendered through Django's templates from now on."""
    rendered: list[str] = []
    get_context = forms.Select.get_context

    def counted(self: forms.Select, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        rendered.append(str(value))
        return get_context(self, name, value, attrs)

    monkeypatch.setattr(forms.Select, "get_context", counted)
    return rendered


def test_the_same_select_is_rendered_through_the_templates_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = _count_renders(monkeypatch)
    for value in ("DE", "DE", "FR", "DE"):
        str(_country_form({"country": value})["country"])

    assert rendered == ["DE", "FR"]


def test_the_same_select_with_other_attributes_is_rendered_with_them() -> None:
    plain = KeptSelect(choices=country_choices()).render("country", "DE", {"id": "id_country"})
    invalid = KeptSelect(choices=country_choices()).render(
        "country", "DE", {"id": "id_country", "aria-invalid": "true"}
    )

    assert 'aria-invalid="true"' not in plain
    assert 'aria-invalid="true"' in invalid


def test_a_select_of_other_choices_is_rendered_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    choices = [("a", "A"), ("b", "B")]
    expected = forms.Select(choices=choices).render("x", "a")
    rendered = _count_renders(monkeypatch)
    widget = KeptSelect(choices=choices)

    assert widget.render("x", "a") == widget.render("x", "a") == expected
    assert rendered == ["a", "a"]


def test_the_country_choices_are_built_once() -> None:
    assert country_choices() is country_choices()
    assert ("DE", "Germany") in list(country_choices())


def test_a_posted_country_is_still_checked_against_the_list() -> None:
    assert _country_form({"country": "DE", "consent": "on"}).is_valid()
    assert "Select a valid choice" in str(_country_form({"country": "XX", "consent": "on"}).errors["country"])
