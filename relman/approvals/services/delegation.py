"""Delegation while away: who stands in for whom, from when until when.

A user may delegate their own approvals; an administrator may arrange a delegation for
someone else. A delegate decides the steps the person away could decide, and the rules of
segregation of duties bind both of them (see `policy.refusal`); each decision made by a
delegate records whom it was made for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from relman.accounts.choices import BuiltinRole
from relman.approvals.models import Delegation
from relman.audit import services as audit
from relman.core import ids, permissions
from relman.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    raise_if_invalid,
)

# Roles that make their holder (for every application) an administrator of delegations.
ADMIN_ROLES = frozenset({"admin", BuiltinRole.RELEASE_ADMINISTRATOR.value})


@dataclass
class Delegations:
    """A user's delegations: those they gave (others stand in for them) and received."""

    given: list[Delegation]
    received: list[Delegation]


def is_admin(user: Any) -> bool:
    """An administrator of delegations: a superuser, or a holder of an admin role for every
    application."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(app is None and role in ADMIN_ROLES for role, app in permissions.assignments(user))


def is_active(delegation: Delegation, at: datetime | None = None) -> bool:
    """Whether the delegation is in force at `at` (now by default)."""
    at = at or timezone.now()
    return delegation.revoked is None and delegation.starts <= at < delegation.ends


def _moment(value: Any) -> datetime:
    """An aware date-time; a naive one is read in the current time zone."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _when(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i")


def _person(value: Any, field: str, errors: dict[str, list[str]]) -> Any:
    """The active user a username (or user) names; the problem goes to `errors` otherwise."""
    if value is None or value == "":
        errors.setdefault(field, []).append(_("Name a user."))
        return None
    username = getattr(value, "username", value)
    found = get_user_model().objects.filter(username=str(username)).first()
    if found is None:
        errors.setdefault(field, []).append(_("There is no user '%s'.") % username)
        return None
    if not found.is_active:
        errors.setdefault(field, []).append(
            _("%s is no longer active, so cannot stand in for anyone.") % found
        )
        return None
    return found


def _live(queryset: QuerySet[Delegation], starts: datetime, ends: datetime) -> Any:
    """The unrevoked delegations of the queryset overlapping [starts, ends)."""
    return queryset.filter(revoked__isnull=True, starts__lt=ends, ends__gt=starts)


def _cycle(delegator: Any, delegate: Any, starts: datetime, ends: datetime) -> Delegation | None:
    """A delegation of the delegate's chain that leads back to the delegator in the period:
    adding delegator → delegate would close a circle of people standing in for each other."""
    seen = {delegate.pk}
    frontier = {delegate.pk}
    while frontier:
        links = list(
            _live(Delegation.objects.filter(delegator_id__in=frontier), starts, ends).order_by(
                "starts", "id"
            )
        )
        for link in links:
            if link.delegate_id == delegator.pk:
                return link
        frontier = {link.delegate_id for link in links} - seen
        seen |= frontier
    return None


def create_delegation(
    actor: Any,
    *,
    delegate: Any,
    starts: Any,
    ends: Any,
    reason: str = "",
    delegator: Any = None,
) -> Delegation:
    """Let `delegate` decide the approvals of `delegator` (the actor by default) from `starts`
    until `ends`. Only an administrator arranges a delegation for someone else."""
    errors: dict[str, list[str]] = {}
    if delegator is None or delegator == "":
        if actor is None:
            raise ValidationFailed(_("Name the person who is away."), field="delegator")
        delegator = actor
    else:
        delegator = _person(delegator, "delegator", errors)
        if (
            delegator is not None
            and actor is not None
            and delegator.pk != actor.pk
            and not is_admin(actor)
        ):
            raise PermissionDenied(
                _("Only an administrator may arrange a delegation for someone else.")
            )
    delegate = _person(delegate, "delegate", errors)
    if delegate is not None and delegator is not None and delegate.pk == delegator.pk:
        errors.setdefault("delegate", []).append(_("Nobody can stand in for themselves."))
    reason = (reason or "").strip()
    if len(reason) > 300:
        errors.setdefault("reason", []).append(_("At most 300 characters."))
    try:
        starts = _moment(starts)
    except (TypeError, ValueError):
        errors.setdefault("starts", []).append(_("Give a date and time."))
    try:
        ends = _moment(ends)
    except (TypeError, ValueError):
        errors.setdefault("ends", []).append(_("Give a date and time."))
    if "starts" not in errors and "ends" not in errors:
        if ends <= starts:
            errors.setdefault("ends", []).append(_("The end must come after the start."))
        elif ends <= timezone.now():
            errors.setdefault("ends", []).append(_("The end is in the past."))
    raise_if_invalid(errors)
    with transaction.atomic():
        # Lock the person away, so two delegations of theirs cannot be made at once.
        delegator = get_user_model().objects.select_for_update().get(pk=delegator.pk)
        existing = (
            _live(Delegation.objects.filter(delegator=delegator), starts, ends)
            .select_related("delegate")
            .order_by("starts", "id")
            .first()
        )
        if existing is not None:
            raise ValidationFailed(
                _(
                    "%(delegator)s already has %(delegate)s standing in from %(starts)s until "
                    "%(ends)s (delegation %(id)d); revoke it first or choose another period."
                )
                % {
                    "delegator": delegator,
                    "delegate": existing.delegate,
                    "starts": _when(existing.starts),
                    "ends": _when(existing.ends),
                    "id": existing.pk,
                },
                field="starts",
            )
        circle = _cycle(delegator, delegate, starts, ends)
        if circle is not None and circle.delegator_id == delegate.pk:
            raise ValidationFailed(
                _(
                    "%(delegate)s is away in this period with %(delegator)s standing in "
                    "(delegation %(id)d): two people cannot stand in for each other."
                )
                % {"delegate": delegate, "delegator": delegator, "id": circle.pk},
                field="delegate",
            )
        if circle is not None:
            raise ValidationFailed(
                _(
                    "%(delegate)s is away in this period, and the people standing in lead back "
                    "to %(delegator)s (delegation %(id)d): delegations cannot go round in a "
                    "circle."
                )
                % {"delegate": delegate, "delegator": delegator, "id": circle.pk},
                field="delegate",
            )
        delegation = Delegation.objects.create(
            delegator=delegator, delegate=delegate, starts=starts, ends=ends, reason=reason
        )
        audit.record(
            actor,
            "delegation.created",
            delegation,
            after={
                "delegator": delegator.username,
                "delegate": delegate.username,
                "starts": starts,
                "ends": ends,
            },
            reason=reason,
        )
    return delegation


def get_delegation(actor: Any, ref: Delegation | int | str) -> Delegation:
    """A delegation the actor may see: their own (given or received), or any for an
    administrator; else NotFound."""
    key = ref.pk if isinstance(ref, Delegation) else ref
    queryset = Delegation.objects.select_related("delegator", "delegate")
    if not is_admin(actor):
        if not getattr(actor, "is_authenticated", False):
            queryset = queryset.none()
        else:
            queryset = queryset.filter(Q(delegator=actor) | Q(delegate=actor))
    found = queryset.filter(pk=ids.pk_or_none(key)).first()
    if found is None:
        raise NotFound(_("Delegation %s was not found.") % key)
    return found


def revoke_delegation(actor: Any, delegation: Delegation | int | str) -> Delegation:
    """End a delegation now (or cancel it before it starts). The person away, the delegate
    (handing it back) or an administrator may."""
    delegation = get_delegation(actor, delegation) if actor is not None else delegation
    if not isinstance(delegation, Delegation):
        delegation = Delegation.objects.get(pk=int(delegation))
    with transaction.atomic():
        delegation = (
            Delegation.objects.select_for_update()
            .select_related("delegator", "delegate")
            .get(pk=delegation.pk)
        )
        if delegation.revoked is not None:
            raise Conflict(_("Delegation %d is already revoked.") % delegation.pk)
        now = timezone.now()
        if delegation.ends <= now:
            raise ValidationFailed(
                _("Delegation %d already ended; there is nothing to revoke.") % delegation.pk
            )
        delegation.revoked = now
        delegation.save(update_fields=["revoked", "updated"])
        audit.record(
            actor,
            "delegation.revoked",
            delegation,
            before={
                "delegator": delegation.delegator.username,
                "delegate": delegation.delegate.username,
                "starts": delegation.starts,
                "ends": delegation.ends,
            },
            after={"revoked": now},
        )
    return delegation


def delegations_of(user: Any, *, include_ended: bool = False) -> Delegations:
    """The delegations a user gave and received: in force or to come, or all of them with
    `include_ended` (revoked and past ones too), latest first. Two queries."""
    base = Delegation.objects.select_related("delegator", "delegate").order_by("-starts", "-id")
    if not include_ended:
        base = base.filter(revoked__isnull=True, ends__gt=timezone.now())
    return Delegations(
        given=list(base.filter(delegator=user)),
        received=list(base.filter(delegate=user)),
    )
