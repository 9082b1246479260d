"""Choices shared by every app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """How an action reached relman."""

    WEB = "web", _("Web")
    API = "api", _("API")
    CLI = "cli", _("CLI")
    WORKER = "worker", _("Worker")
    SYSTEM = "system", _("System")
