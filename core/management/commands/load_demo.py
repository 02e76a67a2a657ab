import time
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError
from django.utils import timezone

from core.demo import DemoOptions
from core.tasks import analyze_database

# PostgreSQL's error when a lock is not granted within ``lock_timeout`` (a large bulk load sets one).
LOCK_NOT_AVAILABLE = "55P03"


class Command(BaseCommand):
    help = "Create the demo users and realistic demo data. Safe to run again: it creates nothing twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo-leads", type=int, default=160, help="How many realistic demo leads (default 160).")
        parser.add_argument(
            "--leads", type=int, default=0, help="Also top synthetic bulk leads up to N (for benchmarks, e.g. 1000000)."
        )

    def handle(self, *args: object, demo_leads: int, leads: int, **options: object) -> None:
        now = timezone.now()
        demo_options = DemoOptions(demo_leads=demo_leads, bulk_leads=leads)
        users: dict[str, Any] = {}
        # Each app that has demo data loads it from its AppConfig (core.demo), in INSTALLED_APPS order, so the
        # platform never imports the apps and each app finds what the apps it builds on loaded.
        for config in apps.get_app_configs():
            if hasattr(config, "load_demo"):
                summary = config.load_demo(users=users, now=now, options=demo_options)
                self.stdout.write(f"{config.verbose_name}: {summary}")
        if leads:
            for config in apps.get_app_configs():
                if hasattr(config, "load_bulk_demo"):
                    started = time.monotonic()
                    try:
                        added = config.load_bulk_demo(users=users, now=now, total=leads)
                    except OperationalError as error:
                        if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                            raise
                        raise CommandError(
                            "The bulk load gave up waiting for its tables: another session (the site, a task worker,"
                            " a console) is using them. No bulk leads were loaded (the demo data before them was);"
                            " run it again when they are stopped."
                        ) from error
                    elapsed = time.monotonic() - started
                    self.stdout.write(f"Bulk leads: {added} added in {elapsed:.1f}s (target {leads}).")
            # SQLite's planner's view of the tables that just grew (the daily task would take up to a day; on
            # PostgreSQL autovacuum sees them).
            started = time.monotonic()
            try:
                tables = analyze_database()
            except OperationalError as error:  # the leads are loaded: say so, and what to run
                self.stderr.write(f"Statistics not gathered ({error}): run manage.py analyze_database.")
            else:
                if tables:
                    self.stdout.write(f"Statistics: {tables} tables analysed in {time.monotonic() - started:.1f}s.")
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
