"""The database cache's table, made by every ``migrate``.

Without Redis the cache (rate limits, the permission version, the pipeline's wake-ups) is Django's database cache,
whose table belongs to no model, so no migration makes it: a post_migrate receiver runs ``createcachetable``
instead. That creates whichever cache table is missing and does nothing when they all exist or the cache is Redis.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command


def create_cache_table(*, using: str, **kwargs: object) -> None:
    """Create the database cache's table in the database ``using`` if it is missing (a post_migrate receiver).

    It runs once for each app's post_migrate (and each test-database flush): with no database cache configured
    (Redis), it asks nothing.
    """
    if any(isinstance(caches[alias], DatabaseCache) for alias in settings.CACHES):
        call_command("createcachetable", database=using, verbosity=0)
