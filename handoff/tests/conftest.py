from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.core import mail

from handoff import services
from handoff.models import Assignment, Team
from handoff.tests.factories import MQLFactory, TeamFactory
from leads.tests.factories import FIXED_NOW


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: object) -> None:
    """Users made by factories hash a password; the default hasher costs most of a test's setup time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture
def now() -> datetime:
    """Monday 2 March 2026, 10:00 in London (GMT): the factories' teams are open."""
    return FIXED_NOW


@pytest.fixture
def team(rep: object, manager: object) -> Team:
    """A London office team (Mon-Fri 09:00-17:00) with ``rep`` as its only member, managed by ``manager``."""
    return TeamFactory(slug="london", name="London", members=[rep], managers=[manager])


@pytest.fixture
def assignment(team: Team, now: datetime, django_capture_on_commit_callbacks: Callable[..., Any]) -> Assignment:
    """A fresh MQL assigned to ``rep`` at ``now`` under the default 24 business-hour SLA, its email sent."""
    with django_capture_on_commit_callbacks(execute=True):
        assignment = services.assign_lead(lead=MQLFactory(), team=team, now=now)
    mail.outbox.clear()  # tests look at what happens next
    return assignment
