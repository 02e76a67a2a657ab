"""/api/docs/: self-hosted Swagger UI that works under the site's Content-Security-Policy, unchanged."""

import re

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from tests.personas import client_for

pytestmark = pytest.mark.django_db


def test_signed_in_people_get_the_docs_page(marketer: User) -> None:
    response = client_for(marketer).get(reverse("api:docs"))

    assert (response.status_code, b'id="swagger-ui"' in response.content) == (200, True)


def test_the_page_has_no_inline_script_or_style(rep: User) -> None:
    html = client_for(rep).get(reverse("api:docs")).content.decode()

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=", html) == []


def test_the_page_keeps_the_strict_site_policy(rep: User) -> None:
    policy = client_for(rep).get(reverse("api:docs"))["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_the_start_up_script_is_served_as_a_file(rep: User) -> None:
    response = client_for(rep).get(reverse("api:docs"), {"script": ""})

    assert (response.status_code, response["Content-Type"]) == (200, "application/javascript")
    assert b'url: "/api/schema/"' in response.content


@pytest.mark.parametrize(
    "asset",
    [
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "integrations/docs.css",
    ],
)
def test_every_asset_the_page_loads_is_one_of_our_static_files(asset: str) -> None:
    assert finders.find(asset) is not None


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    response = Client().get(reverse("api:docs"))

    assert (response.status_code, response["Location"].startswith(reverse("login"))) == (302, True)
