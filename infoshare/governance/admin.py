"""Site administration of the information asset register: read-only, for platform operators.

An asset changes only through `governance.services`, which check who acts and
write the audit trail; the admin must never go round them, so it can look but
not add, change or delete (assets are retired, never deleted).
"""

from __future__ import annotations

from django.contrib import admin

from infoshare.governance.models import InformationAsset
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
