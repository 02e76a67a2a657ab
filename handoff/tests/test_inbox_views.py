import pytest
from django.test import Client
from django.urls import reverse

from conftest import client_for
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_inbox_lists_the_reps_own_leads(rep: object) -> None:
    LeadFactory(owner=rep, email="mine@acme.example")

    response = client_for(rep).get(reverse("handoff:inbox"))

    assert response.status_code == 200
    assert b"mine@acme.example" in response.content


def test_inbox_hides_other_reps_leads(rep: object, other_rep: object) -> None:
    LeadFactory(owner=other_rep, email="theirs@acme.example")
    LeadFactory(owner=None, email="nobodys@acme.example")

    response = client_for(rep).get(reverse("handoff:inbox"))

    assert b"theirs@acme.example" not in response.content
    assert b"nobodys@acme.example" not in response.content


def test_inbox_sends_anonymous_visitors_to_sign_in() -> None:
    response = Client().get(reverse("handoff:inbox"))

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_inbox_rejects_post(rep: object) -> None:
    response = client_for(rep).post(reverse("handoff:inbox"))

    assert response.status_code == 405
