import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from leads import demo


class Command(BaseCommand):
    help = "Create the demo users and realistic demo data. Safe to run again: it creates nothing twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo-leads", type=int, default=160, help="How many realistic demo leads (default 160).")
        parser.add_argument(
            "--leads", type=int, default=0, help="Also top synthetic bulk leads up to N (for benchmarks, e.g. 1000000)."
        )

    def handle(self, *args: object, demo_leads: int, leads: int, **options: object) -> None:
        now = timezone.now()
        users = demo.ensure_demo_users()
        reps = [user for name, user in users.items() if name.startswith("rep")]
        self.stdout.write(f"Demo users ready: {', '.join(users)}")

        created = demo.load_demo_leads(count=demo_leads, reps=reps, now=now)
        self.stdout.write(f"Demo leads: {created} new, {demo_leads - created} already there.")

        forms_created = demo.ensure_demo_forms(now=now)
        self.stdout.write(f"Demo forms: {forms_created} new, {len(demo.DEMO_FORMS) - forms_created} already there.")

        # Each app that has demo data of its own loads it from its AppConfig (`load_demo`), so leads never
        # imports the apps built on it; they run in INSTALLED_APPS order.
        for config in apps.get_app_configs():
            if hasattr(config, "load_demo"):
                summary = config.load_demo(users=users, now=now)
                self.stdout.write(f"{config.verbose_name}: {summary}")

        if leads:
            started = time.monotonic()
            added = demo.bulk_create_leads(total=leads, reps=reps, now=now)
            elapsed = time.monotonic() - started
            self.stdout.write(f"Bulk leads: {added} added in {elapsed:.1f}s (target {leads}).")
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
