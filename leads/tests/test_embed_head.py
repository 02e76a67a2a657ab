"""HEAD /f/<slug>/embed.js answers as GET does (link checkers and caches ask with HEAD); the server leaves the body
out, as Django's test client does, so the test compares the status and headers."""

import pytest
from django.test import Client
from django.urls import reverse

from leads.models import CaptureForm

pytestmark = pytest.mark.django_db


def test_embed_js_answers_head_with_the_headers_of_get(whitepaper: CaptureForm) -> None:
    url = reverse("leads:form_embed_script", args=[whitepaper.slug])
    got = Client().get(url)

    response = Client().head(url)

    assert response.status_code == 200
    for header in ("Content-Type", "Cache-Control", "Content-Length"):
        assert response[header] == got[header]


def test_embed_js_head_of_an_unknown_form_is_not_found() -> None:
    response = Client().head(reverse("leads:form_embed_script", args=["nope"]))

    assert response.status_code == 404
