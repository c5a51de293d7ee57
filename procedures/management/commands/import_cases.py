import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cchc_portal.commands import (
    ExitStatus,
    ProgressLine,
    TranslatedHelpCommand,
    number,
    row_error_line,
)
from procedures.importer import import_scope_for, run_import
from procedures.models import ImportRun, ImportSource
from procedures.parsing import FileError


class Command(TranslatedHelpCommand):
    description = gettext_lazy(
        "Import case records from a CSV or XLSX export of a one-stop-shop system "
        "(English or Vietnamese headers). Importing the same file again changes "
        "nothing; a newer export of a dossier updates it. Without --as-user the "
        "import is the administrator's own act, for every unit. Rows are counted "
        "from the first row below the header (row 1). Exit status: 0 every row "
        "loaded; 2 some rows rejected (listed; with --atomic nothing was "
        "loaded); 1 failed (nothing read)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help=_("The CSV or XLSX file."))
        parser.add_argument(
            "--atomic",
            action="store_true",
            help=_("All or nothing: import no row if any row is rejected."),
        )
        parser.add_argument(
            "--as-user",
            metavar="USERNAME",
            help=_(
                "Import as this user: only rows for units they may write for, "
                "changing only dossiers stored under those units, and moving a "
                "dossier only as a reviewer over both units."
            ),
        )
        parser.add_argument(
            "--errors",
            type=int,
            default=20,
            help=_("How many rejected rows to print (all are kept on the import run)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        user = None
        if options["as_user"]:
            user = (
                get_user_model()
                .objects.filter(username=options["as_user"], is_active=True)
                .first()
            )
            if user is None:
                raise CommandError(
                    _("No active user “%(name)s”.") % {"name": options["as_user"]}
                )
        scope = import_scope_for(user)
        if scope.writable is not None and not scope.writable:
            raise CommandError(
                _("%(name)s may not import case records for any unit.")
                % {"name": options["as_user"]}
            )
        run = ImportRun.objects.create(
            source=ImportSource.COMMAND,
            file_name=path.name,
            atomic=options["atomic"],
            user=user,
        )
        started = time.monotonic()
        line = ProgressLine(self.stderr)

        def progress(rows: int) -> None:
            line.update(
                _("%(rows)s rows read, %(seconds)s s")
                % {
                    "rows": number(rows),
                    "seconds": f"{time.monotonic() - started:.1f}".replace(".", ","),
                }
            )

        try:
            with line.keeping_logs_apart(), path.open("rb") as stream:
                run = run_import(run, stream, scope=scope, progress=progress)
        except FileError as error:
            raise CommandError(f"{path.name}: {error}") from error
        for row_error in run.errors[: options["errors"]]:
            self.stdout.write(
                row_error_line(
                    row=row_error["row"],
                    column=row_error["column"],
                    value=row_error["value"],
                    message=row_error["message"],
                )
            )
        if run.rows_rejected > options["errors"]:
            self.stdout.write(
                _("… and %(count)s more")
                % {"count": number(run.rows_rejected - options["errors"])}
            )
        summary = _(
            "%(file)s: %(total)s rows read, %(new)s new, %(updated)s updated, "
            "%(unchanged)s unchanged, %(rejected)s rejected in %(seconds)s s "
            "(import #%(id)s)"
        ) % {
            "file": path.name,
            "total": number(run.rows_total),
            "new": number(run.rows_new),
            "updated": number(run.rows_updated),
            "unchanged": number(run.rows_unchanged),
            "rejected": number(run.rows_rejected),
            "seconds": f"{run.duration_seconds or 0:.1f}".replace(".", ","),
            "id": run.pk,
        }
        if run.rows_rejected:
            # The atomic run's own message says that nothing was imported.
            self.stdout.write(self.style.WARNING(summary))
            if run.error:
                self.stdout.write(run.error)
            raise SystemExit(ExitStatus.REJECTED)
        if run.error:
            raise CommandError(f"{summary}\n{run.error}")
        self.stdout.write(self.style.SUCCESS(summary))
