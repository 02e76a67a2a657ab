"""The rep's lead page links a lead's website only when it is an http(s) address (issue 14, break 6)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from handoff.models import Assignment
from leads.models import Lead
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def page_with_website(assignment: Assignment, rep: object, website: str) -> str:
    # Stored as it is: a value from before providers were checked, or written around the forms.
    Lead.objects.filter(pk=assignment.lead_id).update(website=website)
    return client_for(rep).get(reverse("handoff:lead", args=[assignment.lead_id])).content.decode()


@pytest.mark.parametrize("website", ["javascript:alert(document.domain)", " JavaScript:alert(1)", "data:text/html,x"])
def test_a_website_that_is_not_http_is_shown_as_text_not_a_link(
    assignment: Assignment, rep: object, website: str
) -> None:
    html = page_with_website(assignment, rep, website)

    assert (f'href="{escape(website)}"' in html, escape(website) in html) == (False, True)


def test_an_https_website_is_a_link(assignment: Assignment, rep: object) -> None:
    html = page_with_website(assignment, rep, "https://acme.example")

    assert '<a href="https://acme.example" rel="noopener noreferrer">' in html
