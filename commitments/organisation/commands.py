"""The import_units and import_heads commands: one file, all rows or none,
the rejected rows listed by row and column, the exit statuses of every import
command (cchc_portal.commands)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import tablib
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from cchc_portal.commands import (
    ExitStatus,
    TranslatedHelpCommand,
    number,
    row_error_line,
)
from commitments.organisation.imports import (
    FileRefused,
    ImportReport,
    Layout,
    dataset_from_file,
)

Importer = Callable[..., ImportReport]


class OrganisationImportCommand(TranslatedHelpCommand):
    layout: Layout
    importer: Importer

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help=_("The CSV or XLSX file."))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Check every row and report, without writing anything."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            dataset: tablib.Dataset = dataset_from_file(
                path.read_bytes(), layout=self.layout
            )
            report = type(self).importer(
                user=None, dataset=dataset, dry_run=options["dry_run"]
            )
        except FileRefused as error:
            raise CommandError(f"{path.name}: {error}") from error
        for problem in report.errors:
            self.stdout.write(
                row_error_line(
                    row=problem.row,
                    column=problem.column,
                    value=problem.value,
                    message=problem.message,
                )
            )
        counts = {
            "file": path.name,
            "total": number(report.rows_total),
            "new": number(report.rows_new),
            "updated": number(report.rows_updated),
            "unchanged": number(report.rows_unchanged),
            "rejected": number(report.rows_rejected),
        }
        if report.errors:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "%(file)s: %(total)s rows read, %(rejected)s rejected; "
                        "nothing was written."
                    )
                    % counts
                )
            )
            raise SystemExit(ExitStatus.REJECTED)
        if report.dry_run:
            summary = _(
                "%(file)s: %(total)s rows read, all valid: %(new)s would be new, "
                "%(updated)s updated, %(unchanged)s unchanged (dry run: nothing "
                "was written)."
            )
        else:
            summary = _(
                "%(file)s: %(total)s rows read, %(new)s new, %(updated)s updated, "
                "%(unchanged)s unchanged."
            )
        self.stdout.write(self.style.SUCCESS(summary % counts))
