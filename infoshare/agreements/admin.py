"""Site administration of agreements: read-only, for platform operators.

An agreement changes only through `agreements.services` and
`agreements.lifecycle`, which check who acts, keep the steps in order and
write the audit trail; the admin must never go round them, so it can look but
not add, change or delete.
"""

from __future__ import annotations

from django.contrib import admin

from infoshare.agreements.models import (
    Agreement,
    AgreementReview,
    AgreementVersion,
    DpaClause,
    Party,
)
from infoshare.proposals.admin import ReadOnly


class PartyInline(ReadOnly, admin.TabularInline):
    model = Party
    extra = 0
    fields = ["organisation", "role", "signatory_name", "signed_on", "termination_agreed_on"]


class DpaClauseInline(ReadOnly, admin.TabularInline):
    model = DpaClause
    extra = 0
    fields = ["point", "present", "clause_reference", "justification"]


class AgreementVersionInline(ReadOnly, admin.TabularInline):
    model = AgreementVersion
    extra = 0
    fields = ["number", "approved_by", "approved_at", "amendment_reasons"]
    show_change_link = True


@admin.register(Agreement)
class AgreementAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["reference", "title", "kind", "organisation", "status", "version", "updated_at"]
    list_filter = ["status", "kind", "organisation"]
    search_fields = ["reference", "title", "organisation__name"]
    list_select_related = ["organisation"]
    inlines = [PartyInline, DpaClauseInline, AgreementVersionInline]


@admin.register(AgreementVersion)
class AgreementVersionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["__str__", "approved_by", "approved_at"]
    list_filter = ["agreement__organisation"]
    search_fields = ["agreement__reference"]
    list_select_related = ["agreement__organisation", "approved_by"]


@admin.register(AgreementReview)
class AgreementReviewAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["__str__", "version", "outcome", "completed_at"]
    list_filter = ["outcome", "agreement__organisation"]
    search_fields = ["agreement__reference"]
    list_select_related = ["agreement__organisation"]
