from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """The platform: roles, periodic-task declarations, health, idempotency, the outbound guard, the demo command.

    It imports none of the apps; they register with it (lead scope, pipeline backlog, demo hooks).
    """

    name = "core"
    verbose_name = "Platform"
    # SQLite's planner statistics (core.tasks.analyze_database): daily, the first run due once migrate makes it.
    periodic_tasks = {"core.tasks.analyze_database": 24 * 60}

    def ready(self) -> None:
        import core.checks  # noqa: F401  # registers the project's deploy checks
        from core.cache_table import create_cache_table
        from core.permission_cache import connect_signals
        from core.roles import sync_role_groups
        from core.schedules import sync_periodic_tasks

        # Core has no models, so no post_migrate of its own: this runs for every app's (a no-op once the table is
        # there). Connected before the receivers below, whose changes replace the permission version in the cache, so
        # the first app's post_migrate makes the table before anything of ours touches the cache.
        post_migrate.connect(create_cache_table, dispatch_uid="core.create_cache_table")
        # Runs after every migrate and test-database flush, once permissions exist (auth's own
        # post_migrate receiver is connected first), so the groups can never drift from the code.
        post_migrate.connect(sync_role_groups, dispatch_uid="core.sync_role_groups")
        post_migrate.connect(sync_periodic_tasks, dispatch_uid="core.sync_periodic_tasks")
        connect_signals()
