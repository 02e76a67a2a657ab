"""The public submission form, built from a form's field rows, and the attribution data that travels with it.

Forms only check the shape of the input; ``leads.submissions.submit_form`` does the writing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import phonenumbers
from crispy_forms.helper import FormHelper
from django import forms
from django.db import models
from django.forms.renderers import BaseRenderer
from django.utils.choices import BaseChoiceIterator
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django_countries import countries

from leads import capture_cache
from leads.models import (
    ConsentText,
    FieldKind,
    FormField,
    Lead,
    LeadAttribute,
    LegalBasis,
    Touch,
)
from leads.origins import origin_of

# Query-string (and hidden input) names of the attribution data, and the Touch field each one fills.
ATTRIBUTION_PARAMS: dict[str, str] = {
    "utm_source": "source",
    "utm_medium": "medium",
    "utm_campaign": "campaign",
    "utm_term": "term",
    "utm_content": "content",
    "gclid": "click_id",
    "referrer": "referrer",
    "landing_page": "landing_page",
}
_URL_PARAMS = ("referrer", "landing_page")
# What the browser may autofill into each lead attribute.
_AUTOCOMPLETE: dict[str, str] = {
    LeadAttribute.EMAIL: "email",
    LeadAttribute.PHONE: "tel",
    LeadAttribute.FIRST_NAME: "given-name",
    LeadAttribute.LAST_NAME: "family-name",
    LeadAttribute.COMPANY_NAME: "organization",
    LeadAttribute.JOB_TITLE: "organization-title",
    LeadAttribute.COUNTRY: "country",
}
CUSTOM_TEXT_MAX_LENGTH = 500
LONG_TEXT_MAX_LENGTH = 5000
NUMBER_LIMIT = Decimal(10) ** 12


def clean_attribution(params: Mapping[str, Any], *, referrer: str = "", landing_page: str = "") -> dict[str, str]:
    """The attribution values in ``params`` (a query string or the form's hidden inputs).

    It never fails, because attribution must never cost a lead: values are cut to what a touch stores,
    and a referrer or landing page that is not an http(s) URL is dropped. UTM values missing from
    ``params`` are read from the landing page's own query string.
    """
    values = {name: _printable(params.get(name)) for name in ATTRIBUTION_PARAMS}
    values["referrer"] = values["referrer"] or _printable(referrer)
    values["landing_page"] = values["landing_page"] or _printable(landing_page)
    for name in _URL_PARAMS:
        if origin_of(values[name]) is None:
            values[name] = ""
    landing_query = parse_qs(urlsplit(values["landing_page"]).query)
    for name in ATTRIBUTION_PARAMS:
        if not values[name] and name not in _URL_PARAMS:
            values[name] = _printable(landing_query.get(name, [""])[0])
    return {name: value[: _touch_max_length(name)] for name, value in values.items() if value}


def _printable(value: object) -> str:
    """The value as trimmed text without control characters (PostgreSQL refuses NUL in text)."""
    return "".join(char for char in str(value or "") if char.isprintable()).strip()


def _touch_max_length(param: str) -> int | None:
    return _max_length(Touch, ATTRIBUTION_PARAMS[param])


def _max_length(model: type[models.Model], name: str) -> int | None:
    column = model._meta.get_field(name)
    assert isinstance(column, models.Field), f"{model.__name__}.{name} is a column"
    return column.max_length


def hidden_field_values(fields: Sequence[FormField], params: Mapping[str, Any]) -> dict[str, str]:
    """Initial values of the hidden fields: ``?key=value`` on the page URL, else the field's default."""
    return {
        field.key: str(params.get(field.key) or field.default_value)[: _text_max_length(field)]
        for field in fields
        if field.kind == FieldKind.HIDDEN
    }


class SubmissionForm(forms.Form):
    """A visitor's answers to the fields they were shown, and their consent."""

    def __init__(
        self,
        *args: Any,
        fields: Sequence[FormField],
        consent_text: ConsentText,
        legal_basis: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.form_fields = list(fields)
        for field in self.form_fields:
            self.fields[field.key] = _django_field(field, choices=listed_choices(field))
        if legal_basis == LegalBasis.OPT_IN:
            self.fields["consent"] = forms.BooleanField(
                label=consent_text.text,
                error_messages={"required": "Please tick the box to agree, so we may send you this."},
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        identity = [field for field in self.form_fields if field.is_identity]
        if identity and not any(cleaned.get(field.key) for field in identity) and not self.errors:
            names = " or ".join(field.label.lower() for field in identity)
            self.add_error(identity[0].key, f"Please give your {names}, so we can reach you.")
        for field in self.form_fields:
            if field.kind == FieldKind.PHONE and cleaned.get(field.key):
                message = _phone_problem(cleaned[field.key], country=cleaned.get(LeadAttribute.COUNTRY, ""))
                if message:
                    self.add_error(field.key, message)
        return cleaned

    def answers(self) -> dict[str, Any]:
        """The cleaned answers by field key, ready to store as JSON."""
        return {field.key: _json_value(field, self.cleaned_data.get(field.key)) for field in self.form_fields}


def listed_choices(field: FormField) -> list[str]:
    """The choices a select offers: the field's own, or for industry and company size the admin-edited lists.

    Company size always offers the size bands (a band name is all ``Lead.size_band`` holds); industry
    offers the marketer's choices when given, else every industry.
    """
    if field.lead_attribute == LeadAttribute.SIZE_BAND:
        return list(capture_cache.pick_lists().size_bands)
    if field.lead_attribute == LeadAttribute.INDUSTRY and not field.choice_list:
        return list(capture_cache.pick_lists().industries)
    return field.choice_list


def _django_field(field: FormField, *, choices: list[str]) -> forms.Field:
    common: dict[str, Any] = {
        "label": field.label,
        "required": field.is_required and field.kind != FieldKind.HIDDEN,
        "help_text": field.help_text,
    }
    autocomplete = _AUTOCOMPLETE.get(field.lead_attribute)
    attrs = {"autocomplete": autocomplete} if autocomplete else {}
    choose = [("", "Choose…")]
    match field.kind:
        case FieldKind.EMAIL:
            return forms.EmailField(max_length=254, widget=forms.EmailInput(attrs=attrs), **common)
        case FieldKind.PHONE:
            return forms.CharField(max_length=40, widget=forms.TextInput(attrs={**attrs, "type": "tel"}), **common)
        case FieldKind.NUMBER:
            return forms.DecimalField(min_value=-NUMBER_LIMIT, max_value=NUMBER_LIMIT, **common)
        case FieldKind.TEXTAREA:
            return forms.CharField(max_length=LONG_TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4}), **common)
        case FieldKind.SELECT:
            options = choose + [(choice, choice) for choice in choices]
            return forms.ChoiceField(choices=options, widget=forms.Select(attrs=attrs), **common)
        case FieldKind.MULTI_SELECT:
            options = [(choice, choice) for choice in choices]
            return forms.MultipleChoiceField(choices=options, widget=forms.CheckboxSelectMultiple, **common)
        case FieldKind.CHECKBOX:
            return forms.BooleanField(**common)
        case FieldKind.COUNTRY:
            return forms.ChoiceField(choices=country_choices(), widget=KeptSelect(attrs=attrs), **common)
        case FieldKind.HIDDEN:
            # Not validated for length: the visitor could not correct it. Cut to size in answers().
            return forms.CharField(widget=forms.HiddenInput, **common)
        case _:
            return forms.CharField(max_length=_text_max_length(field), widget=forms.TextInput(attrs=attrs), **common)


class FixedChoices(BaseChoiceIterator):
    """Choices built once and shared by every field that offers them; nobody changes them.

    Django's fields and widgets take such an iterator as it is, where a list is normalised again for each field,
    and a copied field shares it. For the 250 countries that normalising cost a form with a country field about
    a millisecond on every request.
    """

    def __init__(self, choices: Iterable[tuple[str, str]]) -> None:
        self._choices = tuple((str(value), str(label)) for value, label in choices)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._choices)

    def __len__(self) -> int:
        return len(self._choices)

    def __copy__(self) -> FixedChoices:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FixedChoices:
        return self


