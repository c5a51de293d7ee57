"""Fixtures of the case-record tests shared by more than one module."""

import random
from datetime import date, datetime, timedelta

import pytest

from procedures.models import CaseRecord, Channel, DossierStatus, Procedure
from procedures.parsing import LOCAL_TZ
from tests.factories import UnitFactory

ENDED = date(2025, 6, 30)
FORMED = date(2025, 7, 1)


def local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ)


@pytest.fixture
def area(org):
    """Two wards (A, B) and a commune split in two (S) end on 30/06/2025;
    a ward (Z) merged into A on 31/03/2025. New ward N is formed on
    01/07/2025 from A and B; the split commune's halves are N and M."""
    z = UnitFactory(code="Z", parent=org.city, valid_to=date(2025, 3, 31))
    a = UnitFactory(code="A", parent=org.city, valid_to=ENDED)
    a.predecessors.set([z])
    b = UnitFactory(code="B", parent=org.city, valid_to=ENDED)
    s = UnitFactory(code="S", parent=org.city, valid_to=ENDED)
    n = UnitFactory(code="N", parent=org.province, valid_from=FORMED)
    n.predecessors.set([a, b, s])
    m = UnitFactory(code="M", parent=org.province, valid_from=FORMED)
    m.predecessors.set([s])
    return {unit.code: unit for unit in (z, a, b, s, n, m)}


@pytest.fixture
def dossiers(area):
    """Each unit's dossiers while it exists, some left open past its end
    (they stay its own) and some late, deterministic."""
    procedure = Procedure.objects.create(code="P1", name="Thủ tục 1")
    rng = random.Random(766)
    spans = {
        "Z": (local(2024, 11, 1), local(2025, 3, 31)),
        "A": (local(2024, 12, 1), local(2025, 6, 30)),
        "B": (local(2025, 1, 1), local(2025, 6, 30)),
        "S": (local(2025, 1, 1), local(2025, 6, 30)),
        "N": (local(2025, 7, 1), local(2025, 12, 31)),
        "M": (local(2025, 7, 1), local(2025, 12, 31)),
    }
    records = []
    for code, (start, end) in spans.items():
        hours = int((end - start).total_seconds() // 3600)
        for i in range(60):
            received = start + timedelta(hours=rng.randrange(hours))
            due = received + timedelta(days=rng.randrange(1, 15))
            finished = (
                None
                if rng.random() < 0.15
                else received + timedelta(days=rng.randrange(0, 20))
            )
            records.append(
                CaseRecord(
                    case_code=f"{code}-{i:03d}",
                    procedure=procedure,
                    unit=area[code],
                    received_at=received,
                    due_at=due,
                    finished_at=finished,
                    status=(
                        DossierStatus.PROCESSING
                        if finished is None
                        else DossierStatus.RETURNED
                    ),
                    channel=Channel.ONLINE_FULL if i % 3 else Channel.IN_PERSON,
                    complaint=i % 9 == 0,
                )
            )
    CaseRecord.objects.bulk_create(records)
    return area
