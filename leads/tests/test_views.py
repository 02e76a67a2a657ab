import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse

from leads.tests.factories import TEST_PASSWORD, UserFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "landing"),
    [("rep", "/inbox/"), ("manager", "/reports/"), ("marketer", "/admin/")],
)
def test_home_sends_each_role_where_it_works(role: str, landing: str, request: pytest.FixtureRequest) -> None:
    client = client_for(request.getfixturevalue(role))

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == landing


@pytest.mark.parametrize(
    ("role", "expected_links"),
    [
        ("rep", ["inbox"]),
        ("manager", ["inbox", "team_queue", "reports", "admin"]),
        ("marketer", ["reports", "admin"]),
    ],
)
def test_each_role_sees_only_its_navigation(
    role: str, expected_links: list[str], request: pytest.FixtureRequest
) -> None:
    client = client_for(request.getfixturevalue(role))

    response = client.get("/", follow=True)

    assert [link["key"] for link in response.context["nav_links"]] == expected_links
    html = response.content.decode()
    for key in {"inbox", "team_queue", "reports", "admin"} - set(expected_links):
        assert f'data-nav="{key}"' not in html


def test_home_sends_anonymous_visitors_to_sign_in() -> None:
    response = Client().get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("login")


def test_user_without_a_role_is_told_so() -> None:
    client = client_for(UserFactory())

    response = client.get("/")

    assert response.status_code == 403
    assert b"no role yet" in response.content


def test_rep_gets_403_on_reports(rep: object) -> None:
    response = client_for(rep).get(reverse("reports:index"))

    assert response.status_code == 403


def test_marketer_gets_403_on_the_inbox(marketer: object) -> None:
    response = client_for(marketer).get(reverse("handoff:inbox"))

    assert response.status_code == 403


def test_rep_cannot_open_admin(rep: object) -> None:
    response = client_for(rep).get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_sign_in_with_the_right_password_lands_on_the_role_page(rep: object) -> None:
    client = Client()

    response = client.post(reverse("login"), {"username": "rep1", "password": TEST_PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == "/inbox/"
    assert response.status_code == 200


def test_sign_in_is_locked_after_repeated_failures(rep: object, settings: object) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):  # type: ignore[attr-defined]
        client.post(reverse("login"), {"username": "rep1", "password": "wrong"})

    response = client.post(reverse("login"), {"username": "rep1", "password": TEST_PASSWORD})

    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content


def test_healthz_answers_ok() -> None:
    response = Client().get(reverse("healthz"))

    assert response.content == b"ok"


def test_favicon_ico_leads_to_the_sites_icon() -> None:
    response = Client().get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == static("favicon.svg")
    assert finders.find("favicon.svg")


def test_pages_point_the_browser_at_the_sites_icon(rep: object) -> None:
    response = client_for(rep).get(reverse("handoff:inbox"))

    assert f'<link rel="icon" href="{static("favicon.svg")}"' in response.content.decode()


def test_pages_send_a_content_security_policy_and_deny_framing(rep: object) -> None:
    response = client_for(rep).get(reverse("handoff:inbox"))

    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_sign_in_lockout_counts_the_client_behind_the_proxy_not_the_proxy(rep: object, settings: object) -> None:
    settings.PROXY_COUNT = 1  # type: ignore[attr-defined]
    attacker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for _ in range(settings.AXES_FAILURE_LIMIT):  # type: ignore[attr-defined]
        attacker.post(reverse("login"), {"username": "rep1", "password": "wrong"})

    colleague = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    response = colleague.post(reverse("login"), {"username": "rep1", "password": TEST_PASSWORD})

    assert response.status_code == 302
