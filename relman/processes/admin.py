from django.contrib import admin

from relman.core.admin import ReadOnlyAdmin
from relman.processes.models import ProcessVersion


@admin.register(ProcessVersion)
class ProcessVersionAdmin(ReadOnlyAdmin):
    """Versions are stored by `relman process load` and never change."""

    list_display = ["name", "version", "label_en", "label_zh_hans", "source", "created"]
    list_filter = ["name"]
