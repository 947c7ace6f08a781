"""Site administration of statutory sharing: the removal grounds, read-only.

The grounds of regulation 9 are reference data loaded by a migration
(DESIGN.md rule 6): operators may look, never edit. Roll changes are not
registered at all: they name pupils, and stay behind the application's own
permissions and audit trail, as safeguarding records do.
"""

from __future__ import annotations

from django.contrib import admin

from infoshare.proposals.admin import ReadOnly
from infoshare.statutory.models import RemovalGround


@admin.register(RemovalGround)
class RemovalGroundAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["regulation", "name", "code", "is_active", "position"]
    list_filter = ["is_active"]
    search_fields = ["regulation", "name", "code"]