def country_choices() -> FixedChoices:
    """The country select's choices, "Choose…" first, as django-countries gives them; kept for each active language."""
    return _country_choices(get_language())


@lru_cache(maxsize=16)
def _country_choices(language: str) -> FixedChoices:
    return FixedChoices([("", "Choose…"), *countries])


class KeptSelect(forms.Select):
    """A select whose HTML, rendered by Django's own templates, is kept per process for its fixed choices.

    Rendering the 250 country options through the option template was two thirds of a form page with a country
    field (10 of 15 ms). The HTML depends only on the choices (a ``FixedChoices``, the same object while the
    language is), the name, the selected value, the attributes and the renderer, so it is rendered once for each
    of those and handed out again; any other choices are rendered as ``forms.Select`` renders them.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        if not isinstance(self.choices, FixedChoices):
            return super().render(name, value, attrs, renderer)
        try:
            key = (
                id(self.choices),
                name,
                tuple(self.format_value(value)),
                # With each value's type: True and 1 are equal keys, but print differently.
                tuple(
                    sorted((name, type(value), value) for name, value in self.build_attrs(self.attrs, attrs).items())
                ),
                id(renderer),
                self.template_name,
                self.option_template_name,
            )
            kept = _rendered_selects.get(key)
        except TypeError:  # an attribute value that isn't hashable
            return super().render(name, value, attrs, renderer)
        # The choices are kept beside the HTML, so an id reused by another object after they are gone never matches.
        if kept is not None and kept[0] is self.choices and kept[1] is renderer:
            return kept[2]
        html = super().render(name, value, attrs, renderer)
        if len(_rendered_selects) >= _KEPT_SELECTS:
            _rendered_selects.clear()
        _rendered_selects[key] = (self.choices, renderer, html)
        return html


# Rendered selects, by what their HTML depends on (``KeptSelect``): a few per form and language in use.
_rendered_selects: dict[tuple[Any, ...], tuple[FixedChoices, BaseRenderer | None, SafeString]] = {}
_KEPT_SELECTS = 256


def _text_max_length(field: FormField) -> int | None:
    if field.lead_attribute:
        return _max_length(Lead, field.lead_attribute)
    return CUSTOM_TEXT_MAX_LENGTH


def _json_value(field: FormField, value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if field.kind == FieldKind.HIDDEN:
        return (value or "")[: _text_max_length(field)]
    if value is None:
        return ""
    return value


def _phone_problem(raw: str, *, country: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, country.upper() or None)
    except phonenumbers.NumberParseException:
        return "Please give the number with its country code, e.g. +44 20 7946 0958."
    if not phonenumbers.is_possible_number(number):
        return "This does not look like a phone number."
    return None
