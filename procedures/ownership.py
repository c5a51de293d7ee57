"""Who may change which dossier through an import: a plain rule, no ORM.

Every door of the import (the import_cases command, the upload page, the REST
push, the admin's spreadsheet import) applies it to each row against the
dossier *as stored*: a row naming a unit the actor may write for is not enough
when its case code already belongs to another unit's dossier."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class ImportScope:
    """What an actor may do to case records. ``None`` means every unit (a
    superuser, or the administrator's own command run without a user)."""

    # Units whose dossiers the actor may create and change.
    writable: frozenset[int] | None
    # Units between which the actor may move a dossier: those reached as a
    # reviewer. Moving a dossier changes two units' figures, which is a
    # reviewer's act, never a unit's own.
    movable: frozenset[int] | None

    def may_write(self, unit_id: int) -> bool:
        return self.writable is None or unit_id in self.writable

    def may_move(self, unit_id: int) -> bool:
        return self.movable is None or unit_id in self.movable

    @property
    def unlimited(self) -> bool:
        return self.writable is None and self.movable is None


# The administrator's own act: the command without --as-user, the demo.
SYSTEM = ImportScope(writable=None, movable=None)


class Refusal(StrEnum):
    # The row names a unit the actor may not write for.
    TARGET = "target"
    # The case code belongs to a dossier of a unit the actor may not write for.
    STORED = "stored"
    # The row would move a dossier the actor may write, but not as a reviewer
    # over both units.
    MOVE = "move"


def refusal(scope: ImportScope, *, stored: int | None, new: int) -> Refusal | None:
    """Why the row may not be applied, or None when it may. ``stored`` is the
    unit of the dossier with the row's case code as it is in the table (None
    for a new dossier), ``new`` the unit the row names."""
    if not scope.may_write(new):
        return Refusal.TARGET
    if stored is None or stored == new:
        return None
    if not scope.may_write(stored):
        return Refusal.STORED
    if not (scope.may_move(stored) and scope.may_move(new)):
        return Refusal.MOVE
    return None
