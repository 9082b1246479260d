"""Users, role assignments and API tokens: created, changed and revoked only here."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.accounts import teams
from relman.accounts.choices import CHINESE_NAMES, BuiltinRole
from relman.accounts.models import ApiToken, Role, RoleAssignment
from relman.audit import services as audit
from relman.cmdb.models import Application
from relman.core import ids, permissions
from relman.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    raise_if_invalid,
)

User = get_user_model()
TOKEN_PREFIX = "rmt_"


def _require_admin(actor: Any) -> None:
    """Only superusers manage users, roles and other people's tokens (the CLI on the server
    runs as the system, with no actor)."""
    if actor is not None and not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("Only administrators may do this."))


def ensure_builtin_roles() -> None:
    """Create the built-in roles (idempotent; run by a migration and by `relman demo`)."""
    for role in BuiltinRole:
        Role.objects.update_or_create(
            code=role.value,
            defaults={
                "name_en": str(role.label),
                "name_zh_hans": CHINESE_NAMES[role],
                "builtin": True,
            },
        )


def create_user(
    actor: Any,
    *,
    username: str,
    password: str | None = None,
    email: str = "",
    display_name: str = "",
    department: str = "",
    language: str = "en",
    is_superuser: bool = False,
) -> tuple[Any, str]:
    """Create a user; with no password given, a generated one is returned (shown once)."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    if not username:
        errors["username"] = [_("A username is required.")]
    elif User.objects.filter(username=username).exists():
        errors["username"] = [_("The username '%s' is taken.") % username]
    if language not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose one of: %s.") % ", ".join(dict(settings.LANGUAGES))]
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    if not generated:
        try:
            validate_password(password)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    raise_if_invalid(errors)
    with transaction.atomic():
        user = User(
            username=username,
            email=email,
            display_name=display_name,
            department=department,
            language=language,
            is_superuser=is_superuser,
            is_staff=is_superuser,
        )
        user.set_password(password)
        user.save()
        if department.strip():
            teams.join_department(actor, user, department)
        audit.record(
            actor,
            "user.created",
            user,
            after={
                "username": username,
                "email": email,
                "department": department,
                "is_superuser": is_superuser,
            },
        )
    return user, password


def assign_role(
    actor: Any, user: Any, role: str, application: str | int | None = None
) -> RoleAssignment:
    """Give a user a role, for one application or (with none) for all of them."""
    _require_admin(actor)
    role_obj = Role.objects.filter(code=role).first()
    if role_obj is None:
        raise ValidationFailed(
            _("Unknown role '%(role)s'. Roles: %(roles)s.")
            % {"role": role, "roles": ", ".join(Role.objects.values_list("code", flat=True))},
            field="role",
        )
    app = None
    if application not in (None, ""):
        key = str(application)
        app = Application.objects.filter(**ids.lookup(key, "code")).first()
        if app is None:
            raise ValidationFailed(_("Unknown application '%s'.") % key, field="application")
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(
            user=user, role=role_obj, application=app
        )
        if created:
            audit.record(
                actor,
                "role.assigned",
                assignment,
                after={
                    "user": user.username,
                    "role": role,
                    "application": app.code if app else None,
                },
            )
    permissions.forget(user)
    return assignment


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    actor: Any, user: Any, *, name: str, days: int | None = None
) -> tuple[ApiToken, str]:
    """Create an API token for a user; return it with its secret, which is never shown again."""
    if actor is not None and actor.pk != user.pk:
        _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the token a name."), field="name")
    days = settings.RELMAN_TOKEN_DAYS if days is None else days
    if not 1 <= days <= 3650:
        raise ValidationFailed(_("A token lives from 1 to 3650 days."), field="days")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            key_hash=_hash(secret),
            expires=timezone.now() + timedelta(days=days),
        )
        audit.record(
            actor,
            "token.created",
            token,
            after={"user": user.username, "name": name, "prefix": prefix, "expires": token.expires},
        )
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


def revoke_token(actor: Any, prefix: str) -> ApiToken:
    """Revoke a token by its prefix: it stops working at once."""
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or (
        actor is not None and token.user_id != actor.pk and not actor.is_superuser
    ):
        raise NotFound(_("No token with prefix '%s'.") % prefix, field="prefix")
    if token.revoked:
        raise Conflict(_("The token was already revoked."))
    with transaction.atomic():
        token.revoked = timezone.now()
        token.save(update_fields=["revoked", "updated"])
        audit.record(
            actor, "token.revoked", token, after={"prefix": prefix, "user": token.user.username}
        )
    return token


def user_for_token(raw: str) -> Any | None:
    """The active user a bearer token belongs to, or None if it is unknown, revoked or expired."""
    if not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
        return None
    prefix, _sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if (
        token is None
        or not token.is_active
        or not secrets.compare_digest(token.key_hash, _hash(secret))
    ):
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used is None or now - token.last_used > timedelta(minutes=5):
        # Coarse on purpose: a write per request would make every read a write.
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user


def set_language(actor: Any, user: Any, language: str) -> Any:
    """Remember a user's language: pages open in it after they log in, messages use it."""
    if actor is not None and actor.pk != user.pk:
        _require_admin(actor)
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed(
            _("Choose one of: %s.") % ", ".join(dict(settings.LANGUAGES)), field="language"
        )
    if user.language == language:
        return user
    with transaction.atomic():
        before = user.language
        user.language = language
        user.save(update_fields=["language"])
        audit.record(
            actor,
            "user.language_changed",
            user,
            before={"language": before},
            after={"language": language},
        )
    return user


def set_time_zone(actor: Any, user: Any, zone: str) -> Any:
    """Remember the time zone a user reads times in ("" for the organisation's)."""
    if actor is not None and actor.pk != user.pk:
        _require_admin(actor)
    zone = (zone or "").strip()
    if zone and zone not in available_timezones():
        raise ValidationFailed(
            _("'%s' is not a time zone; use a name such as Asia/Shanghai or Europe/London.")
            % zone[:64],
            field="time_zone",
        )
    if user.time_zone == zone:
        return user
    with transaction.atomic():
        before = user.time_zone
        user.time_zone = zone
        user.save(update_fields=["time_zone"])
        audit.record(
            actor,
            "user.time_zone_changed",
            user,
            before={"time_zone": before},
            after={"time_zone": zone},
        )
    return user
