"""The REST door of the import engine: another system pushes case records as
JSON, and they go through the same engine (procedures.importer) as a file.

Here until procedures has a services module of its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from commitments.organisation.access import RECORD_WRITE_ROLES, units_q
from commitments.organisation.models import Unit
from procedures.importer import import_scope_for, run_import_records
from procedures.models import ImportRun, ImportSource
from procedures.parsing import COLUMNS

if TYPE_CHECKING:
    from commitments.organisation.access import AnyUser

# Who may write case records for a unit: the same roles as the upload page.
PUSH_ROLES = RECORD_WRITE_ROLES


def may_push_cases(user: AnyUser) -> bool:
    """Whether ``user`` may push case records for at least one unit."""
    if user.is_superuser and user.is_active:
        return True
    return Unit.objects.filter(units_q(user, roles=PUSH_ROLES)).exists()


def record_cells(record: Mapping[str, object]) -> list[str]:
    """One pushed record as the row of strings the engine parses: booleans as
    1/0, null or missing as an empty cell."""
    return [_cell(record.get(column)) for column in COLUMNS]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def cases_push(
    *, user: AnyUser, records: Sequence[Mapping[str, object]], atomic: bool
) -> ImportRun:
    """Import pushed records through the engine and record the outcome on a new
    ImportRun.

    Errors name the record by its position in ``records``, from 1. A rejected
    record does not stop the others unless ``atomic``: then nothing is written
    and the run is marked failed. Records for units outside the user's reach,
    or changing a dossier the user may not change as it is stored
    (procedures.ownership), are rejected one by one; a user who may push for
    no unit at all is refused before anything is recorded."""
    scope = import_scope_for(user)
    if scope.writable is not None and not scope.writable:
        raise PermissionDenied(_("You may not import case records for any unit."))
    run = ImportRun.objects.create(
        source=ImportSource.API,
        user=user if user.is_authenticated else None,
        file_name="api",
        atomic=atomic,
        rows_expected=len(records),
    )
    rows = (
        (number, record_cells(record)) for number, record in enumerate(records, start=1)
    )
    return run_import_records(run, rows, scope=scope)
