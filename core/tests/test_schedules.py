import pytest
from django_q.models import Schedule

from core.schedules import declared_periodic_tasks, sync_periodic_tasks

pytestmark = pytest.mark.django_db


def test_migrate_schedules_every_declared_periodic_task() -> None:
    scheduled = dict(Schedule.objects.values_list("func", "minutes"))

    assert declared_periodic_tasks().items() <= scheduled.items()
    assert scheduled["handoff.tasks.run_pipeline"] == 1


def test_sync_restores_a_deleted_schedule_and_creates_no_duplicates() -> None:
    Schedule.objects.filter(func="handoff.tasks.run_pipeline").delete()

    sync_periodic_tasks()
    sync_periodic_tasks()

    assert Schedule.objects.filter(func="handoff.tasks.run_pipeline").count() == 1


def test_sync_removes_the_schedule_of_a_task_no_app_declares_any_more() -> None:
    Schedule.objects.create(name="handoff.tasks.retired_task", func="handoff.tasks.retired_task", minutes=1)
    Schedule.objects.create(name="Nightly export", func="handoff.tasks.retired_task", minutes=1)

    sync_periodic_tasks()

    assert list(Schedule.objects.filter(func="handoff.tasks.retired_task").values_list("name", flat=True)) == [
        "Nightly export"
    ]
