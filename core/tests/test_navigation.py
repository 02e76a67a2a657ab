"""The navigation bar's links are reversed once, and still follow the prefix the site is served under."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.urls import set_script_prefix

from core.navigation import navigation

pytestmark = pytest.mark.django_db


@pytest.fixture
def script_prefix() -> Iterator[None]:
    yield
    set_script_prefix("/")


def links_for(user: User) -> dict[str, str]:
    request = RequestFactory().get("/")
    request.user = user
    context = navigation(request)
    return {link["key"]: link["url"] for link in context["nav_links"]} | context["frame_urls"]  # type: ignore[attr-defined,operator]


def test_links_follow_the_script_prefix_of_the_request(manager: User, script_prefix: None) -> None:
    at_root = links_for(manager)
    set_script_prefix("/leadsite/")

    under_prefix = links_for(manager)

    assert at_root["team_queue"] == "/inbox/team/"
    assert under_prefix["team_queue"] == "/leadsite/inbox/team/"
    assert under_prefix["logout"] == f"/leadsite{at_root['logout']}"


def test_a_signed_out_visitor_gets_the_frame_links_and_no_pages() -> None:
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    context = navigation(request)

    assert context["nav_links"] == []
    assert context["frame_urls"]["logout"] == "/accounts/logout/"  # type: ignore[index]
