"""Periodic django-q2 tasks, declared by each app as ``periodic_tasks`` on its AppConfig.

After every ``migrate`` the Schedule rows are made to match the declarations (a post_migrate
receiver), so a deploy restores a schedule someone deleted and picks up a changed interval.
Scheduled tasks must be idempotent: after downtime django-q2 may run one more than once.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db.models import F, Q


def declared_periodic_tasks() -> dict[str, int]:
    """Every installed app's ``periodic_tasks``: task dotted path -> interval in minutes."""
    declared: dict[str, int] = {}
    for config in global_apps.get_app_configs():
        declared.update(getattr(config, "periodic_tasks", {}))
    return declared


def sync_periodic_tasks(**kwargs: object) -> None:
    from django_q.models import Schedule

    declared = declared_periodic_tasks()
    for func, minutes in declared.items():
        Schedule.objects.update_or_create(
            name=func,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )
    # A schedule made here (named after its task) for a task no app declares any more would fail at every
    # run: remove it. Schedules made by hand in admin are named otherwise and stay.
    app_tasks = Q()
    for config in global_apps.get_app_configs():
        if hasattr(config, "periodic_tasks"):
            app_tasks |= Q(func__startswith=f"{config.name}.tasks.")
    Schedule.objects.filter(app_tasks, name=F("func")).exclude(func__in=declared).delete()
