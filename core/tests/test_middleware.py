"""A NUL character in an admin query string is a 400 naming the parameter (PostgreSQL cannot hold it)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from leads.tests.factories import CaptureFormFactory, ConsentTextFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client() -> Client:
    return client_for(get_user_model().objects.create_superuser("root", "root@leadsite.example", "pw"))


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/admin/leads/lead/?stage=%00", "stage"),
        ("/admin/leads/lead/?email__startswith=a%00b", "email__startswith"),
        ("/admin/leads/submission/?status=%00", "status"),
        ("/admin/autocomplete/?app_label=leads&model_name=lead&field_name=owner&term=%00", "term"),
    ],
    ids=["choice filter", "lookup in the query string", "another model's filter", "autocomplete"],
)
def test_a_nul_in_an_admin_query_parameter_is_refused_naming_it(
    superuser_client: Client, path: str, parameter: str
) -> None:
    response = superuser_client.get(path)

    assert response.status_code == 400
    assert f"“{parameter}”" in response.content.decode()


def test_a_nul_in_a_parameters_name_is_refused(superuser_client: Client) -> None:
    response = superuser_client.get("/admin/leads/lead/?sta%00ge=new")

    assert response.status_code == 400


def test_the_public_form_still_opens_with_a_nul_in_its_attribution() -> None:
    form = CaptureFormFactory()
    ConsentTextFactory(form=form)

    response = Client().get(f"/f/{form.slug}/?utm_source=linked%00in")

    assert response.status_code == 200
