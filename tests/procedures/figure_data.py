"""Dossiers for the figures' tests: local times and one dossier a call."""

from datetime import datetime

from procedures.models import CaseRecord, Channel, DossierStatus, Procedure
from procedures.parsing import LOCAL_TZ


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in Vietnam's local time."""
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ)


def dossier(
    unit,
    code: str,
    *,
    received: datetime,
    due: datetime,
    finished: datetime | None = None,
    channel: str = Channel.IN_PERSON,
) -> CaseRecord:
    """A dossier of procedure P1; finished ones "result returned", open ones
    "processing"."""
    return CaseRecord.objects.create(
        case_code=code,
        procedure=Procedure.objects.get_or_create(code="P1")[0],
        unit=unit,
        received_at=received,
        due_at=due,
        finished_at=finished,
        status=DossierStatus.PROCESSING if finished is None else DossierStatus.RETURNED,
        channel=channel,
    )


# (case code, received, due, finished or None)
Row = tuple[str, datetime, datetime, datetime | None]


def dossiers(unit, rows: list[Row]) -> None:
    """One dossier of the unit per row."""
    for code, received, due, finished in rows:
        dossier(unit, code, received=received, due=due, finished=finished)
