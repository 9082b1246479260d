"""Users, roles and tokens: each service's audit event and refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from relman.accounts import services
from relman.accounts.models import ApiToken, RoleAssignment
from relman.audit.models import AuditEvent
from relman.core import permissions
from relman.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()


# ---------------------------------------------------------------- users


def test_create_user_records_it_without_the_password(admin):
    user, password = services.create_user(
        admin, username="wang", email="wang@example.com", department="Ops", language="zh-hans"
    )
    assert user.check_password(password)
    assert len(password) >= 12
    event = last_event()
    assert (event.action, event.actor) == ("user.created", admin)
    assert event.after == {
        "username": "wang",
        "email": "wang@example.com",
        "department": "Ops",
        "is_superuser": False,
    }
    assert password not in str(event.after)


def test_the_system_may_create_users(db):
    user, _password = services.create_user(None, username="first", password="a-Long-pass-123")
    assert (last_event().actor, last_event().actor_name) == (None, "system")
    assert user.check_password("a-Long-pass-123")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username": "  "}, "username"),
        ({"username": "admin"}, "username"),
        ({"username": "x", "language": "fr"}, "language"),
        ({"username": "x", "password": "short"}, "password"),
        ({"username": "x", "password": "password123"}, "password"),
    ],
)
def test_create_user_refuses_bad_input_naming_the_field(admin, kwargs, field):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        services.create_user(admin, **kwargs)
    assert field in refused.value.errors
    assert AuditEvent.objects.count() == before


def test_only_administrators_create_users(app):
    manager = factories.user("mgr", "release_manager")
    with pytest.raises(PermissionDenied):
        services.create_user(manager, username="sneaky")


# ---------------------------------------------------------------- roles


def test_assign_role_records_it_once(admin, app):
    user = factories.user("ann")
    services.assign_role(admin, user, "tester", "crm")
    event = last_event()
    assert (event.action, event.actor) == ("role.assigned", admin)
    assert event.after == {"user": "ann", "role": "tester", "application": "crm"}
    before = AuditEvent.objects.count()
    services.assign_role(admin, user, "tester", "crm")
    assert AuditEvent.objects.count() == before
    assert RoleAssignment.objects.filter(user=user).count() == 1


def test_a_new_role_takes_effect_on_the_same_user_object(admin, app):
    user = factories.user("ann")
    assert permissions.roles_of(user, app.pk) == set()
    services.assign_role(admin, user, "tester", app.pk)
    assert permissions.roles_of(user, app.pk) == {"tester"}


def test_a_global_role_holds_for_every_application(admin, app):
    user = factories.user("ann")
    services.assign_role(admin, user, "auditor")
    other = factories.application("hr")
    assert permissions.roles_of(user, other.pk) == {"auditor"}
    assert last_event().after["application"] is None


@pytest.mark.parametrize(
    ("role", "application", "field"),
    [("wizard", None, "role"), ("tester", "nope", "application")],
)
def test_assign_role_refuses_unknown_roles_and_applications(admin, app, role, application, field):
    with pytest.raises(ValidationFailed) as refused:
        services.assign_role(admin, factories.user("ann"), role, application)
    assert field in refused.value.errors


def test_only_administrators_assign_roles(app):
    manager = factories.user("mgr", "release_manager")
    with pytest.raises(PermissionDenied):
        services.assign_role(manager, manager, "release_owner")


# ---------------------------------------------------------------- tokens


def test_a_token_is_shown_once_and_stored_hashed(db):
    user = factories.user("ann")
    token, secret = services.create_token(user, user, name="laptop", days=7)
    assert secret.startswith(f"rmt_{token.prefix}_")
    assert secret.split("_", 2)[2] not in token.key_hash
    assert services.user_for_token(secret) == user
    event = last_event()
    assert (event.action, event.actor) == ("token.created", user)
    assert event.after["name"] == "laptop"
    assert event.after["prefix"] == token.prefix
    assert secret not in str(event.after)


@pytest.mark.parametrize(
    ("name", "days", "field"), [("", 7, "name"), ("x", 0, "days"), ("x", 9999, "days")]
)
def test_create_token_refuses_bad_input(db, name, days, field):
    user = factories.user("ann")
    with pytest.raises(ValidationFailed) as refused:
        services.create_token(user, user, name=name, days=days)
    assert field in refused.value.errors


def test_only_administrators_make_tokens_for_others(admin):
    ann, bob = factories.user("ann"), factories.user("bob")
    with pytest.raises(PermissionDenied):
        services.create_token(ann, bob, name="bob's")
    assert services.create_token(admin, bob, name="for bob")[0].user == bob


def test_a_revoked_token_stops_working_at_once(db):
    user = factories.user("ann")
    token, secret = services.create_token(user, user, name="laptop")
    services.revoke_token(user, token.prefix)
    event = last_event()
    assert (event.action, event.after) == (
        "token.revoked",
        {"prefix": token.prefix, "user": "ann"},
    )
    assert services.user_for_token(secret) is None
    with pytest.raises(Conflict):
        services.revoke_token(user, token.prefix)


def test_others_cannot_revoke_a_token_or_learn_it_exists(db):
    ann, bob = factories.user("ann"), factories.user("bob")
    token, secret = services.create_token(ann, ann, name="laptop")
    with pytest.raises(NotFound):
        services.revoke_token(bob, token.prefix)
    assert services.user_for_token(secret) == ann


def test_bad_expired_and_inactive_tokens_authenticate_no_one(db):
    user = factories.user("ann")
    token, secret = services.create_token(user, user, name="laptop")
    wrong = secret[:-2] + ("aa" if not secret.endswith("aa") else "bb")
    for raw in ("", "rmt_", "rmt_nope_nope", "Bearer " + secret, wrong, secret.replace("rmt_", "")):
        assert services.user_for_token(raw) is None, raw
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    assert services.user_for_token(secret) is None
    _token, other = services.create_token(user, user, name="desktop")
    user.is_active = False
    user.save()
    assert services.user_for_token(other) is None
