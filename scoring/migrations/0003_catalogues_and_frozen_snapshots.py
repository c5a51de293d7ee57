"""Frameworks made before the catalogue existed get the default rules; the
database itself refuses to change a published snapshot."""

from django.db import migrations

TABLES = ("scoring_publication", "scoring_publishedresult")

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION scoring_snapshot_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'published results are frozen (%)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def frozen_on(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        # No parameters: the "%" of RAISE is not a placeholder.
        schema_editor.execute(POSTGRES_FUNCTION, params=None)
        for table in TABLES:
            # TRUNCATE (a test database being emptied) is not an UPDATE or a
            # DELETE: only rows changed one by one are refused.
            schema_editor.execute(
                f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION scoring_snapshot_frozen()"
            )
    elif connection.vendor == "sqlite":
        # SQLite empties tables with DELETE (flush): only updates are refused.
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_frozen BEFORE UPDATE ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'published results are frozen'); END"
            )


def frozen_off(apps, schema_editor):
    connection = schema_editor.connection
    for table in TABLES:
        if connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}")
        elif connection.vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_frozen")
    if connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS scoring_snapshot_frozen()")


def default_catalogues(apps, schema_editor):
    from scoring.frameworks.catalogue import DEFAULT_TITLES
    from scoring.rules import DEFAULT_ADJUSTMENT_RULES

    Framework = apps.get_model("scoring", "Framework")
    AdjustmentRule = apps.get_model("scoring", "AdjustmentRule")
    for framework in Framework.objects.filter(adjustment_rules__isnull=True):
        AdjustmentRule.objects.bulk_create(
            AdjustmentRule(
                framework=framework,
                code=rule.code,
                title=DEFAULT_TITLES[rule.code],
                points_per_case=rule.points_per_case,
                cap=rule.cap,
                position=position,
            )
            for position, rule in enumerate(DEFAULT_ADJUSTMENT_RULES, start=1)
            if rule.applies_to(framework.unit_kind)
        )


class Migration(migrations.Migration):
    dependencies = [("scoring", "0002_results")]

    operations = [
        migrations.RunPython(default_catalogues, migrations.RunPython.noop),
        migrations.RunPython(frozen_on, frozen_off),
    ]
