"""What can be notified, through which channels, and where a message of the outbox stands."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    """Something that happened to a release (or the CAB) that someone should hear about."""

    APPROVAL_REQUESTED = "approval.requested", _("Approval requested")
    APPROVAL_REMINDER = "approval.reminder", _("Approval reminder")
    APPROVAL_ESCALATED = "approval.escalated", _("Approval escalated")
    APPROVAL_APPROVED = "approval.approved", _("Approved")
    APPROVAL_REJECTED = "approval.rejected", _("Rejected")
    APPROVAL_VOIDED = "approval.voided", _("Approvals voided")
    RELEASE_SCHEDULED = "release.scheduled", _("Release scheduled")
    RELEASE_UNSCHEDULED = "release.unscheduled", _("Release unscheduled")
    RELEASE_DEPLOYED = "release.deployed", _("Release in deployment")
    RELEASE_FAILED = "release.failed", _("Release failed")
    RELEASE_ROLLED_BACK = "release.rolled_back", _("Release rolled back")
    RELEASE_CLOSED = "release.closed", _("Release closed")
    CAB_SCHEDULED = "cab.scheduled", _("CAB meeting scheduled")


# What the requester and the release manager of a release hear without subscribing: every
# event of their release but the requests and reminders meant for its approvers.
PARTICIPANT_EVENTS = frozenset(Event) - {Event.APPROVAL_REQUESTED, Event.APPROVAL_REMINDER}


class ChannelKind(models.TextChoices):
    """How a message travels."""

    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")
    DINGTALK = "dingtalk", _("DingTalk robot")
    WECOM = "wecom", _("WeCom robot")
    SLACK = "slack", _("Slack")


# Channels whose target is a URL (the others' is an e-mail address).
URL_CHANNELS = frozenset(
    {ChannelKind.WEBHOOK, ChannelKind.DINGTALK, ChannelKind.WECOM, ChannelKind.SLACK}
)
# Channels that may carry a secret: the webhook's HMAC key, DingTalk's signing secret.
SECRET_CHANNELS = frozenset({ChannelKind.WEBHOOK, ChannelKind.DINGTALK})


class MessageStatus(models.TextChoices):
    """Where a message of the outbox stands."""

    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


MESSAGE_STATUS_COLOURS = {
    MessageStatus.PENDING: "orange",
    MessageStatus.SENDING: "blue",
    MessageStatus.SENT: "green",
    MessageStatus.FAILED: "red",
}
# Messages an administrator may send again at once.
RETRYABLE = frozenset({MessageStatus.PENDING, MessageStatus.FAILED})
# Messages not yet delivered: what the outbox page shows by default.
UNSENT = frozenset({MessageStatus.PENDING, MessageStatus.SENDING, MessageStatus.FAILED})
