from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from relman.accounts.models import ApiToken, Role, RoleAssignment, User
from relman.audit.admin_base import AuditedAdmin
from relman.core.admin import ReadOnlyAdmin


@admin.register(User)
class RelmanUserAdmin(AuditedAdmin, UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        ("relman", {"fields": ("display_name", "department", "language")}),
    )
    list_display = ["username", "display_name", "department", "email", "is_active", "is_superuser"]


@admin.register(Role)
class RoleAdmin(AuditedAdmin):
    list_display = ["code", "name_en", "name_zh_hans", "builtin"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedAdmin):
    list_display = ["user", "role", "application"]
    list_filter = ["role", "application"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are made and revoked with `relman token`; the secret is never stored."""

    list_display = ["name", "user", "prefix", "expires", "revoked", "last_used"]
