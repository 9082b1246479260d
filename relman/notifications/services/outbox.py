"""Writing messages to the outbox (`emit`), and sending one again (`retry`).

`emit` runs inside the transaction of the change it tells of, so a message exists exactly
when its change does; delivery is queued when that transaction commits. Who hears of an event:
- the people the caller names (`users`, e.g. the approvers of a step that just opened);
- the requester and the release manager, of every event of their release but the approval
  requests and reminders meant for approvers;
- every active subscription matching the event and the release's application: a person's
  own (if they may see the release), every holder of a subscribed role, a channel.
The actor never hears of their own action, and each person or target gets one message per
channel, whatever the number of reasons they have to hear of it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.accounts.models import RoleAssignment
from relman.audit import services as audit
from relman.core.errors import Conflict, NotFound
from relman.notifications import access
from relman.notifications.choices import (
    PARTICIPANT_EVENTS,
    RETRYABLE,
    ChannelKind,
    Event,
    MessageStatus,
)
from relman.notifications.models import Message, Subscription

logger = logging.getLogger(__name__)
User = get_user_model()


@dataclass
class _Recipient:
    channel: str
    target: str
    language: str
    user: Any = None
    subscription: Subscription | None = None


class _Recipients:
    """The recipients of one event, each once per channel; never the actor."""

    def __init__(self, actor: Any) -> None:
        self.actor_id = getattr(actor, "pk", None)
        self.people: set[tuple[int, str]] = set()
        self.targets: set[tuple[str, str]] = set()
        self.found: list[_Recipient] = []

    def _add(self, recipient: _Recipient) -> None:
        key = (recipient.channel, _normal(recipient.channel, recipient.target))
        if key in self.targets:
            return
        if recipient.user is not None:
            person = (recipient.user.pk, recipient.channel)
            if person in self.people:
                return
            self.people.add(person)
        self.targets.add(key)
        self.found.append(recipient)

    def person(
        self,
        user: Any,
        channel: str = ChannelKind.EMAIL,
        target: str = "",
        subscription: Subscription | None = None,
    ) -> None:
        """A person, by e-mail to their own address unless a subscription says otherwise."""
        if user is None or not user.is_active or user.pk == self.actor_id:
            return
        if channel == ChannelKind.EMAIL:
            target = target or user.email
        if not target:
            return
        self._add(_Recipient(channel, target, _language(user.language), user, subscription))

    def channel(self, subscription: Subscription) -> None:
        """A channel's target, in the subscription's language."""
        self._add(
            _Recipient(
                subscription.channel,
                subscription.target,
                _language(subscription.language),
                None,
                subscription,
            )
        )


def _normal(channel: str, target: str) -> str:
    return target.strip().lower() if channel == ChannelKind.EMAIL else target.strip()


def _language(code: str | None) -> str:
    code = (code or "").lower()
    if code.startswith("zh"):
        return "zh-hans"
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _plain(data: dict | None) -> dict:
    """The data as stored: plain JSON values (dates as ISO text)."""
    if not data:
        return {}
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def matching_subscriptions(event: str, release: Any) -> list[Subscription]:
    """Active subscriptions to the event (or every event) for the release's application (or
    every application)."""
    queryset = Subscription.objects.filter(active=True).filter(Q(event="") | Q(event=event))
    if release is not None:
        queryset = queryset.filter(
            Q(application__isnull=True) | Q(application_id=release.application_id)
        )
    else:
        queryset = queryset.filter(application__isnull=True)
    return list(queryset.select_related("user").order_by("pk"))


def role_holders(role: str, release: Any) -> list[Any]:
    """The active users given the role for the release's application or for all of them
    (for an event without a release: given it anywhere)."""
    assignments = RoleAssignment.objects.filter(role_id=role, user__is_active=True)
    if release is not None:
        assignments = assignments.filter(
            Q(application__isnull=True) | Q(application_id=release.application_id)
        )
    ids = assignments.values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=ids).order_by("pk"))


def _may_see(user: Any, release: Any) -> bool:
    from relman.releases import access as release_access

    return release is None or release_access.can_view(user, release)


def recipients(
    event: str, release: Any, *, actor: Any = None, users: Iterable[Any] = ()
) -> list[_Recipient]:
    """Who hears of the event, each once per channel (see the module's docstring)."""
    found = _Recipients(actor)
    subscriptions = matching_subscriptions(event, release)
    # A person's own subscriptions first: the address or channel they chose wins.
    for subscription in subscriptions:
        if subscription.user_id and _may_see(subscription.user, release):
            found.person(subscription.user, subscription.channel, subscription.target, subscription)
    for user in users:
        found.person(user)
    if release is not None and event in PARTICIPANT_EVENTS:
        # Read afresh: the caller's release may hold stale copies of its people.
        participants = User.objects.in_bulk([release.requester_id, release.release_manager_id])
        found.person(participants.get(release.requester_id))
        found.person(participants.get(release.release_manager_id))
    for subscription in subscriptions:
        if subscription.role_id:
            for holder in role_holders(subscription.role_id, release):
                found.person(holder, subscription=subscription)
        elif not subscription.user_id:
            found.channel(subscription)
    return found.found


def emit(
    event: str,
    release: Any,
    *,
    actor: Any = None,
    data: dict | None = None,
    users: Iterable[Any] = (),
) -> list[Message]:
    """Write one outbox message per recipient and channel for the event, inside the caller's
    transaction, and queue their delivery for when it commits. Returns the messages."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notifications.emit must run inside the service's transaction")
    if event not in Event.values:
        raise ValueError(f"unknown notification event '{event}'")
    stored = _plain(data)
    known_actor = actor if getattr(actor, "pk", None) else None  # None: the system
    if known_actor is not None:
        stored.setdefault("actor_name", str(known_actor))
    now = timezone.now()
    messages = [
        Message(
            event=event,
            release=release,
            actor=known_actor,
            recipient=r.user,
            subscription=r.subscription,
            channel=r.channel,
            target=r.target,
            language=r.language,
            data=stored,
            next_attempt_at=now,
        )
        for r in recipients(event, release, actor=actor, users=users)
    ]
    if not messages:
        return []
    created = Message.objects.bulk_create(messages)
    ids = [m.pk for m in created]
    transaction.on_commit(lambda: queue(ids))
    return created


DELIVER_TASK = "relman.notifications.tasks.deliver"


def queue(message_ids: Iterable[int], countdown: float | None = None) -> None:
    """Queue the delivery of messages. When the broker cannot be reached the messages stay
    pending in the outbox, and `sweep` queues them again later: nothing is lost."""
    from celery import current_app
    from kombu.exceptions import KombuError

    # By name, from the Celery app's registry (the tasks call these services, not the
    # reverse); the first time, let Celery import the apps' tasks modules it discovers.
    if DELIVER_TASK not in current_app.tasks:
        current_app.loader.import_default_modules()
    deliver = current_app.tasks[DELIVER_TASK]
    for message_id in message_ids:
        try:
            deliver.apply_async((message_id,), countdown=countdown, retry=False)
        except (KombuError, OSError) as exc:
            logger.warning("could not queue notification %s (sweep will): %s", message_id, exc)


def get_message(ref: Message | str) -> Message:
    """A message of the outbox by its delivery id (uuid)."""
    if isinstance(ref, Message):
        return ref
    try:
        key = uuid.UUID(str(ref))
    except ValueError as exc:
        raise NotFound(_("Notification %s was not found.") % ref) from exc
    found = Message.objects.select_related("release", "recipient").filter(uuid=key).first()
    if found is None:
        raise NotFound(_("Notification %s was not found.") % ref)
    return found


def retry(actor: Any, message_ref: Message | str) -> Message:
    """Send a failed (or waiting) message again now, with a fresh set of attempts."""
    access.require_admin(actor)
    message = get_message(message_ref)
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.status not in RETRYABLE:
            if message.status == MessageStatus.SENT:
                raise Conflict(
                    _("Notification %s was already sent; it is never sent twice.") % message.uuid
                )
            raise Conflict(_("Notification %s is being sent right now.") % message.uuid)
        before = {
            "status": message.status,
            "attempts": message.attempts,
            "last_error": message.last_error,
        }
        message.status = MessageStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = timezone.now()
        message.save(update_fields=["status", "attempts", "next_attempt_at", "updated"])
        audit.record(
            actor,
            "notification.retried",
            message,
            release=message.release,
            before=before,
            after={
                "status": message.status,
                "uuid": str(message.uuid),
                "event": message.event,
                "channel": message.channel,
                "target": message.target,
            },
        )
        message_id = message.pk
        transaction.on_commit(lambda: queue([message_id]))
    return message


def outbox(actor: Any) -> QuerySet[Message]:
    """Every message of the outbox, for an administrator (refused to anyone else)."""
    access.require_admin(actor)
    return Message.objects.select_related("release", "recipient")
