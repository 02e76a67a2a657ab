"""Periodic django-q2 tasks, declared by each app as ``periodic_tasks`` on its AppConfig.

After every ``migrate`` the Schedule rows are made to match the declarations (a post_migrate
receiver), so a deploy restores a schedule someone deleted and picks up a changed interval.
Scheduled tasks must be idempotent: after downtime django-q2 may run one more than once.
"""

from __future__ import annotations

from django.apps import apps as global_apps


def declared_periodic_tasks() -> dict[str, int]:
    """Every installed app's ``periodic_tasks``: task dotted path -> interval in minutes."""
    declared: dict[str, int] = {}
    for config in global_apps.get_app_configs():
        declared.update(getattr(config, "periodic_tasks", {}))
    return declared


def sync_periodic_tasks(**kwargs: object) -> None:
    from django_q.models import Schedule

    for func, minutes in declared_periodic_tasks().items():
        Schedule.objects.update_or_create(
            name=func,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )
