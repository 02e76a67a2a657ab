"""Trigram indexes for the searches of the lead's name, e-mail and company, on PostgreSQL only.

Admin's search, the inbox's and the team queue's (``leads.selectors.lead_search_q``) ask each of the four columns
``UPPER(column::text) LIKE UPPER('%word%')``: no B-tree serves a word inside the text, so PostgreSQL read every lead
(0.9-1.7 s at a million). A GIN index of each expression's trigrams (``pg_trgm``) finds the few leads a word names.
SQLite has no such index; its search stays a read of every row (0.4 s at a million, bench/README).

``pg_trgm`` is a trusted extension (PostgreSQL 13 and later): the database's owner, or any role that may create in
it, creates it here. A role that may not stops this migration with PostgreSQL's own error; a superuser's
``CREATE EXTENSION pg_trgm;`` in the database, then ``migrate`` again, goes on from here. Where the extension lives
in a schema of its own, its operator class is named with that schema.

The indexes are built ``CONCURRENTLY``, outside a transaction: captures go on writing leads while they build (about
10 s at a million leads). A build that failed leaves an invalid index, dropped and built again by the next run.
"""

from django.db import migrations

# The expressions exactly as Django writes ``icontains`` on PostgreSQL, so the planner matches them to the indexes.
SEARCHED = {
    "lead_email_trgm_idx": "email",
    "lead_first_name_trgm_idx": "first_name",
    "lead_last_name_trgm_idx": "last_name",
    "lead_company_trgm_idx": "company_name",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    table = quote(apps.get_model("leads", "Lead")._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'"
        )
        (schema,) = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE NOT i.indisvalid AND c.relname = ANY(%s)",
            [list(SEARCHED)],
        )
        invalid = [name for (name,) in cursor.fetchall()]
    for name in invalid:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(name)}")
    for name, column in SEARCHED.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(name)} ON {table} "
            f"USING gin ((UPPER({quote(column)}::text)) {quote(schema)}.gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in SEARCHED:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("leads", "0028_submission_spam_reason_index"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
