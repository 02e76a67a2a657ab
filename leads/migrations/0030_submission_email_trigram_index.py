"""A trigram index of the e-mail each submission sent, on PostgreSQL only (``core.trigram``).

Admin's search of the submissions (``leads.selectors.submission_search_q``) asks ``UPPER((payload ->> 'email')::text)
LIKE UPPER('%word%')`` beside the lead's e-mail (leads 0029) and the address: this serves the first, which read every
submission's payload.
"""

from django.db import migrations

from core.trigram import create_trigram_indexes, drop_trigram_indexes

SEARCHED = {"submission_email_trgm_idx": "UPPER((\"payload\" ->> 'email')::text)"}


def create_indexes(apps, schema_editor):
    create_trigram_indexes(schema_editor, apps.get_model("leads", "Submission")._meta.db_table, SEARCHED)


def drop_indexes(apps, schema_editor):
    drop_trigram_indexes(schema_editor, SEARCHED)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("leads", "0029_trigram_search_indexes"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
