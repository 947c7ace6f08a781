"""Site administration of the daily digests: read-only, for platform operators.

Operators can see who was sent a digest on which day, and which digests were
claimed by a run that stopped before confirming them (no "sent at"). Only
`send_reminders` writes these rows; the admin can look but not change them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from infoshare.reminders.models import ReminderDigest


@admin.register(ReminderDigest)
class ReminderDigestAdmin(admin.ModelAdmin):
    list_display = ["sent_on", "user", "items", "overdue", "sent_at"]
    list_filter = ["sent_on"]
    search_fields = ["user__email", "user__name"]
    date_hierarchy = "sent_on"
    list_select_related = ["user"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
