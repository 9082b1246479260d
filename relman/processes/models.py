"""Stored versions of process definitions. A release keeps the version it started under."""

from __future__ import annotations

import json

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from relman.core.models import TimestampedModel
from relman.processes.definition import pick


class ProcessVersion(TimestampedModel):
    """One version of a process definition, immutable once stored."""

    name = models.SlugField(_("name"), max_length=64)
    version = models.PositiveIntegerField(_("version"))
    label_en = models.CharField(_("label (English)"), max_length=200)
    label_zh_hans = models.CharField(_("label (Chinese)"), max_length=200)
    # JSON text, not a JSONField: PostgreSQL's jsonb would reorder the keys, and the order of
    # deliverables, checklist items and release criteria is the file's, shown as written.
    definition = models.TextField(_("definition (JSON)"))
    checksum = models.CharField(_("SHA-256"), max_length=64)
    source = models.CharField(_("source file"), max_length=500)

    class Meta:
        ordering = ["name", "-version"]
        verbose_name = _("process version")
        verbose_name_plural = _("process versions")
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_process_version"),
            models.UniqueConstraint(fields=["name", "checksum"], name="unique_process_checksum"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def data(self) -> dict:
        """The validated definition as the file gave it, keys in their order."""
        return json.loads(self.definition)

    @property
    def label(self) -> str:
        return pick({"en": self.label_en, "zh-hans": self.label_zh_hans}, get_language())
