"""Subscriptions: created, changed and deleted only here, each audited.

A user manages their own subscriptions; administrators (see `notifications.access`) also
manage everyone's and the shared ones (a role's, a channel's). The server's command line
(no actor) acts as the system.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from relman.accounts.models import Role
from relman.audit import services as audit
from relman.cmdb.models import Application
from relman.core import ids, outbound
from relman.core.errors import NotFound, PermissionDenied, raise_if_invalid
from relman.core.validators import reject_nul
from relman.notifications import access
from relman.notifications.choices import (
    SECRET_CHANNELS,
    URL_CHANNELS,
    ChannelKind,
    Event,
    MessageStatus,
)
from relman.notifications.models import Message, Subscription

FIELDS = ("event", "channel", "target", "secret", "language", "application", "role", "active")
_url = URLValidator(schemes=["http", "https"])


def manageable(actor: Any) -> QuerySet[Subscription]:
    """The subscriptions a user may see and change: their own; administrators' also every
    other one."""
    queryset = Subscription.objects.select_related("user", "role", "application").order_by("pk")
    if actor is None or access.can_administer(actor):
        return queryset
    if not getattr(actor, "is_authenticated", False):
        return queryset.none()
    return queryset.filter(user=actor)


def get_subscription(actor: Any, subscription_id: int | str) -> Subscription:
    """A subscription the actor may manage, else NotFound (never a hint that it exists)."""
    key = str(subscription_id)
    found = manageable(actor).filter(pk=ids.pk_or_none(key)).first()
    if found is None:
        raise NotFound(_("Subscription %s was not found.") % key)
    return found


def _require_may_manage(actor: Any, user: Any) -> None:
    """Anyone manages their own subscriptions; only administrators those of others, roles
    and channels."""
    if actor is None or access.can_administer(actor):
        return
    if user is None:
        raise PermissionDenied(
            _("Only administrators may manage the subscriptions of roles and channels.")
        )
    if getattr(actor, "pk", None) != user.pk:
        raise PermissionDenied(_("You may manage only your own subscriptions."))


def _resolve(values: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """Turn application and role codes (or ids) into rows, noting unknown ones."""
    app = values.get("application")
    if app not in (None, "") and not isinstance(app, Application):
        key = str(app)
        found = Application.objects.filter(**ids.lookup(key, "code")).first()
        if found is None:
            errors["application"] = [_("Unknown application '%s'.") % key]
        values["application"] = found
    elif app == "":
        values["application"] = None
    role = values.get("role")
    if role not in (None, "") and not isinstance(role, Role):
        found_role = Role.objects.filter(code=str(role)).first()
        if found_role is None:
            errors["role"] = [_("Unknown role '%s'.") % role]
        values["role"] = found_role
    elif role == "":
        values["role"] = None


def _target_problem(
    channel: str, target: str, user: Any, role: Any, *, outbound_check: bool = True
) -> str | None:
    """What is wrong with where the messages go: a URL for a robot or webhook (that the
    outbound guard lets relman call), an address for e-mail (empty: the person's own, or each
    role holder's)."""
    if channel in URL_CHANNELS:
        if not target:
            return _("Give the URL of the webhook or robot.")
        try:
            _url(target)
        except ValidationError:
            return _("Enter a URL that starts with http:// or https://.")
        if outbound_check:
            return outbound.url_problem(target)
    elif channel == ChannelKind.EMAIL:
        if target:
            try:
                validate_email(target)
            except ValidationError:
                return _("Enter a valid e-mail address.")
        elif user is None and role is None:
            return _("Give the e-mail address the messages go to.")
        elif user is not None and not user.email:
            return _("%s has no e-mail address: give the address the messages go to.") % user
    return None


def _check(values: dict[str, Any], user: Any, *, outbound_check: bool = True) -> None:
    """Every field's problems at once, each naming its field. `outbound_check`: ask the
    outbound guard about the target URL too."""
    errors: dict[str, list[str]] = {}
    for name in ("event", "channel", "target", "secret", "language"):
        value = values.get(name)
        if value is None:
            values[name] = ""
        elif not isinstance(value, str):
            errors[name] = [_("Must be text.")]
        else:
            try:
                values[name] = reject_nul(value).strip()
            except ValueError as exc:
                errors[name] = [str(exc)]
    _resolve(values, errors)
    event, channel = values["event"], values["channel"]
    target, secret, language = values["target"], values["secret"], values["language"]
    if event and event not in Event.values:
        errors.setdefault("event", []).append(
            _("Unknown event '%(event)s'. Events: %(events)s.")
            % {"event": event, "events": ", ".join(Event.values)}
        )
    if channel not in ChannelKind.values:
        errors.setdefault("channel", []).append(
            _("Choose one of: %s.") % ", ".join(ChannelKind.values)
        )
    if language and language not in dict(settings.LANGUAGES):
        errors.setdefault("language", []).append(
            _("Choose one of: %s.") % ", ".join(dict(settings.LANGUAGES))
        )
    if len(target) > 500:
        errors.setdefault("target", []).append(_("At most 500 characters."))
    if len(secret) > 200:
        errors.setdefault("secret", []).append(_("At most 200 characters."))
    role = values.get("role")
    if user is not None and role is not None:
        errors.setdefault("role", []).append(
            _("A subscription is for a person or for a role, not both.")
        )
    if role is not None and channel == ChannelKind.EMAIL and target:
        errors.setdefault("target", []).append(
            _("A role's holders are sent e-mail at their own addresses: leave the target empty.")
        )
    if role is not None and channel in URL_CHANNELS:
        errors.setdefault("channel", []).append(
            _("A role's holders hear by e-mail; subscribe a channel without a role instead.")
        )
    if "target" not in errors:
        problem = _target_problem(channel, target, user, role, outbound_check=outbound_check)
        if problem:
            errors["target"] = [problem]
    if secret and channel in ChannelKind.values and channel not in SECRET_CHANNELS:
        errors.setdefault("secret", []).append(
            _("Only webhooks and DingTalk robots take a secret.")
        )
    if not isinstance(values.get("active", True), bool):
        errors.setdefault("active", []).append(_("Must be true or false."))
    raise_if_invalid(errors)


def _same(values: dict[str, Any], user: Any, exclude: int | None = None) -> bool:
    """Whether an equal subscription exists already."""
    queryset = Subscription.objects.filter(
        user=user,
        role=values.get("role"),
        application=values.get("application"),
        event=values["event"],
        channel=values["channel"],
        target=values["target"],
    )
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    return queryset.exists()


def describe(subscription: Subscription) -> dict[str, Any]:
    """A subscription as the audit log shows it (never its secret)."""
    return {
        "user": subscription.user.username if subscription.user_id else None,
        "role": subscription.role_id,
        "application": subscription.application.code if subscription.application_id else None,
        "event": subscription.event,
        "channel": subscription.channel,
        "target": subscription.target,
        "language": subscription.language,
        "has_secret": bool(subscription.secret),
        "active": subscription.active,
    }


def create_subscription(
    actor: Any,
    *,
    user: Any = None,
    event: str = "",
    channel: str = ChannelKind.EMAIL,
    target: str = "",
    secret: str = "",
    language: str = "",
    application: Any = None,
    role: Any = None,
    active: bool = True,
) -> Subscription:
    """Subscribe a person (`user`: their own subscription), a role's holders (`role`) or a
    channel (neither, with a `target`) to an event (empty: every event)."""
    _require_may_manage(actor, user)
    values = {
        "event": event,
        "channel": channel,
        "target": target,
        "secret": secret,
        "language": language,
        "application": application,
        "role": role,
        "active": active,
    }
    _check(values, user)
    if _same(values, user):
        raise_if_invalid({"event": [_("This subscription exists already.")]})
    with transaction.atomic():
        subscription = Subscription.objects.create(
            user=user, created_by=actor if getattr(actor, "pk", None) else None, **values
        )
        audit.record(actor, "subscription.created", subscription, after=describe(subscription))
    return subscription


def update_subscription(actor: Any, subscription_id: int | str, **changes: Any) -> Subscription:
    """Change a subscription's fields (any of FIELDS); the result is checked whole."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise_if_invalid({name: [_("Unknown field.")] for name in sorted(unknown)})
    with transaction.atomic():
        subscription = get_subscription(actor, subscription_id)
        _require_may_manage(actor, subscription.user)
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        before = describe(subscription)
        values = {name: getattr(subscription, name) for name in FIELDS}
        values.update(changes)
        # The guard is asked when the URL or the channel changes, or the subscription is
        # switched on: one whose target has since become refused can still be switched off
        # (and is refused when sending anyway).
        moved = any(values[name] != getattr(subscription, name) for name in ("target", "channel"))
        switched_on = values["active"] is True and not subscription.active
        _check(values, subscription.user, outbound_check=moved or switched_on)
        if _same(values, subscription.user, exclude=subscription.pk):
            raise_if_invalid({"event": [_("This subscription exists already.")]})
        for name, value in values.items():
            setattr(subscription, name, value)
        subscription.save()
        after = describe(subscription)
        audit.record(actor, "subscription.updated", subscription, before=before, after=after)
    return subscription


def delete_subscription(actor: Any, subscription_id: int | str) -> None:
    """Delete a subscription; its messages not yet sent are dropped with it."""
    with transaction.atomic():
        subscription = get_subscription(actor, subscription_id)
        _require_may_manage(actor, subscription.user)
        before = describe(subscription)
        dropped, _rows = Message.objects.filter(
            subscription=subscription, status__in=[MessageStatus.PENDING, MessageStatus.FAILED]
        ).delete()
        audit.record(
            actor,
            "subscription.deleted",
            subscription,
            before=before,
            after={"unsent_messages_dropped": dropped},
        )
        subscription.delete()


def subscriptions_of(user: Any) -> QuerySet[Subscription]:
    """A person's own subscriptions."""
    return Subscription.objects.filter(user=user).select_related("role", "application")
