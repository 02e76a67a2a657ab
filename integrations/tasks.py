"""django-q2 entry points. Tasks are adapters: they pass ids and call one service each."""

from django.utils import timezone

from integrations import retention, services


def deliver_webhook(delivery_id: int, attempt: int) -> None:
    """Queued after an event is recorded, and by the sweep for each retry: one attempt of one delivery."""
    services.deliver_webhook(delivery_id=delivery_id, attempt=attempt, now=timezone.now())


def requeue_due_deliveries() -> int:
    """Every minute: queue the retries that are due, and deliveries whose task was lost."""
    return services.requeue_due_deliveries(now=timezone.now())


def prune_idempotency_records() -> int:
    """Every hour: forget stored Idempotency-Key responses older than a day."""
    return services.prune_idempotency_records(now=timezone.now())


def apply_retention_policies() -> int:
    """Every hour: each active retention policy removes a bounded batch of what is due (integrations.retention)."""
    return len(retention.apply_active_policies(now=timezone.now()))
