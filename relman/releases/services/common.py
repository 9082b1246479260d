"""What the release services share: editable fields, numbering, field checks, locking."""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.cmdb.models import Application, Environment
from relman.core import ids
from relman.core.errors import (
    Conflict,
)
from relman.releases.choices import (
    Risk,
)
from relman.releases.models import (
    Release,
    ReleaseSequence,
)

User = get_user_model()

# Fields of a release that `update_release` may change, and that the audit log shows.
EDITABLE = (
    "title",
    "description",
    "version_number",
    "environment",
    "release_manager",
    "scope",
    "impact",
    "risk",
    "backout_plan",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
)


# ---------------------------------------------------------------- numbering


class SeqPlaceholder:
    """Formats as '{seq}' so that a numbering rule without its sequence names its scope."""

    def __format__(self, spec: str) -> str:
        return "{seq}"


def allocate_number(application: Application) -> str:
    """The next release number by the numbering rule. Runs inside the creating transaction,
    holding a lock on the scope's counter, so numbers are neither skipped nor repeated."""
    rule = settings.RELMAN_RELEASE_NUMBER_FORMAT
    fields = {"year": timezone.localdate().year, "app": application.code.upper()}
    scope = rule.format(**fields, seq=SeqPlaceholder())
    counter, _created = ReleaseSequence.objects.select_for_update().get_or_create(scope=scope)
    counter.last += 1
    counter.save(update_fields=["last"])
    return rule.format(**fields, seq=counter.last)


def check_number_rule(rule: str) -> None:
    """Refuse a numbering rule without {seq} or with unknown fields."""
    names = {f for _t, f, _s, _c in string.Formatter().parse(rule) if f is not None}
    if "seq" not in names or names - {"seq", "year", "app"}:
        raise ValueError(
            "RELMAN_RELEASE_NUMBER_FORMAT needs {seq} and may use only {year} and {app}"
        )


# ---------------------------------------------------------------- reading state


def check_choice(errors: dict, field_name: str, value: Any, choices: type) -> None:
    if value not in choices.values:
        errors.setdefault(field_name, []).append(
            _("'%(value)s' is not one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(choices.values)}
        )


def resolve(model: type, errors: dict, field_name: str, value: Any, lookup: str) -> Any:
    """An object by id or key, or None with an error noted for the field."""
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    key = str(value)
    found = model.objects.filter(**ids.lookup(key, lookup)).first()
    if found is None:
        errors.setdefault(field_name, []).append(_("'%s' does not exist.") % key)
    return found


def check_fields(errors: dict, values: dict[str, Any]) -> None:
    """Checks shared by creating and editing a release."""
    for name in ("description", "version_number", "scope", "impact", "backout_plan"):
        if name in values and values[name] is None:
            values[name] = ""  # a cleared text field is empty, never NULL
    if "title" in values:
        title = (values["title"] or "").strip()
        if not title:
            errors.setdefault("title", []).append(_("A title is required."))
        elif len(title) > 200:
            errors.setdefault("title", []).append(_("At most 200 characters."))
        values["title"] = title
    if "version_number" in values and len(values["version_number"] or "") > 64:
        errors.setdefault("version_number", []).append(_("At most 64 characters."))
    if "risk" in values:
        check_choice(errors, "risk", values["risk"], Risk)
    for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
        for name in (start, end):
            if values.get(name) is not None and not isinstance(values[name], datetime):
                errors.setdefault(name, []).append(_("Not a date and time."))
        s, e = values.get(start), values.get(end)
        if isinstance(s, datetime) and isinstance(e, datetime) and e < s:
            errors.setdefault(end, []).append(_("The end is before the start."))
    if values.get("release_manager") is not None:
        manager = resolve(User, errors, "release_manager", values["release_manager"], "username")
        if manager is not None and not manager.is_active:
            errors.setdefault("release_manager", []).append(_("This user is inactive."))
        values["release_manager"] = manager
    if values.get("environment") is not None:
        values["environment"] = resolve(
            Environment, errors, "environment", values["environment"], "code"
        )


def check_revision(release: Release, revision: int | None) -> None:
    if revision is not None and revision != release.revision:
        raise Conflict(
            _(
                "Release %(number)s was changed by someone else (your revision %(yours)d, now "
                "%(now)d). Reload it and try again."
            )
            % {"number": release.number, "yours": revision, "now": release.revision}
        )


def audit_fields(release: Release, names: tuple[str, ...]) -> dict[str, Any]:
    """Field values for the audit log (foreign keys as their id)."""
    return {
        n: getattr(release, f"{n}_id" if n in ("environment", "release_manager") else n)
        for n in names
    }


# ---------------------------------------------------------------- services
