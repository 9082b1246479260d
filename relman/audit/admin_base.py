"""The admin base class for reference data: edited in /admin/, audited like any other change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.forms.models import model_to_dict
from django.http import HttpRequest

from relman.audit import services as audit


def _values(obj: Any, names: list[str]) -> dict[str, Any]:
    data = model_to_dict(obj, fields=names)
    return {
        k: (str(v) if not isinstance(v, str | int | float | bool | type(None)) else v)
        for k, v in data.items()
    }


class AuditedAdmin(admin.ModelAdmin):
    """Records an audit event for every save and delete made through the admin."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        changed = list(form.changed_data)
        with transaction.atomic():
            before = _values(type(obj).objects.get(pk=obj.pk), changed) if change else None
            super().save_model(request, obj, form, change)
            audit.record(
                request.user,
                f"{obj._meta.model_name}.{'changed' if change else 'created'}",
                obj,
                before=before,
                after=_values(obj, changed),
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            audit.record(
                request.user, f"{obj._meta.model_name}.deleted", obj, before={"repr": str(obj)}
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                audit.record(
                    request.user, f"{obj._meta.model_name}.deleted", obj, before={"repr": str(obj)}
                )
            super().delete_queryset(request, queryset)
