from django.contrib import admin

from relman.audit.models import AuditEvent
from relman.core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log is append-only: shown here, never edited."""

    list_display = [
        "seq",
        "created",
        "actor_name",
        "channel",
        "action",
        "release_number",
        "object_type",
    ]
    list_filter = ["action", "channel"]
    search_fields = ["release_number", "actor_name", "request_id"]
