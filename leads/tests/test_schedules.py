import pytest
from django_q.models import Schedule

from leads.schedules import declared_periodic_tasks, sync_periodic_tasks

pytestmark = pytest.mark.django_db


def test_migrate_schedules_every_declared_periodic_task() -> None:
    scheduled = dict(Schedule.objects.values_list("func", "minutes"))

    assert declared_periodic_tasks().items() <= scheduled.items()
    assert scheduled["handoff.tasks.sweep_stalled_leads"] == 1


def test_sync_restores_a_deleted_schedule_and_creates_no_duplicates() -> None:
    Schedule.objects.filter(func="handoff.tasks.sweep_stalled_leads").delete()

    sync_periodic_tasks()
    sync_periodic_tasks()

    assert Schedule.objects.filter(func="handoff.tasks.sweep_stalled_leads").count() == 1
