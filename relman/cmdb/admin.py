from django.contrib import admin

from relman.audit.admin_base import AuditedAdmin
from relman.cmdb.models import Application, Environment


@admin.register(Application)
class ApplicationAdmin(AuditedAdmin):
    list_display = ["code", "name", "process_name", "is_active"]
    list_filter = ["process_name", "is_active"]
    search_fields = ["code", "name"]


@admin.register(Environment)
class EnvironmentAdmin(AuditedAdmin):
    list_display = ["code", "name", "is_production", "order"]
