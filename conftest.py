"""Fixtures shared by every app's tests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User

from core import roles
from tests.personas import user_in


def pytest_configure(config: pytest.Config) -> None:
    """Tests speak plain HTTP (test client and live server) and never run collectstatic.

    Set once here, before pytest-django's live server builds its handler, rather than per test.
    """
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 0
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # Tasks run inline in tests (STYLE.md); the broker itself is exercised by its own tests.
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    from django_q.conf import Conf

    Conf.SYNC = True
    # Hashing passwords at full strength is most of the time of every test that creates a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Demo forms write their PDFs and tests upload assets: keep them out of the project's media/.
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="leadsite-media-")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def marketer(db: None) -> User:
    return user_in(roles.MARKETING, "marketer", is_staff=True)


@pytest.fixture
def manager(db: None) -> User:
    return user_in(roles.SALES_MANAGER, "manager", is_staff=True)


@pytest.fixture
def rep(db: None) -> User:
    return user_in(roles.SALES_REP, "rep1")


@pytest.fixture
def other_rep(db: None) -> User:
    return user_in(roles.SALES_REP, "rep2")


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Each test starts with an empty cache: rate limits and circuit breakers live there.

    The database cache is rolled back with each test's transaction; a Redis cache is not, so clear it.
    """
    yield
    from django.conf import settings
    from django.core.cache import cache

    if "DatabaseCache" not in settings.CACHES["default"]["BACKEND"]:
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Iterator[None]:
    """Each test starts without what another test's (rolled-back) rows left in this process's memory: the
    forms and channel rules capture keeps, the inbox's pick lists, and the rate-limit counts (the database
    cache is never used for those, so no rollback clears them)."""
    from core.ratelimit import rate_limit_cache
    from handoff.selectors import forget_pick_lists
    from leads import capture_cache

    def forget() -> None:
        capture_cache.clear()
        forget_pick_lists()
        rate_limit_cache.local.clear()

    forget()
    yield
    forget()
