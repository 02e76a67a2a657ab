from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """The platform: roles, periodic-task declarations, health, idempotency, the outbound guard, the demo command.

    It imports none of the apps; they register with it (lead scope, pipeline backlog, demo hooks).
    """

    name = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        import core.checks  # noqa: F401  # registers the project's deploy checks
        from core.permission_cache import connect_signals
        from core.roles import sync_role_groups
        from core.schedules import sync_periodic_tasks

        # Runs after every migrate and test-database flush, once permissions exist (auth's own
        # post_migrate receiver is connected first), so the groups can never drift from the code.
        post_migrate.connect(sync_role_groups, dispatch_uid="core.sync_role_groups")
        post_migrate.connect(sync_periodic_tasks, dispatch_uid="core.sync_periodic_tasks")
        connect_signals()
