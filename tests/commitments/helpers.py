"""Building blocks for the commitment tests: month figures, a signed
commitment, a small PDF scan."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from commitments.models import Commitment, CommitmentState, Indicator, Target
from commitments.organisation.models import Head, Unit
from procedures.models import PeriodKind, UnitMetric

D = Decimal
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def scan(name: str = "cam-ket.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def month(unit: Unit, year: int, number: int, **counts: int) -> UnitMetric:
    """A month's stored figures (everything received is in scope)."""
    counts.setdefault("in_scope", counts.get("received", 0))
    # Settled on time within the month: what a longer period adds up.
    counts.setdefault("finished_on_time", counts.get("on_time", 0))
    return UnitMetric.objects.create(
        unit=unit,
        period_kind=PeriodKind.MONTH,
        year=year,
        number=number,
        computed_at=timezone.now(),
        **counts,
    )


def indicator(code: str) -> Indicator:
    return Indicator.objects.get(code=code)


def signed(
    unit: Unit,
    year: int,
    head: Head,
    targets: list[tuple[str, str, str | None]],
    *,
    signed_on: date | None = None,
) -> Commitment:
    """A signed commitment straight in the database: (indicator code,
    committed value, deadline ISO or None) per target, all ≥ and mandatory."""
    commitment = Commitment.objects.create(
        unit=unit,
        year=year,
        state=CommitmentState.SIGNED,
        head=head,
        signed_on=signed_on or date(year, 4, 14),
    )
    for position, (code, value, deadline) in enumerate(targets, start=1):
        Target.objects.create(
            commitment=commitment,
            indicator=indicator(code),
            comparison="gte",
            value=D(value),
            deadline=date.fromisoformat(deadline) if deadline else None,
            position=position,
        )
    return commitment
