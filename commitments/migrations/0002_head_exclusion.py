"""On PostgreSQL, make "one head per unit at a time" a database invariant as well.

The model's clean() gives the friendly message; this catches whatever goes around
it (raw SQL, a concurrent writer). SQLite has no exclusion constraints, so the
operation does nothing there."""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINT = "head_one_head_per_unit_at_a_time"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE commitments_head ADD CONSTRAINT {CONSTRAINT} "
        "EXCLUDE USING gist (unit_id WITH =, "
        "daterange(tenure_from, tenure_to, '[]') WITH &&) "
        "WHERE (position = 'head')"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE commitments_head DROP CONSTRAINT IF EXISTS {CONSTRAINT}"
    )


class Migration(migrations.Migration):
    dependencies = [("commitments", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, drop_constraint),
    ]
