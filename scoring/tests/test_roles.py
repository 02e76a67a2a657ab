"""What each role may do with scoring in admin (ScoringConfig.role_permissions)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from core import roles
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def permission_names(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_marketing_owns_scoring_models_and_rules() -> None:
    permissions = permission_names(roles.MARKETING)

    assert {
        f"scoring.{action}_{model}"
        for model in ("scoringmodel", "scoringrule")
        for action in ("add", "change", "delete", "view")
    } <= permissions
    assert {"scoring.view_rescorejob", "scoring.view_leadmissingmqlfields"} <= permissions


def test_managers_may_only_read_the_rules() -> None:
    scoring = {p for p in permission_names(roles.SALES_MANAGER) if p.startswith("scoring.")}

    assert scoring == {"scoring.view_scoringmodel", "scoring.view_scoringrule"}


def test_marketer_opens_the_scoring_rules(marketer: object) -> None:
    response = client_for(marketer).get(reverse("admin:scoring_scoringrule_changelist"))

    assert response.status_code == 200


def test_manager_cannot_add_a_rule(manager: object) -> None:
    response = client_for(manager).get(reverse("admin:scoring_scoringrule_add"))

    assert response.status_code == 403


def test_anonymous_user_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("admin:scoring_scoringrule_add"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]
