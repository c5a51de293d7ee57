"""What the portal's import commands share: their exit statuses, the line that
names a rejected row, and a progress line that log records do not overwrite.

A script tells the outcomes apart by the exit status alone:

- 0 (LOADED): every row was read and loaded (or, with --dry-run, would be);
- 1 (FAILED): nothing was read: the file is missing or unreadable, a column is
  missing, the user is unknown, the database refused (Django's CommandError);
- 2 (REJECTED): some rows were rejected and are listed with their row, column
  and reason. Whether the valid rows were loaded depends on the command: the
  case import loads them unless --atomic; the organisation imports never load
  anything then (one transaction)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.functional import Promise
from django.utils.translation import gettext as _


class TranslatedHelpCommand(BaseCommand):
    """A command whose help (``description``, a lazy translation) reads in
    the portal's language, as its messages do."""

    description: Promise | str = ""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        self.help = str(self.description)
        return super().create_parser(prog_name, subcommand, **kwargs)


class ExitStatus(IntEnum):
    LOADED = 0
    FAILED = 1
    REJECTED = 2


def number(value: int) -> str:
    """An integer with the thousands separated the Vietnamese way (1.234.567)."""
    return f"{value:,}".replace(",", ".")


def row_error_line(*, row: int, column: str, value: str, message: str) -> str:
    """One rejected row, for the terminal: its number (the n-th row below the
    header, docs/decisions.md), the column at fault, the value and why."""
    if not column:
        return _("Row %(row)s: %(message)s") % {"row": row, "message": message}
    if value:
        return _("Row %(row)s, column %(column)s “%(value)s”: %(message)s") % {
            "row": row,
            "column": column,
            "value": value,
            "message": message,
        }
    return _("Row %(row)s, column %(column)s: %(message)s") % {
        "row": row,
        "column": column,
        "message": message,
    }


class ProgressLine:
    """A line rewritten in place on a terminal ("\\r"); nothing at all when the
    stream is not a terminal (a log file would fill with carriage returns).

    While it is shown, a log record (Celery's "Task … succeeded" when tasks run
    in process, a warning) would be written over it: ``keeping_logs_apart``
    ends the line before any record of the root logger's handlers is written,
    and the next update starts a new one."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.shown = False

    @property
    def live(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def update(self, text: str) -> None:
        if not self.live:
            return
        # "\x1b[K" clears what a longer earlier text left at the end; plain
        # text, not stderr's error style.
        self.stream.write(f"\r{text}\x1b[K", style_func=_plain, ending="")
        self.stream.flush()
        self.shown = True

    def end(self) -> None:
        """Leave the line as it is and go to the next one."""
        if self.shown:
            self.stream.write("", style_func=_plain)
            self.stream.flush()
            self.shown = False

    @contextmanager
    def keeping_logs_apart(self) -> Iterator[ProgressLine]:
        handlers = list(logging.getLogger().handlers)
        guard = _EndLineFirst(self)
        for handler in handlers:
            handler.addFilter(guard)
        try:
            yield self
        finally:
            for handler in handlers:
                handler.removeFilter(guard)
            self.end()


def _plain(text: str) -> str:
    return text


class _EndLineFirst(logging.Filter):
    """Lets every record through, after ending the progress line."""

    def __init__(self, line: ProgressLine) -> None:
        super().__init__()
        self.line = line

    def filter(self, record: logging.LogRecord) -> bool:
        self.line.end()
        return True
