"""Sessions and signed-in users are read as Django's db engine and ModelBackend read them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.sessions import SessionStore

pytestmark = pytest.mark.django_db

PULSE = reverse("handoff:inbox_pulse")  # a rep's JSON page: 200 signed in, a redirect to sign in otherwise


def signed_in_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_signed_in_rep_stays_signed_in(rep: User) -> None:
    assert signed_in_client(rep).get(PULSE).status_code == 200


def test_a_session_signed_in_through_django_s_model_backend_stays_signed_in(rep: User) -> None:
    client = signed_in_client(rep)
    session = client.session
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"  # as sessions before core.sessions
    session.save()

    assert client.get(PULSE).status_code == 200


def test_an_expired_session_signs_nobody_in(rep: User) -> None:
    client = signed_in_client(rep)
    Session.objects.filter(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    assert client.get(PULSE).status_code == 302


def test_an_expired_session_reads_as_empty_and_forgets_its_key(rep: User) -> None:
    key = signed_in_client(rep).cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    store = SessionStore(session_key=key)

    assert store.load() == {}
    assert store.session_key is None


def test_a_deactivated_user_is_signed_out(rep: User) -> None:
    client = signed_in_client(rep)
    User.objects.filter(pk=rep.pk).update(is_active=False)

    assert client.get(PULSE).status_code == 302


def test_a_changed_password_signs_other_sessions_out(rep: User) -> None:
    client = signed_in_client(rep)
    rep.set_password("a-new-password-for-rep1")
    rep.save()

    assert client.get(PULSE).status_code == 302
