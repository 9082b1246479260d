"""Choices of a request for change: type, status, approval, external tracker, review."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from relman.releases.choices import Risk

__all__ = [
    "CLOSED",
    "EDITABLE",
    "STATUS_COLOURS",
    "Achieved",
    "Approval",
    "ChangeType",
    "ExternalSystem",
    "Risk",
    "Status",
]


class ChangeType(models.TextChoices):
    STANDARD = "standard", _("Standard")
    NORMAL = "normal", _("Normal")
    EMERGENCY = "emergency", _("Emergency")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    IMPLEMENTED = "implemented", _("Implemented")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


# Statuses in which the change's details may still be edited.
EDITABLE = {Status.DRAFT, Status.SUBMITTED, Status.REJECTED}
# Statuses a change never leaves.
CLOSED = {Status.CLOSED, Status.CANCELLED}

STATUS_COLOURS = {
    Status.DRAFT: "grey",
    Status.SUBMITTED: "blue",
    Status.APPROVED: "green",
    Status.REJECTED: "red",
    Status.IMPLEMENTED: "green",
    Status.CLOSED: "grey",
    Status.CANCELLED: "grey",
}


class Approval(models.TextChoices):
    """Where change management's decision on the change stands."""

    NOT_REQUESTED = "not_requested", _("Not requested")
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ExternalSystem(models.TextChoices):
    """The tracker a change was raised in, when it comes from one."""

    JIRA = "jira", _("Jira")
    SERVICENOW = "servicenow", _("ServiceNow")
    OTHER = "other", _("Other")


class Achieved(models.TextChoices):
    """Whether a change achieved its aim, as its review found."""

    YES = "yes", _("Yes")
    PARTLY = "partly", _("Partly")
    NO = "no", _("No")
