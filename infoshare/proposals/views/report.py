"""The PIA report: the whole proposal as a PDF, at whatever stage it stands."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone

from infoshare.core.pdf import render_pdf
from infoshare.core.tenancy import OrganisationRequest, organisation_view
from infoshare.proposals import reporting
from infoshare.proposals.rules import can_view_proposals
from infoshare.proposals.views.common import visible_proposal


@organisation_view(can_view_proposals)
def pia_report(request: OrganisationRequest, reference: str) -> HttpResponse:
    proposal = visible_proposal(request, reference)
    context = reporting.report_context(
        proposal, produced=timezone.localtime(), produced_by=request.user
    )
    pdf = render_pdf("proposals/report_pdf.html", context, request=request)
    reporting.note_report_downloaded(proposal, actor=request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{proposal.reference}-pia-report.pdf"'
    return response
