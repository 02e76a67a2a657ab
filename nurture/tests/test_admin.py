"""Track admin: the step inline's fields."""

from __future__ import annotations

from django.contrib import admin
from django.test import RequestFactory

from nurture.admin import StepInline
from nurture.models import Step, Track


def test_a_step_asset_address_typed_without_a_scheme_gets_https() -> None:
    inline = StepInline(Track, admin.site)
    field = inline.formfield_for_dbfield(Step._meta.get_field("asset_url"), request=RequestFactory().get("/"))

    cleaned = field.clean("cdn.example.com/playbook.pdf")

    assert cleaned == "https://cdn.example.com/playbook.pdf"
