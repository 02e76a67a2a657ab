"""Saving a capture form in admin records in the audit trail what the marketer changed, and nothing else.

The page is posted back as chromium posts it: textareas with CR LF line breaks, and the form builder's rows
numbered 1, 2, 3… by static/js/form_builder_reorder.js (the demo forms store 10, 20, 30…).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from auditlog.models import LogEntry
from django import forms
from django.contrib.auth.models import User
from django.forms.formsets import BaseFormSet
from django.test import Client
from django.urls import reverse

from leads import demo
from leads.models import CaptureForm, FormField
from leads.tests.factories import FIXED_NOW
from tests.personas import client_for

if TYPE_CHECKING:
    # What the test client answers (django-stubs' name): a response with .context.
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db


@pytest.fixture
def white_paper(db: None) -> CaptureForm:
    demo.ensure_demo_forms(now=FIXED_NOW)
    return CaptureForm.objects.get(slug="b2b-demand-gen-report")


def as_the_browser_posts_it(page: TestResponse) -> dict[str, str]:
    """The change page's values untouched, as chromium posts them once form_builder_reorder.js has run."""
    formsets = [inline.formset for inline in page.context["inline_admin_formsets"]]
    shown: list[forms.BaseForm] = [page.context["adminform"].form]
    for formset in formsets:
        shown += [formset.management_form, *formset.forms]
    data: dict[str, str] = {}
    for form in shown:
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field.widget, forms.FileInput):
                continue  # no file chosen: the stored one stays
            if isinstance(field.widget, forms.CheckboxInput):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            text = "" if value is None else str(value)
            if isinstance(field.widget, forms.Textarea):
                text = text.replace("\n", "\r\n")  # how browsers post a textarea's line breaks
            data[form.add_prefix(name)] = text
    for position, row in enumerate(form_builder(page).forms, start=1):
        data[row.add_prefix("order")] = str(position)
    return data


def save(client: Client, form: CaptureForm, **changes: str) -> list[LogEntry]:
    """Open the form's change page, post it back with ``changes``; the audit entries the save wrote."""
    url = reverse("admin:leads_captureform_change", args=[form.pk])
    data = {**as_the_browser_posts_it(client.get(url)), **changes}
    last = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    return list(LogEntry.objects.filter(pk__gt=last).order_by("pk"))


def form_builder(page: TestResponse) -> BaseFormSet:
    """The change page's formset of the form's fields."""
    return next(inline.formset for inline in page.context["inline_admin_formsets"] if inline.formset.prefix == "fields")


def field_data_prefix(client: Client, form: CaptureForm, label: str) -> str:
    page = client.get(reverse("admin:leads_captureform_change", args=[form.pk]))
    return next(row.prefix for row in form_builder(page).forms if row.instance.label == label)


def test_saving_a_form_without_an_edit_records_nothing(marketer: User, white_paper: CaptureForm) -> None:
    entries = save(client_for(marketer), white_paper)

    assert entries == []


def test_saving_a_form_again_without_an_edit_records_nothing(marketer: User, white_paper: CaptureForm) -> None:
    client = client_for(marketer)
    save(client, white_paper, headline="The State of B2B Demand Generation 2027")

    entries = save(client, white_paper)

    assert entries == []


def test_a_changed_headline_is_the_only_change_recorded(marketer: User, white_paper: CaptureForm) -> None:
    entries = save(client_for(marketer), white_paper, headline="The State of B2B Demand Generation 2027")

    assert [(entry.object_pk, list(entry.changes_dict)) for entry in entries] == [(str(white_paper.pk), ["headline"])]


def test_a_changed_choice_list_is_recorded_for_its_field_alone_with_lf_line_breaks(
    marketer: User, white_paper: CaptureForm
) -> None:
    client = client_for(marketer)
    team_size = FormField.objects.get(form=white_paper, label="Team size")
    prefix = field_data_prefix(client, white_paper, "Team size")
    choices = demo.TEAM_SIZES.replace("\n", "\r\n") + "\r\nJust me"

    entries = save(client, white_paper, **{f"{prefix}-choices": choices})

    assert [(entry.object_pk, list(entry.changes_dict)) for entry in entries] == [(str(team_size.pk), ["choices"])]
    team_size.refresh_from_db()
    assert team_size.choices == demo.TEAM_SIZES + "\nJust me"


def test_a_field_added_last_is_the_only_change_recorded(marketer: User, white_paper: CaptureForm) -> None:
    rows = FormField.objects.filter(form=white_paper).count()
    new_row = {"order": str(rows + 1), "label": "Website", "kind": "text", "answer_key": "website"}
    added = {"fields-TOTAL_FORMS": str(rows + 1), **{f"fields-{rows}-{name}": value for name, value in new_row.items()}}

    entries = save(client_for(marketer), white_paper, **added)

    website = FormField.objects.get(form=white_paper, answer_key="website")
    assert [(entry.object_pk, entry.action) for entry in entries] == [(str(website.pk), LogEntry.Action.CREATE)]
    assert website.order > max(
        FormField.objects.filter(form=white_paper).exclude(pk=website.pk).values_list("order", flat=True)
    )


def test_moving_a_field_saves_the_new_order(marketer: User, white_paper: CaptureForm) -> None:
    client = client_for(marketer)
    first, second = (field_data_prefix(client, white_paper, label) for label in ("First name", "Last name"))

    save(client, white_paper, **{f"{first}-order": "2", f"{second}-order": "1"})

    labels = list(FormField.objects.filter(form=white_paper).order_by("order", "id").values_list("label", flat=True))
    assert labels[:3] == ["Last name", "First name", "Work email"]
