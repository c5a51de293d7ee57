"""Make "one head per unit at a time" a database invariant as well.

The model's clean() gives the friendly message; this catches whatever goes around
it (raw SQL, a concurrent writer). PostgreSQL: an exclusion constraint over date
ranges. SQLite has none, so triggers do the same check there."""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINT = "head_one_head_per_unit_at_a_time"


# A head (not a deputy) of the same unit whose closed tenure meets NEW's.
SQLITE_OVERLAP = """
    NEW.position = 'head' AND EXISTS (
        SELECT 1 FROM commitments_head h
        WHERE h.unit_id = NEW.unit_id AND h.position = 'head' AND h.id != NEW.id
          AND (h.tenure_to IS NULL OR h.tenure_to >= NEW.tenure_from)
          AND (NEW.tenure_to IS NULL OR h.tenure_from <= NEW.tenure_to))
"""


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for event in ("INSERT", "UPDATE"):
            schema_editor.execute(
                f"CREATE TRIGGER {CONSTRAINT}_{event.lower()} "
                f"BEFORE {event} ON commitments_head WHEN {SQLITE_OVERLAP} "
                f"BEGIN SELECT RAISE(ABORT, '{CONSTRAINT}'); END"
            )
        return
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE commitments_head ADD CONSTRAINT {CONSTRAINT} "
        "EXCLUDE USING gist (unit_id WITH =, "
        "daterange(tenure_from, tenure_to, '[]') WITH &&) "
        "WHERE (position = 'head')"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for event in ("insert", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {CONSTRAINT}_{event}")
        return
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
