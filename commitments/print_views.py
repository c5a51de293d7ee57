"""The printable commitment, as a page to print from the browser and as PDF.
Whoever may see the commitment's unit may print it; anything else is 404."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from cchc_portal.throttling import export_throttled
from commitments import printing
from commitments.models import Commitment
from commitments.organisation.access import get_scoped_or_404


def _commitment(request: HttpRequest, pk: int) -> Commitment:
    return get_scoped_or_404(
        request.user,
        Commitment.objects.select_related(
            "unit__parent__parent", "head", "signature_check__head"
        ),
        pk=pk,
    )


@login_required
def commitment_print(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = _commitment(request, pk)
    return render(request, printing.TEMPLATE, printing.document_context(commitment))


@login_required
@export_throttled
def commitment_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = _commitment(request, pk)
    pdf = printing.commitment_pdf(commitment, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=printing.pdf_filename(commitment)
    )
    return response
