import pytest
from django.urls import reverse

from conftest import client_for
from leads.models import Stage
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_reports_count_leads_by_stage(manager: object) -> None:
    LeadFactory.create_batch(3, stage=Stage.NURTURE)
    LeadFactory(stage=Stage.SQL)

    response = client_for(manager).get(reverse("reports:index"))

    by_stage = {row["stage"]: row["count"] for row in response.context["by_stage"]}
    assert by_stage["Nurture"] == 3
    assert by_stage["Sales-qualified (SQL)"] == 1
    assert by_stage["New"] == 0


def test_reports_open_for_marketers(marketer: object) -> None:
    response = client_for(marketer).get(reverse("reports:index"))

    assert response.status_code == 200
