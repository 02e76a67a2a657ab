from django.core.management.base import BaseCommand, CommandParser

from core.tasks import analyze_database


class Command(BaseCommand):
    help = (
        "Gather the query planner's statistics for every table, one at a time (SQLite keeps none otherwise; a daily "
        "task runs this there). Run it after a large import or bulk load."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="The database to analyse (default: default).")

    def handle(self, *args: object, database: str, **options: object) -> None:
        tables = analyze_database(database, every_database=True)
        self.stdout.write(self.style.SUCCESS(f"Statistics gathered for {tables} tables."))
