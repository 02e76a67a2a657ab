"""A page someone's role does not include answers 403 with the site's own page, not a bare "403 Forbidden"."""

from django.contrib.auth.models import User

from tests.personas import client_for


def test_a_marketer_opening_the_inbox_gets_a_styled_403_with_where_they_can_work(marketer: User) -> None:
    response = client_for(marketer).get("/inbox/")

    assert response.status_code == 403
    text = response.content.decode()
    assert "This page is not part of your role" in text
    assert 'href="/admin/"' in text
    assert "bootstrap.min.css" in text
