from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from relman.accounts.models import ApiToken, Role, RoleAssignment, User


@admin.register(User)
class RelmanUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        ("relman", {"fields": ("display_name", "department", "language")}),
    )
    list_display = ["username", "display_name", "department", "email", "is_active", "is_superuser"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_zh_hans", "builtin"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "application"]
    list_filter = ["role", "application"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "expires", "revoked", "last_used"]
    readonly_fields = ["prefix", "key_hash", "last_used"]
