"""The action forms print their errors and themselves the Django way; the inbox's kept rows never serve stale rows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User

from handoff import selectors, services
from handoff.forms import ContactForm
from handoff.models import Team
from handoff.selectors import INBOX_COLUMNS, InboxFilters, inbox_page
from handoff.tests.factories import MQLFactory, TeamFactory

pytestmark = pytest.mark.django_db


# --- Forms printed outside fields_html -----------------------------------------------------------


def test_a_bound_invalid_action_form_prints_its_errors() -> None:
    form = ContactForm(data={"contact-kind": "carrier-pigeon"})

    errors, kind_errors = str(form.errors), str(form["kind"].errors)

    assert "Select a valid choice" in errors
    assert "Select a valid choice" in kind_errors


def test_a_bound_invalid_action_form_prints_as_a_whole() -> None:
    form = ContactForm(data={"contact-kind": "carrier-pigeon", "contact-note": "<b>hi</b>"})

    html = str(form)

    assert "Select a valid choice" in html
    assert '<select name="contact-kind"' in html
    assert '<textarea name="contact-note"' in html and "&lt;b&gt;hi&lt;/b&gt;</textarea>" in html


# --- The kept named rows -------------------------------------------------------------------------


@pytest.fixture
def two_rep_team(rep: User, other_rep: User, manager: User) -> Team:
    return TeamFactory(slug="pair", name="Pair", members=[rep, other_rep], managers=[manager])


def test_named_rows_read_afresh_after_a_caller_iterated_them(
    two_rep_team: Team, rep: User, other_rep: User, now: datetime
) -> None:
    services.assign_lead(lead=MQLFactory(), team=two_rep_team, now=now, rep=rep, notify=False)
    list(selectors._named_rows(INBOX_COLUMNS))  # a caller iterating the rows it was handed

    later = services.assign_lead(lead=MQLFactory(), team=two_rep_team, now=now, rep=other_rep, notify=False)
    rows = list(selectors._named_rows(INBOX_COLUMNS))

    assert later.pk in {row.pk for row in rows}


def test_two_reps_inbox_pages_never_share_rows_after_the_rows_were_iterated(
    two_rep_team: Team, rep: User, other_rep: User, now: datetime
) -> None:
    mine = services.assign_lead(lead=MQLFactory(), team=two_rep_team, now=now, rep=rep, notify=False)
    list(selectors._named_rows(INBOX_COLUMNS))  # every assignment, read by one caller
    theirs = services.assign_lead(
        lead=MQLFactory(), team=two_rep_team, now=now + timedelta(minutes=1), rep=other_rep, notify=False
    )

    their_page = inbox_page(user=other_rep, filters=InboxFilters(), after=None, before=None)
    my_page = inbox_page(user=rep, filters=InboxFilters(), after=None, before=None)

    assert [row.pk for row in their_page.items] == [theirs.pk]
    assert [row.pk for row in my_page.items] == [mine.pk]
