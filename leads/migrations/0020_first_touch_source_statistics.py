"""PostgreSQL: statistics on UPPER(first_touch_source), the expression the inbox's source filter compares.

The inbox filters a rep's leads by source case-insensitively (``first_touch_source__iexact``: ``UPPER(col) =
UPPER(%s)``). PostgreSQL keeps no statistics for that expression, so it guessed 173 matching rows where there were
18,546 among a rep's 83,113 (bench/inbox_bench.py at a million leads), read all of the rep's leads and sorted them:
427 ms a page. With these statistics it walks the sort's index and stops after a page: 2.4 ms. SQLite has no such
object and needs none (its planner does not estimate the filter; the same page is 6 ms there).
"""

from django.db import migrations

STATISTICS = "leads_lead_first_touch_source_upper_stats"


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} ON (UPPER(first_touch_source::text)) FROM leads_lead"
    )
    schema_editor.execute("ANALYZE leads_lead")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0019_preview_progress_import")]

    operations = [migrations.RunPython(create_statistics, drop_statistics)]
