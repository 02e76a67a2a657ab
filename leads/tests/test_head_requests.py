"""HEAD answers where GET does on the public pages monitors and link checkers ask for: the same status and
headers, and no side effect a person's visit has (a form view counted). The server leaves the body out (Django's
test client too), so these tests check the status and headers."""

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from leads.models import CaptureForm, FormDailyStat

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@pytest.mark.parametrize("name", ["healthz", "favicon", "home"])
def test_head_answers_as_get_does(name: str) -> None:
    got = Client().get(reverse(name))

    response = Client().head(reverse(name))

    assert response.status_code == got.status_code
    assert response.get("Content-Type") == got.get("Content-Type")


@pytest.mark.parametrize("name", ["leads:form", "leads:form_embed"])
def test_head_of_a_form_page_answers_200(whitepaper: CaptureForm, name: str) -> None:
    response = Client().head(reverse(name, args=[whitepaper.slug]), headers={"user-agent": BROWSER})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_head_of_a_form_page_counts_no_view(whitepaper: CaptureForm, clock: time_machine.Traveller) -> None:
    Client().head(reverse("leads:form", args=[whitepaper.slug]), headers={"user-agent": BROWSER})

    assert not FormDailyStat.objects.filter(form=whitepaper).exists()


def test_head_of_an_inactive_form_is_not_found(whitepaper: CaptureForm) -> None:
    CaptureForm.objects.filter(pk=whitepaper.pk).update(is_active=False)

    response = Client().head(reverse("leads:form", args=[whitepaper.slug]))

    assert response.status_code == 404
