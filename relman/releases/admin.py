from django.contrib import admin

from relman.core.admin import ReadOnlyAdmin
from relman.releases.models import Release


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    """Releases change only through their lifecycle; the admin shows them for reference."""

    list_display = [
        "number",
        "title",
        "application",
        "kind",
        "method",
        "stage",
        "status",
        "outcome",
    ]
    list_filter = ["status", "kind", "method", "release_class"]
    search_fields = ["number", "title"]
    list_select_related = ["application"]
