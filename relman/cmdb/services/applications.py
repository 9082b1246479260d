"""Applications: created and changed only here, audited like every other change."""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils.translation import gettext as _

from relman.audit import services as audit
from relman.cmdb.models import Application
from relman.core.errors import NotFound, PermissionDenied, ValidationFailed, raise_if_invalid

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _require_admin(actor: Any) -> None:
    if actor is not None and not getattr(actor, "is_superuser", False):
        raise PermissionDenied(_("Only administrators may manage applications."))


def _check_process(errors: dict[str, list[str]], process: str) -> None:
    """The process must be loaded. Processes sit a layer above the CMDB, so their model is
    named by its app label, as a ForeignKey names a model of another app."""
    ProcessVersion = apps.get_model("processes", "ProcessVersion")
    if not ProcessVersion.objects.filter(name=process).exists():
        names = sorted(set(ProcessVersion.objects.values_list("name", flat=True)))
        errors.setdefault("process", []).append(
            _("There is no process named '%(name)s'. Processes: %(names)s.")
            % {"name": process, "names": ", ".join(names) or "-"}
        )


def create_application(
    actor: Any, *, code: str, name: str, process: str, description: str = ""
) -> Application:
    """Register an application and the process its releases follow."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    code, name = (code or "").strip().lower(), (name or "").strip()
    if not CODE.match(code):
        errors["code"] = [_("Use 1 to 40 lower-case letters, digits, '-' or '_'.")]
    elif Application.objects.filter(code=code).exists():
        errors["code"] = [_("The code '%s' is taken.") % code]
    if not name or len(name) > 200:
        errors["name"] = [_("A name of 1 to 200 characters is required.")]
    _check_process(errors, process)
    raise_if_invalid(errors)
    with transaction.atomic():
        app = Application.objects.create(
            code=code, name=name, process_name=process, description=description
        )
        audit.record(
            actor,
            "application.created",
            app,
            after={"code": code, "name": name, "process": process},
        )
    return app


def set_process(actor: Any, code: str, process: str) -> Application:
    """Point an application at another process; releases already open keep theirs."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    _check_process(errors, process)
    if errors:
        raise ValidationFailed(errors["process"][0], errors=errors)
    with transaction.atomic():
        app = Application.objects.select_for_update().filter(code=code).first()
        if app is None:
            raise NotFound(_("There is no application '%s'.") % code, field="code")
        before = app.process_name
        app.process_name = process
        app.save(update_fields=["process_name", "updated"])
        audit.record(
            actor,
            "application.changed",
            app,
            before={"process_name": before},
            after={"process_name": process},
        )
    return app
