"""The indicator catalogue and the templates of the seeds (000, 001):
departments and communes commit to different digitisation targets
(commitments.catalogue)."""

from django.db import migrations

from commitments import catalogue


def forward(apps, schema_editor):
    catalogue.ensure(apps)


class Migration(migrations.Migration):
    dependencies = [("commitments", "0005_commitments")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
