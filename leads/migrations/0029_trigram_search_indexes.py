"""Trigram indexes for the searches of the lead's name, e-mail and company, on PostgreSQL only (``core.trigram``).

Admin's search, the inbox's and the team queue's (``leads.selectors.lead_search_q``) ask each of the four columns
``UPPER(column::text) LIKE UPPER('%word%')``: no B-tree serves a word inside the text, so PostgreSQL read every lead
(0.9-1.7 s at a million). A GIN index of each expression's trigrams finds the few leads a word names. SQLite has no
such index; its search stays a read of every row (0.4 s at a million, bench/README).
"""

from django.db import migrations

from core.trigram import create_trigram_indexes, drop_trigram_indexes

# The expressions exactly as Django writes ``icontains`` on PostgreSQL, so the planner matches them to the indexes.
SEARCHED = {
    "lead_email_trgm_idx": 'UPPER("email"::text)',
    "lead_first_name_trgm_idx": 'UPPER("first_name"::text)',
    "lead_last_name_trgm_idx": 'UPPER("last_name"::text)',
    "lead_company_trgm_idx": 'UPPER("company_name"::text)',
}


def create_indexes(apps, schema_editor):
    create_trigram_indexes(schema_editor, apps.get_model("leads", "Lead")._meta.db_table, SEARCHED)


def drop_indexes(apps, schema_editor):
    drop_trigram_indexes(schema_editor, SEARCHED)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("leads", "0028_submission_spam_reason_index"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
