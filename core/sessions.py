"""Sessions in the database, as Django's ``db`` engine keeps them, read on each request at the cost of raw SQL.

Every signed-in request reads its session, then its user. ``SessionStore`` is the ``db`` engine with that read
compiled once (``core.statements``); ``ModelBackend`` is Django's with the user's read compiled once. Both give
what Django's would: the same session row (unexpired), the same user (active, or None).

A session signed in before ModelBackend here was named in ``AUTHENTICATION_BACKENDS`` names Django's: it is read as
naming this one (the same backend, with a cheaper read), so nobody is signed out by the change.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from core.statements import Statement

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DJANGO_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
MODEL_BACKEND = "core.sessions.ModelBackend"

_SESSION = Statement(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now).values_list("session_data")[:1],
    key=str,
    now=datetime,
)
_USER = Statement(lambda pk: get_user_model()._default_manager.filter(pk=pk)[:1], pk=int)


class SessionStore(db.SessionStore):
    def load(self) -> dict[str, Any]:
        """The session's data, or nothing (and no key) when it is unknown or expired: what the db engine loads."""
        row = _SESSION.first(key=self.session_key, now=timezone.now())
        if row is None:
            self._session_key = None
            return {}
        data: dict[str, Any] = self.decode(row[0])
        if data.get(BACKEND_SESSION_KEY) == DJANGO_MODEL_BACKEND:
            data[BACKEND_SESSION_KEY] = MODEL_BACKEND
        return data


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id: int) -> User | None:
        user: User | None = _USER.first(pk=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
