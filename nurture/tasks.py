"""django-q2 entry points of the nurture app; each one calls a service."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from nurture import sending, services


def send_due_steps() -> int:
    """Every minute: send the nurture emails due now, within a third of the task timeout; returns how many."""
    budget = settings.PIPELINE_TASK_BUDGET
    return sending.send_due_steps(now=timezone.now(), budget=budget).sent


def count_clicks() -> int:
    """Every minute: count the clicks no mail scanner made as the leads' ``email_clicked``; returns how many."""
    return services.count_clicks(now=timezone.now())
