import pytest
from django_q.models import Schedule

pytestmark = pytest.mark.django_db


def test_migrate_schedules_the_webhook_sweep_every_minute() -> None:
    assert Schedule.objects.get(func="integrations.tasks.requeue_due_deliveries").minutes == 1


def test_migrate_schedules_pruning_idempotency_records_hourly() -> None:
    assert Schedule.objects.get(func="integrations.tasks.prune_idempotency_records").minutes == 60
