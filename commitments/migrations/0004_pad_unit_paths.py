"""Unit paths are now zero-padded (PATH_DIGITS): rewrite the stored ones, parents
before children, so that sorting by path is tree order."""

from django.db import migrations

PATH_DIGITS = 8


def pad_paths(apps, schema_editor):
    Unit = apps.get_model("commitments", "Unit")
    parents = dict(Unit.objects.values_list("pk", "parent_id"))
    paths: dict[int, str] = {}

    def path_of(pk: int) -> str:
        if pk not in paths:
            parent = parents[pk]
            prefix = path_of(parent) if parent else "/"
            paths[pk] = f"{prefix}{pk:0{PATH_DIGITS}d}/"
        return paths[pk]

    for pk in parents:
        Unit.objects.filter(pk=pk).update(path=path_of(pk))


class Migration(migrations.Migration):
    dependencies = [("commitments", "0003_verbose_names")]

    operations = [migrations.RunPython(pad_paths, migrations.RunPython.noop)]
