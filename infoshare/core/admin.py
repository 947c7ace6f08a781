"""Site administration for platform operators (superusers with a second factor).

Organisations are created here; members are managed by each school itself
through its own pages, so that every change is audited by a service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from infoshare.core.models import Membership, Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "external_kind", "urn", "parent"]
    list_filter = ["kind", "external_kind"]
    search_fields = ["name", "urn", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        from infoshare.core import services

        if change:
            raise PermissionError("Organisations are changed through services only.")
        services.create_organisation(
            actor=request.user,  # type: ignore[arg-type]
            name=obj.name,
            slug=obj.slug,
            kind=obj.kind,
            urn=obj.urn,
            external_kind=obj.external_kind,
            parent=obj.parent,
        )

    def has_change_permission(self, request: HttpRequest, obj: Organisation | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Organisation | None = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "is_active", "is_superuser", "last_login"]
    search_fields = ["email", "name"]
    readonly_fields = ["email", "name", "password", "last_login", "date_joined", "uuid"]
    fields = [*readonly_fields, "is_active"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people join by invitation

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Read-only: memberships change through each school's members pages."""

    list_display = ["user", "organisation", "acting_for", "created_at", "ended_at"]
    list_filter = ["organisation"]
    search_fields = ["user__email", "user__name", "organisation__name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        return False
