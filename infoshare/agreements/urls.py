from django.urls import path

from infoshare.agreements.views import documents, drafting, lifecycle, register

app_name = "agreements"

urlpatterns = [
    # The register (issue 5, item 5), with ?format=csv or ?format=xlsx.
    path("", register.agreement_register, name="register"),
    # Drafting, advice, approval (items 1-4): ?proposal=<reference> prefills.
    path("new/", drafting.start_agreement, name="start"),
    path("<str:reference>/", drafting.agreement_detail, name="detail"),
    path("<str:reference>/edit/", drafting.edit_content, name="edit"),
    path("<str:reference>/parties/new/", drafting.add_party, name="add_party"),
    path(
        "<str:reference>/parties/<uuid:party>/remove/",
        drafting.remove_party,
        name="remove_party",
    ),
    path("<str:reference>/checklist/", drafting.dpa_checklist, name="checklist"),
    path("<str:reference>/request-advice/", drafting.request_advice, name="request_advice"),
    path("<str:reference>/advice/", drafting.advise, name="advise"),
    path("<str:reference>/revise/", drafting.revise, name="revise"),
    path("<str:reference>/approval/", drafting.approve, name="approve"),
    path("<str:reference>/withdraw/", drafting.withdraw, name="withdraw"),
    # In force: signatures, the signed copy, review, termination (items 6-8).
    path(
        "<str:reference>/parties/<uuid:party>/signature/",
        lifecycle.record_signature,
        name="signature",
    ),
    path("<str:reference>/signed-copy/", lifecycle.upload_signed_copy, name="upload_signed_copy"),
    path("<str:reference>/review/", lifecycle.start_review, name="start_review"),
    path("<str:reference>/review/answers/", lifecycle.complete_review, name="complete_review"),
    path("<str:reference>/termination/", lifecycle.terminate, name="terminate"),
    path("<str:reference>/data/", lifecycle.confirm_data_fate, name="data_fate"),
    path("<str:reference>/versions/<int:number>/", lifecycle.version_detail, name="version"),
    # Documents (item 9) and uploads, each through a permission check.
    path("<str:reference>/document.pdf", documents.agreement_pdf, name="document"),
    path("<str:reference>/signed-copy.pdf", documents.signed_copy, name="signed_copy"),
    path(
        "<str:reference>/versions/<int:number>/signed-copy.pdf",
        documents.version_signed_copy,
        name="version_signed_copy",
    ),
    path("<str:reference>/evidence.pdf", documents.disposal_evidence, name="evidence"),
]
