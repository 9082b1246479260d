"""Choices of the release calendar."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ConflictKind(models.TextChoices):
    """What can collide when releases are scheduled."""

    OVERLAP = "overlap", _("Overlapping releases")
    OVER_CAPACITY = "over_capacity", _("Window over capacity")
    IN_FREEZE = "in_freeze", _("Inside a freeze")
    OUTSIDE_WINDOW = "outside_window", _("Outside any release window")
    SHARED_ITEM = "shared_item", _("Same or dependent configuration items")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
