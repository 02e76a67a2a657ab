"""Fixtures for the leads tests: a gated-content form with progressive fields, and a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from django.test import override_settings

from leads.models import CaptureForm, FieldKind
from leads.tests.factories import FIXED_NOW, CaptureFormFactory, ConsentTextFactory, FormFieldFactory


@pytest.fixture(autouse=True, scope="session")
def _media_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Uploaded and demo assets go to a temporary folder, never into the project's media/."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Views read the clock themselves (render time, time trap, link expiry); tests move it with ``shift``."""
    with time_machine.travel(FIXED_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def whitepaper(db: None) -> CaptureForm:
    """A form asking name, email and company; country, team size and budget come progressively, two a visit."""
    form = CaptureFormFactory(slug="state-of-b2b", allowed_origins="https://www.acme.example")
    FormFieldFactory(form=form, order=1, label="First name", lead_attribute="first_name", is_required=True)
    FormFieldFactory(
        form=form, order=2, label="Work email", kind=FieldKind.EMAIL, lead_attribute="email", is_required=True
    )
    FormFieldFactory(form=form, order=3, label="Company", lead_attribute="company_name", is_required=True)
    FormFieldFactory(form=form, order=4, label="Job title", lead_attribute="job_title")
    FormFieldFactory(
        form=form, order=5, label="Country", kind=FieldKind.COUNTRY, lead_attribute="country", is_progressive=True
    )
    FormFieldFactory(
        form=form,
        order=6,
        label="Team size",
        kind=FieldKind.SELECT,
        lead_attribute="",
        answer_key="team_size",
        choices="1-10\n11-50\n51+",
        is_progressive=True,
    )
    FormFieldFactory(
        form=form,
        order=7,
        label="Budget",
        kind=FieldKind.NUMBER,
        lead_attribute="",
        answer_key="budget",
        is_progressive=True,
    )
    ConsentTextFactory(form=form, version=1, text="Yes, Acme may email me about its products.")
    return form
