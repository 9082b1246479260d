"""Choices of a release: kind, method, class, risk, status, outcome."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    NEW_SYSTEM = "new_system", _("New system")
    UPGRADE = "upgrade", _("Upgrade")
    PATCH = "patch", _("Patch")
    DOCUMENTS = "documents", _("Documents only")


class Method(models.TextChoices):
    PLANNED = "planned", _("Planned")
    EMERGENCY = "emergency", _("Emergency")


class ReleaseClass(models.TextChoices):
    MINOR = "minor", _("Minor")
    STANDARD = "standard", _("Standard")
    MAJOR = "major", _("Major")


class Risk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Status(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")


class Outcome(models.TextChoices):
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    ROLLED_BACK = "rolled_back", _("Rolled back")
    CANCELLED = "cancelled", _("Cancelled")


OUTCOME_COLOURS = {
    Outcome.SUCCEEDED: "green",
    Outcome.FAILED: "red",
    Outcome.ROLLED_BACK: "orange",
    Outcome.CANCELLED: "grey",
}
# Outcomes a user may choose when closing a release from its last stage.
CLOSING_OUTCOMES = {Outcome.SUCCEEDED, Outcome.FAILED}


class Action(models.TextChoices):
    """The transitions of the lifecycle, as process definitions name them."""

    ADVANCE = "advance", _("Advance")
    RETURN = "return", _("Return to an earlier stage")
    ROLLBACK = "rollback", _("Roll back")
    CANCEL = "cancel", _("Cancel")
    CLOSE = "close", _("Close")
