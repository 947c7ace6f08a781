"""Site administration of the asset register and the policy: read-only, for platform operators.

An asset changes only through `governance.services`, which check who acts and
write the audit trail; the admin must never go round them, so it can look but
not add, change or delete (assets are retired, never deleted).
"""

from __future__ import annotations

from django.contrib import admin

from infoshare.governance.models import (
    InformationAsset,
    PolicyAcknowledgement,
    PolicyVersion,
    ReviewTrigger,
)
from infoshare.proposals.admin import ReadOnly


@admin.register(InformationAsset)
class InformationAssetAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "name",
        "organisation",
        "owner",
        "system_or_location",
        "special_category",
        "retention_period",
        "retired_at",
    ]
    list_filter = ["special_category", "lawful_basis", "organisation"]
    search_fields = ["name", "owner", "system_or_location", "organisation__name"]
    list_select_related = ["organisation"]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["organisation", "number", "status", "drafted_by", "approved_by", "approved_on"]
    list_filter = ["status", "organisation"]
    list_select_related = ["organisation", "drafted_by", "approved_by"]
    exclude = ["text"]  # read on the policy's pages, where reading is checked


@admin.register(ReviewTrigger)
class ReviewTriggerAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["organisation", "kind", "occurred_on", "recorded_by", "recorded_at"]
    list_filter = ["kind", "organisation"]
    list_select_related = ["organisation", "recorded_by"]
    exclude = ["description"]


@admin.register(PolicyAcknowledgement)
class PolicyAcknowledgementAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["version", "user", "acknowledged_at"]
    list_select_related = ["version", "user"]
