"""Permissions are read once and kept in the cache, and any change to them counts from the next request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from core import permission_cache, roles
from leads.tests.factories import TEST_PASSWORD
from tests.personas import client_for

pytestmark = pytest.mark.django_db

PULSE = reverse("handoff:inbox_pulse")  # reps may poll it (handoff.work_inbox); others get a 403
CACHE_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def fresh(user: User) -> User:
    """The user as the next request loads it (nothing kept on the object from an earlier check)."""
    return User.objects.get(pk=user.pk)


def permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def permission_queries(request: Callable[[], Any]) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        request()
    return [query["sql"] for query in queries if "auth_permission" in query["sql"]]


def test_a_second_request_reads_no_permission_from_the_database(rep: User) -> None:
    client = client_for(rep)
    client.get(PULSE)

    assert permission_queries(lambda: client.get(PULSE)) == []


def test_the_first_page_after_signing_in_reads_no_permission_from_the_database(rep: User) -> None:
    client = client_for(rep)  # signs in (user_logged_in), as the sign-in form does

    assert permission_queries(lambda: client.get(PULSE)) == []


def test_a_missing_permission_is_refused_without_a_query(rep: User) -> None:
    client_for(rep).get(PULSE)  # reads and keeps rep's permissions
    user = fresh(rep)

    assert permission_queries(lambda: user.has_perm("handoff.manage_team")) == []
    assert not user.has_perm("handoff.manage_team")


def test_leaving_a_group_takes_its_permissions_away_on_the_next_request(rep: User) -> None:
    client = client_for(rep)
    assert client.get(PULSE).status_code == 200

    rep.groups.remove(Group.objects.get(name=roles.SALES_REP))

    assert client.get(PULSE).status_code == 403


def test_a_permission_removed_from_a_group_stops_working_on_the_next_request(rep: User) -> None:
    client = client_for(rep)
    assert client.get(PULSE).status_code == 200

    Group.objects.get(name=roles.SALES_REP).permissions.remove(permission("handoff.work_inbox"))

    assert client.get(PULSE).status_code == 403


def test_a_deleted_group_takes_its_permissions_away_on_the_next_request(rep: User) -> None:
    client = client_for(rep)
    assert client.get(PULSE).status_code == 200

    Group.objects.get(name=roles.SALES_REP).delete()

    assert client.get(PULSE).status_code == 403


def test_a_permission_granted_to_a_user_works_on_the_next_request(marketer: User) -> None:
    client = client_for(marketer)
    assert client.get(PULSE).status_code == 403

    marketer.user_permissions.add(permission("handoff.work_inbox"))

    assert client.get(PULSE).status_code == 200


def test_a_permission_taken_from_a_user_stops_working_on_the_next_request(marketer: User) -> None:
    marketer.user_permissions.add(permission("handoff.work_inbox"))
    client = client_for(marketer)
    assert client.get(PULSE).status_code == 200

    marketer.user_permissions.clear()

    assert client.get(PULSE).status_code == 403


def test_a_superuser_made_an_ordinary_user_loses_what_only_a_superuser_had(rep: User) -> None:
    rep.is_superuser = True
    rep.save()
    assert fresh(rep).get_all_permissions() >= {"handoff.manage_team"}

    rep.is_superuser = False
    rep.save()

    assert "handoff.manage_team" not in fresh(rep).get_all_permissions()
    assert fresh(rep).has_perm("handoff.work_inbox")


def test_a_deactivated_user_has_no_permission(rep: User) -> None:
    assert fresh(rep).has_perm("handoff.work_inbox")

    User.objects.filter(pk=rep.pk).update(is_active=False)  # no signal: whether a user is active is never cached

    assert not fresh(rep).has_perm("handoff.work_inbox")


def test_what_a_request_kept_before_the_change_committed_is_not_used_after_it(
    rep: User, django_capture_on_commit_callbacks: Any
) -> None:
    group = Group.objects.get(name=roles.SALES_REP)
    with django_capture_on_commit_callbacks(execute=True):
        group.permissions.remove(permission("handoff.work_inbox"))
        # Another request, before the commit, read the new version and the database's old answer.
        version = permission_cache.caches["default"].get(permission_cache.VERSION_KEY)
        permission_cache._entries.set(str(rep.pk), (version, False, frozenset({"handoff.work_inbox"})))
        assert fresh(rep).has_perm("handoff.work_inbox")  # (the stale entry is what a check would use now)

    assert not fresh(rep).has_perm("handoff.work_inbox")


def test_a_permission_revoked_while_the_cache_does_not_answer_is_refused_by_the_database(rep: User) -> None:
    assert fresh(rep).has_perm("handoff.work_inbox")  # kept in this process under the current version
    with override_settings(CACHES=CACHE_DOWN):
        # The version cannot be replaced: the kept entry still names the version it was read under.
        Group.objects.get(name=roles.SALES_REP).permissions.remove(permission("handoff.work_inbox"))
        assert "handoff.work_inbox" in permission_cache._entries.get(str(rep.pk))[2]

        has_perm = fresh(rep).has_perm("handoff.work_inbox")

    assert not has_perm


def test_signing_in_is_still_the_model_backend_s_business(rep: User) -> None:
    signed_in = authenticate(RequestFactory().post("/accounts/login/"), username="rep1", password=TEST_PASSWORD)

    assert signed_in is not None
    assert signed_in.backend == "core.sessions.ModelBackend"


def test_a_signed_in_session_names_the_model_backend(rep: User) -> None:
    client = Client()
    client.force_login(rep)

    assert client.session["_auth_user_backend"] == "core.sessions.ModelBackend"
