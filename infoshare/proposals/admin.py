"""Site administration of sharing proposals: read-only, for platform operators.

A proposal changes only through `proposals.services`, which check who acts,
keep the steps in order and write the audit trail; the admin must never go
round them, so it can look but not add, change or delete.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from infoshare.proposals.models import Proposal, Risk


class ReadOnly:
    """Viewing only: without the change permission the admin shows every field read-only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RiskInline(ReadOnly, admin.TabularInline):
    model = Risk
    extra = 0
    fields = [
        "position",
        "description",
        "likelihood",
        "severity",
        "effect",
        "residual_likelihood",
        "residual_severity",
    ]
    show_change_link = True


@admin.register(Proposal)
class ProposalAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["reference", "name", "organisation", "status", "created_by", "updated_at"]
    list_filter = ["status", "pia_requirement", "organisation"]
    search_fields = ["reference", "name", "organisation__name"]
    list_select_related = ["organisation", "created_by"]
    inlines = [RiskInline]


@admin.register(Risk)
class RiskAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["__str__", "likelihood", "severity", "effect", "created_at"]
    list_filter = ["effect", "proposal__organisation"]
    search_fields = ["proposal__reference"]
    list_select_related = ["proposal__organisation"]
