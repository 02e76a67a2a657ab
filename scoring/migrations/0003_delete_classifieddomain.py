# Bulk rescoring classifies email domains in Python, as scoring one lead does; the SQL-side table is gone.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0002_rescorejob_changed"),
    ]

    operations = [
        migrations.DeleteModel(name="ClassifiedDomain"),
    ]
