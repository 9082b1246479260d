"""Small builders for test data. Each goes through the services, like a real user would."""

from __future__ import annotations

import itertools
from typing import Any

from relman.accounts import services as accounts
from relman.cmdb.models import Application, Environment
from relman.processes.services import load_processes
from relman.releases import services as releases

_n = itertools.count(1)


def processes() -> None:
    """Load the shipped presets (idempotent)."""
    load_processes(files=None)


def application(code: str | None = None, process: str = "tfdl", **extra: Any) -> Application:
    code = code or f"app{next(_n)}"
    app, _created = Application.objects.get_or_create(
        code=code, defaults={"name": code.upper(), "process_name": process, **extra}
    )
    return app


def environment(code: str = "prod") -> Environment:
    env, _created = Environment.objects.get_or_create(
        code=code, defaults={"name": code, "is_production": code == "prod"}
    )
    return env


def user(
    username: str | None = None, *roles: str, app: Application | str | None = None, **extra: Any
):
    """A user holding `roles` for `app` (or for every application when app is None)."""
    made, _password = accounts.create_user(
        None, username=username or f"user{next(_n)}", password="a-Long-pass-123", **extra
    )
    for role in roles:
        accounts.assign_role(None, made, role, app.code if isinstance(app, Application) else app)
    return made


def admin(username: str = "admin"):
    return user(username, is_superuser=True)


def release(requester, app: Application, **fields: Any):
    fields.setdefault("title", "A release")
    fields.setdefault("kind", "upgrade")
    return releases.create_release(requester, application=app, **fields)
