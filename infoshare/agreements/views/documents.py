"""The agreement's documents: its PDF ready for signature, and the PDFs uploaded to it.

Any member of the school may download them (the register is meant to be
read); another school's are a 404, like the agreement itself. Every download
is an audit event. Uploaded files are served as attachments under a name made
from the reference, never the name they were uploaded with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_safe

from infoshare.agreements import documents
from infoshare.agreements.rules import can_view_agreements
from infoshare.agreements.views.common import visible_agreement
from infoshare.core.pdf import render_pdf
from infoshare.core.tenancy import OrganisationRequest, organisation_view

if TYPE_CHECKING:
    from django.db.models.fields.files import FieldFile


@organisation_view(can_view_agreements)
@require_safe
def agreement_pdf(request: OrganisationRequest, reference: str) -> HttpResponse:
    agreement = visible_agreement(request, reference)
    context = documents.document_context(
        agreement, produced=timezone.localtime(), produced_by=request.user
    )
    pdf = render_pdf("agreements/document_pdf.html", context, request=request)
    documents.note_document_downloaded(
        agreement, actor=request.user, what=documents.AGREEMENT_DOCUMENT
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"{agreement.reference}-v{agreement.version}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@organisation_view(can_view_agreements)
@require_safe
def signed_copy(request: OrganisationRequest, reference: str) -> FileResponse:
    """The signed copy of the version being drafted or in force."""
    agreement = visible_agreement(request, reference)
    response = stored_pdf(
        agreement.signed_copy, f"{agreement.reference}-v{agreement.version}-signed.pdf"
    )
    documents.note_document_downloaded(agreement, actor=request.user, what=documents.SIGNED_COPY)
    return response


@organisation_view(can_view_agreements)
@require_safe
def version_signed_copy(request: OrganisationRequest, reference: str, number: int) -> FileResponse:
    """The signed copy of an earlier version, filed with it when the next was drafted."""
    agreement = visible_agreement(request, reference)
    version = get_object_or_404(agreement.versions, number=number)
    response = stored_pdf(version.signed_copy, f"{agreement.reference}-v{number}-signed.pdf")
    documents.note_document_downloaded(
        agreement, actor=request.user, what=documents.SIGNED_COPY, version=number
    )
    return response


@organisation_view(can_view_agreements)
@require_safe
def disposal_evidence(request: OrganisationRequest, reference: str) -> FileResponse:
    """The certificate or letter confirming the data was returned or destroyed."""
    agreement = visible_agreement(request, reference)
    response = stored_pdf(
        agreement.disposal_evidence, f"{agreement.reference}-disposal-evidence.pdf"
    )
    documents.note_document_downloaded(
        agreement, actor=request.user, what=documents.DISPOSAL_EVIDENCE
    )
    return response


def stored_pdf(file: FieldFile, filename: str) -> FileResponse:
    """An uploaded PDF as a download, or 404 when there is none (or it has gone from storage).

    The upload was checked to be a PDF; `nosniff` keeps a browser from
    treating it as anything else all the same.
    """
    if not file:
        raise Http404("No such document.")
    try:
        handle = file.open("rb")
    except FileNotFoundError as missing:
        raise Http404("No such document.") from missing
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
