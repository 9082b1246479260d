"""Notifications in /admin/: shown for reference. Subscriptions and the outbox change only
through the notification services (pages, API, `relman outbox`), which check permissions
and write the audit log."""

from __future__ import annotations

from django.contrib import admin

from relman.core.admin import ReadOnlyAdmin
from relman.notifications.models import Message, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "user", "role", "application", "event", "channel", "target", "active"]
    list_filter = ["active", "channel", "event"]
    search_fields = ["target", "user__username"]
    list_select_related = ["user", "role", "application"]
    exclude = ["secret"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "uuid",
        "event",
        "release",
        "channel",
        "target",
        "status",
        "attempts",
        "created",
    ]
    list_filter = ["status", "channel", "event"]
    search_fields = ["uuid", "target", "release__number"]
    list_select_related = ["release"]
