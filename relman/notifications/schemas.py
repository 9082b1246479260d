"""What the notification endpoints take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Schema
from pydantic import Field, field_validator

from relman.core.validators import reject_nul
from relman.notifications.choices import ChannelKind


class MessageOut(Schema):
    """One message of the outbox."""

    uuid: UUID
    event: str
    release: str | None = Field(None, description="Release number")
    recipient: str | None = Field(None, description="Username of the person it is for")
    channel: str
    target: str
    language: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    sent_at: datetime | None
    created: datetime

    @staticmethod
    def resolve_release(obj: Any) -> str | None:
        return obj.release.number if obj.release_id and obj.release else None

    @staticmethod
    def resolve_recipient(obj: Any) -> str | None:
        return obj.recipient.username if obj.recipient_id and obj.recipient else None


class OutboxPage(Schema):
    items: list[MessageOut]
    next: int | None = Field(None, description="Pass as `before` for the next page")


class SubscriptionOut(Schema):
    """A subscription; its secret is never shown, only whether it has one."""

    id: int
    user: str | None = Field(None, description="Username, for a person's own subscription")
    role: str | None = None
    application: str | None = Field(None, description="Application code; none: every one")
    event: str = Field(description="Empty: every event")
    channel: str
    target: str
    language: str
    has_secret: bool
    active: bool
    created: datetime

    @staticmethod
    def resolve_user(obj: Any) -> str | None:
        return obj.user.username if obj.user_id else None

    @staticmethod
    def resolve_role(obj: Any) -> str | None:
        return obj.role_id

    @staticmethod
    def resolve_application(obj: Any) -> str | None:
        return obj.application.code if obj.application_id else None

    @staticmethod
    def resolve_has_secret(obj: Any) -> bool:
        return bool(obj.secret)


_TEXT = ("event", "target", "secret", "language", "application", "role")


class SubscriptionIn(Schema):
    """A new subscription: your own unless `shared` (administrators: a role's or a channel's)."""

    shared: bool = Field(
        False, description="A role's or a channel's subscription instead of your own"
    )
    event: str = Field("", max_length=40, description="Empty: every event")
    channel: ChannelKind = ChannelKind.EMAIL
    target: str = Field("", max_length=500, description="E-mail address or URL")
    secret: str = Field("", max_length=200, description="Webhook HMAC key / DingTalk secret")
    language: str = Field("", max_length=10, description="For a channel: en or zh-hans")
    application: str | None = Field(None, max_length=40, description="Application code")
    role: str | None = Field(None, max_length=64, description="Role code (shared only)")
    active: bool = True

    _no_nul = field_validator(*_TEXT, mode="after")(reject_nul)


class SubscriptionPatch(Schema):
    """Fields to change; those left out stay as they are."""

    event: str | None = Field(None, max_length=40)
    channel: ChannelKind | None = None
    target: str | None = Field(None, max_length=500)
    secret: str | None = Field(None, max_length=200)
    language: str | None = Field(None, max_length=10)
    application: str | None = Field(None, max_length=40)
    role: str | None = Field(None, max_length=64)
    active: bool | None = None

    _no_nul = field_validator(*_TEXT, mode="after")(reject_nul)
