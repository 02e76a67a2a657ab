"""People's permissions, read from the database once and then kept until one of them may have changed.

Every signed-in page asks whether its user may open it, and the navigation bar asks for each link: with
Django's ModelBackend alone that is two queries a request (the user's own permissions and their groups').
``CachedPermissionBackend`` stands before ModelBackend in AUTHENTICATION_BACKENDS. It keeps each user's set in
this process's memory (a LocMemCache) together with the permission version it was read under, and uses it only
while the shared cache (Django's cache framework: Redis, or the database cache) still holds that version: one
cache read a request instead of two queries. A sign-in reads the set at once, so the first page after it (in
the process that signed the user in) finds it kept. It leaves the set where ModelBackend keeps its own per-request
copy (the user's ``_perm_cache``), so a permission the user lacks, which ModelBackend is asked about too, costs
no query either. It signs nobody in (``authenticate`` answers None and it has no ``get_user``): ModelBackend
(``core.sessions.ModelBackend``) still does that, and sessions keep naming it.

Whatever can change who holds what (a user's groups or own permissions, a group's permissions, a group,
permission or content type saved or deleted, a migration) replaces the version, at once and again when the
transaction commits, so every user's next request, in every process, reads the database again. The version is
a random token, so a version evicted from the cache and made anew never matches an older entry. Whether the
user is active is read from the user row on every request, as ModelBackend does, and a superuser's entry is
not used once they are not one. Changes that bypass model signals (``QuerySet.update`` or ``bulk_create`` on
the through tables, raw SQL) are not seen: an entry lives at most ``ENTRY_SECONDS`` (a minute). That is also how
long a revoked permission can still be used when the version could not be replaced: a change made while Redis
blipped leaves the old version in place, and once the cache answers again it matches the entries read under it.
While the cache does not answer, every check reads the database (no entry is used).
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connections, router, transaction
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from core.ratelimit import STORE_ERRORS

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest

logger = logging.getLogger(__name__)

VERSION_KEY = "core.permissions:version"
# Bounds how long a revoked permission can live when its change could not replace the version (see above).
ENTRY_SECONDS = 60

# The sets themselves, by user id, with the version each was read under. Per process: only the version has to
# be shared, and an entry here costs no write to the shared cache (a database write, on the database cache).
_entries = LocMemCache("core-permissions", {"TIMEOUT": ENTRY_SECONDS, "OPTIONS": {"MAX_ENTRIES": 10_000}})


class CachedPermissionBackend:
    """ModelBackend's permissions (``app_label.codename`` strings), kept while current; checks only."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        return None

    def get_all_permissions(self, user_obj: User | AnonymousUser, obj: object = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = user_permissions(user_obj)  # type: ignore[attr-defined]
        return user_obj._perm_cache  # type: ignore[attr-defined]

    def has_perm(self, user_obj: User | AnonymousUser, perm: str, obj: object = None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)


def user_permissions(user: User) -> set[str]:
    """The permissions ModelBackend would find for the active ``user``, from this process's memory when current."""
    version = _current_version()
    if version is None:
        return ModelBackend().get_all_permissions(user)
    key = str(user.pk)
    is_superuser = user.is_superuser
    entry = _entries.get(key)
    if entry is not None and entry[0] == version and entry[1] == is_superuser:
        return set(entry[2])
    # Read after the version: a change committed meanwhile has replaced it, so this entry is never used.
    permissions: set[str] = ModelBackend().get_all_permissions(user)
    _entries.set(key, (version, is_superuser, frozenset(permissions)))
    return permissions


def _current_version() -> str | None:
    cache = caches["default"]
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            # The first reader after a start or an eviction; another process may add one at the same time.
            cache.add(VERSION_KEY, secrets.token_hex(8), timeout=None)
            version = cache.get(VERSION_KEY)
    except STORE_ERRORS:
        logger.warning("The cache does not answer; permissions are read from the database", exc_info=True)
        return None
    return version


def forget_permissions() -> None:
    """Make every cached permission set stale: now, and again when the current transaction commits.

    Now, so the rest of this transaction sees the change; on commit, because a request that read the new
    version before the commit may have cached what the database held before it.
    """
    _replace_version()
    transaction.on_commit(_replace_version, robust=True)


def _replace_version() -> None:
    cache = caches["default"]
    try:
        if isinstance(cache, DatabaseCache):
            # In a savepoint: a failed statement must not abort the transaction that made the change.
            with transaction.atomic(using=router.db_for_write(cache.cache_model_class)):
                cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)
        else:
            cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)
    except STORE_ERRORS:
        if _cache_table_missing(cache):
            return  # a new database, before its migrate made the table (core.cache_table): nothing can be cached yet
        logger.error(
            "The cache did not take a permission change; cached permissions may be used for up to %s seconds",
            ENTRY_SECONDS,
            exc_info=True,
        )


def _cache_table_missing(cache: object) -> bool:
    if not isinstance(cache, DatabaseCache):
        return False
    connection = connections[router.db_for_write(cache.cache_model_class)]
    return cache.cache_model_class._meta.db_table not in connection.introspection.table_names()


def _on_membership_change(action: str, **kwargs: object) -> None:
    if action in {"post_add", "post_remove", "post_clear"}:
        forget_permissions()


def _on_change(**kwargs: object) -> None:
    forget_permissions()


def _on_sign_in(user: User, **kwargs: object) -> None:
    # The page a sign-in lands on asks for them at once (core.roles.landing_url_name); so does the next one.
    if user.is_active:
        user_permissions(user)


def connect_signals() -> None:
    """Replace the version on every change that can alter anyone's permissions (CoreConfig.ready)."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_on_membership_change, sender=through, dispatch_uid=f"core.permissions:{through}")
    for model in (Group, Permission, ContentType, user_model):
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"core.permissions:delete:{model}")
    for model in (Permission, ContentType):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"core.permissions:save:{model}")
    # Data migrations change permissions through historical models, whose signals are not these.
    post_migrate.connect(_on_change, dispatch_uid="core.permissions:migrate")
    user_logged_in.connect(_on_sign_in, dispatch_uid="core.permissions:sign-in")
