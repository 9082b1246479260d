"""Subscriptions (who hears what) and the outbox of messages waiting to be delivered."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relman.core.models import TimestampedModel
from relman.notifications.choices import ChannelKind, Event, MessageStatus


class Subscription(TimestampedModel):
    """Who hears of which events, through which channel.

    Three kinds, by what is set:
    - a person's own (`user`): by e-mail to their address (or another), or to a chat or
      webhook URL of theirs;
    - a role's (`role`): every holder of the role for the release's application, each by
      e-mail to their own address and in their own language;
    - a channel's (neither): one message to `target` (an address or a URL), in `language`.
    `application` narrows any of them to one application; an empty `event` means every event.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscriptions",
        verbose_name=_("person"),
    )
    role = models.ForeignKey(
        "accounts.Role",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("role"),
    )
    application = models.ForeignKey(
        "cmdb.Application",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("application"),
        help_text=_("Leave empty for every application."),
    )
    event = models.CharField(
        _("event"),
        max_length=40,
        choices=Event.choices,
        blank=True,
        help_text=_("Leave empty for every event."),
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=ChannelKind.choices, default=ChannelKind.EMAIL
    )
    target = models.CharField(
        _("target"),
        max_length=500,
        blank=True,
        help_text=_("An e-mail address or a URL; empty for a person's own e-mail address."),
    )
    secret = models.CharField(
        _("secret"),
        max_length=200,
        blank=True,
        help_text=_("The webhook's HMAC key, or the DingTalk robot's signing secret."),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("For a channel; people get their own language."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["pk"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        indexes = [
            models.Index(fields=["active", "event"], name="subscription_active_event"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=True) | models.Q(role__isnull=True),
                name="subscription_person_or_role",
            )
        ]

    def __str__(self) -> str:
        who = self.user or self.role_id or self.target
        return f"{who} · {self.event or '*'} · {self.channel}"


class Message(TimestampedModel):
    """One notification to one recipient through one channel: the outbox row.

    Written in the transaction of the change it tells of, so it exists exactly when the
    change does; delivered afterwards by the `deliver` task, retried with backoff, and found
    again by `sweep` when a worker died. Its text is rendered when it is sent, in `language`.
    `uuid` is the idempotency key receivers see (X-Relman-Delivery, the e-mail's Message-ID).
    """

    uuid = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    release = models.ForeignKey(
        "releases.Release",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("release"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("subscription"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=ChannelKind.choices)
    target = models.CharField(_("target"), max_length=500)
    language = models.CharField(_("language"), max_length=10, default="en")
    data = models.JSONField(_("data"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="message_status_due"),
            models.Index(fields=["status", "claimed_at"], name="message_status_claimed"),
            models.Index(fields=["status", "-id"], name="message_status_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.target} ({self.status})"
