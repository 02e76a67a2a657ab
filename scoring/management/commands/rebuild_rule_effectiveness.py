"""Rebuild the rule-effectiveness rollups from scratch: after a bulk load, a restore, or to repair any drift."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from scoring import effectiveness_rollups


class Command(BaseCommand):
    help = "Recompute every day of the rule-effectiveness rollups from the leads (idempotent; the page keeps working)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        days = effectiveness_rollups.rebuild_rollups(now=timezone.now())
        self.stdout.write(
            f"Rebuilt the rule-effectiveness rollups of {days} days in {time.perf_counter() - started:.1f}s."
        )
