"""``Origin: null`` (a sandboxed iframe on any site) is refused unless the form lists null (issue 14, break 5)."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from leads.models import CaptureForm, Submission
from leads.origins import allows_opaque_origin, parse_origin_lines

pytestmark = pytest.mark.django_db

HUMAN_PAUSE = timedelta(seconds=20)


def send_from_a_sandboxed_frame(form: CaptureForm, clock: time_machine.Traveller, **headers: str) -> Any:
    """Open the form, wait like a person, and post it back with ``Origin: null`` and no Referer."""
    client = Client()
    page = client.get(reverse("leads:form", args=[form.slug]))
    clock.shift(HUMAN_PAUSE)
    data = {"token": page.context["token"], **page.context["attribution"], "first_name": "Ada",
            "email": "ada@acme.example", "company_name": "Acme", "consent": "on"}  # fmt: skip
    return client.post(reverse("leads:form", args=[form.slug]), data, headers={"origin": "null", **headers})


def test_origin_null_is_refused_and_captures_no_lead(whitepaper: CaptureForm, clock: time_machine.Traveller) -> None:
    response = send_from_a_sandboxed_frame(whitepaper, clock)

    assert (response.status_code, Submission.objects.exists()) == (403, False)


def test_origin_null_is_refused_even_with_an_allowed_referer(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    response = send_from_a_sandboxed_frame(whitepaper, clock, referer="https://www.acme.example/page")

    assert response.status_code == 403


def test_a_form_that_lists_null_accepts_it(whitepaper: CaptureForm, clock: time_machine.Traveller) -> None:
    whitepaper.allowed_origins = "https://www.acme.example\nnull"
    whitepaper.save(update_fields=["allowed_origins"])

    response = send_from_a_sandboxed_frame(whitepaper, clock)

    assert (response.status_code, Submission.objects.count()) == (200, 1)


def test_null_is_a_valid_line_of_the_allowed_origins(whitepaper: CaptureForm) -> None:
    whitepaper.allowed_origins = "https://www.acme.example\nnull"

    whitepaper.full_clean()  # a line that is not an origin raises ValidationError


def test_null_is_no_origin_to_frame_or_redirect_to() -> None:
    assert parse_origin_lines("https://www.acme.example\nNULL\n") == (["https://www.acme.example"], [])


@pytest.mark.parametrize(("text", "allowed"), [("null", True), (" Null ", True), ("https://null.example", False)])
def test_allows_opaque_origin_reads_the_null_line(text: str, allowed: bool) -> None:
    assert allows_opaque_origin(text) is allowed
