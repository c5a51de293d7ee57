import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from procedures.importer import import_scope_for, run_import
from procedures.models import ImportRun, ImportSource
from procedures.parsing import FileError


class Command(BaseCommand):
    help = (
        "Import case records from a CSV or XLSX export of a one-stop-shop system "
        "(English or Vietnamese headers). Importing the same file again changes "
        "nothing; a newer export of a dossier updates it. Without --as-user the "
        "import is the administrator's own act, for every unit."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--atomic",
            action="store_true",
            help="All or nothing: import no row if any row is rejected.",
        )
        parser.add_argument(
            "--as-user",
            metavar="USERNAME",
            help=(
                "Import as this user: only rows for units they may write for, "
                "changing only dossiers stored under those units, and moving a "
                "dossier only as a reviewer over both units."
            ),
        )
        parser.add_argument(
            "--errors",
            type=int,
            default=20,
            help="How many rejected rows to print (all are kept on the import run).",
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        user = None
        if options["as_user"]:
            user = (
                get_user_model()
                .objects.filter(username=options["as_user"], is_active=True)
                .first()
            )
            if user is None:
                raise CommandError(f"No active user {options['as_user']!r}.")
        scope = import_scope_for(user)
        if scope.writable is not None and not scope.writable:
            raise CommandError(
                f"{options['as_user']} may not import case records for any unit."
            )
        run = ImportRun.objects.create(
            source=ImportSource.COMMAND,
            file_name=path.name,
            atomic=options["atomic"],
            user=user,
        )
        started = time.monotonic()

        def progress(rows: int) -> None:
            elapsed = time.monotonic() - started
            self.stderr.write(f"  {rows:>10,} rows  {elapsed:7.1f} s", ending="\r")

        try:
            with path.open("rb") as stream:
                run = run_import(run, stream, scope=scope, progress=progress)
        except FileError as error:
            raise CommandError(f"{path.name}: {error}") from error
        self.stderr.write("")
        for row_error in run.errors[: options["errors"]]:
            value = f" “{row_error['value']}”" if row_error["value"] else ""
            self.stdout.write(
                f"row {row_error['row']}, column {row_error['column']}{value}: "
                f"{row_error['message']}"
            )
        if run.rows_rejected > options["errors"]:
            self.stdout.write(f"… and {run.rows_rejected - options['errors']} more")
        summary = (
            f"{path.name}: {run.rows_total} rows read, {run.rows_new} new, "
            f"{run.rows_updated} updated, {run.rows_unchanged} unchanged, "
            f"{run.rows_rejected} rejected in {run.duration_seconds or 0:.1f} s "
            f"(import #{run.pk})"
        )
        if run.error:
            raise CommandError(f"{summary}\n{run.error}")
        self.stdout.write(self.style.SUCCESS(summary))
