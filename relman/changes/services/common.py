"""What the change services share: numbering, looking a change up, checking fields."""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _

from relman.changes.choices import ChangeType, ExternalSystem, Risk
from relman.changes.models import Change, ChangeSequence
from relman.cmdb.models import Application
from relman.core import ids
from relman.core.errors import Conflict, NotFound

MAX_TITLE = 200
MAX_TEXT = 10_000
MAX_EXTERNAL_KEY = 100
MAX_EXTERNAL_STATE = 100
MAX_URL = 500
_URL = URLValidator(schemes=["http", "https"])


def allocate_number() -> str:
    """The next change number by `RELMAN_CHANGE_NUMBER_FORMAT` ({year}, {seq}). Runs inside
    the creating transaction, holding a lock on the scope's counter."""
    rule = settings.RELMAN_CHANGE_NUMBER_FORMAT
    names = {f for _t, f, _s, _c in string.Formatter().parse(rule) if f is not None}
    if "seq" not in names or names - {"seq", "year"}:
        raise ValueError("RELMAN_CHANGE_NUMBER_FORMAT needs {seq} and may use only {year}")
    year = timezone.localdate().year
    scope = rule.format(year=year, seq=_Placeholder())
    counter, _created = ChangeSequence.objects.select_for_update().get_or_create(scope=scope)
    counter.last += 1
    counter.save(update_fields=["last"])
    return rule.format(year=year, seq=counter.last)


class _Placeholder:
    """Formats as '{seq}' so that the rule without its sequence names its scope."""

    def __format__(self, spec: str) -> str:
        return "{seq}"


def get_change(key: Any, *, for_update: bool = False) -> Change:
    """A change by its number (or itself, read afresh), or NotFound naming it."""
    rows = Change.objects.select_related("requester", "application", "decided_by")
    if for_update:
        rows = rows.select_for_update(of=("self",))
    if isinstance(key, Change):
        found, text = rows.filter(pk=key.pk).first(), key.number
    else:
        text = str(key).strip()
        found = rows.filter(number=text).first() if text else None
    if found is None:
        raise NotFound(_("There is no change %s.") % text, field="change")
    return found


def check_revision(change: Change, revision: int | None) -> None:
    if revision is not None and revision != change.revision:
        raise Conflict(
            _(
                "Change %(number)s was changed by someone else (your revision %(yours)d, now "
                "%(now)d). Reload it and try again."
            )
            % {"number": change.number, "yours": revision, "now": change.revision},
            field="revision",
        )


def _refuse(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _choice(errors: dict, field: str, value: Any, choices: type) -> str:
    text = str(value or "").strip()
    if text not in choices.values:
        _refuse(
            errors,
            field,
            _("'%(value)s' is not one of: %(choices)s.")
            % {"value": text, "choices": ", ".join(choices.values)},
        )
    return text


def clean_external(values: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """The external tracker's fields among `values`: system, key, http(s) link, state and
    the time of its last update."""
    out: dict[str, Any] = {}
    if "external_system" in values:
        system = str(values["external_system"] or "").strip()
        if system:
            _choice(errors, "external_system", system, ExternalSystem)
        out["external_system"] = system
    if "external_key" in values:
        key = str(values["external_key"] or "").strip()
        if len(key) > MAX_EXTERNAL_KEY:
            _refuse(errors, "external_key", _("At most %d characters.") % MAX_EXTERNAL_KEY)
        out["external_key"] = key
    if "external_url" in values:
        url = str(values["external_url"] or "").strip()
        if url:
            if len(url) > MAX_URL:
                _refuse(errors, "external_url", _("At most %d characters.") % MAX_URL)
            else:
                try:
                    _URL(url)
                except ValidationError:
                    _refuse(
                        errors,
                        "external_url",
                        _("An http:// or https:// address is expected."),
                    )
        out["external_url"] = url
    if "external_state" in values:
        state = str(values["external_state"] or "").strip()
        if len(state) > MAX_EXTERNAL_STATE:
            _refuse(errors, "external_state", _("At most %d characters.") % MAX_EXTERNAL_STATE)
        out["external_state"] = state
    if "external_updated" in values:
        when = values["external_updated"]
        if when is not None and not isinstance(when, datetime):
            _refuse(errors, "external_updated", _("Not a date and time."))
        out["external_updated"] = when
    return out


def clean_change(
    values: dict[str, Any], errors: dict[str, list[str]], *, current: Change | None = None
) -> dict[str, Any]:
    """Check the change fields given and turn the application code into its row; each
    problem goes to `errors` under its field."""
    out: dict[str, Any] = {}
    for field, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            _refuse(errors, field, _("must not contain NUL characters"))
    if "title" in values:
        title = str(values["title"] or "").strip()
        if not title or len(title) > MAX_TITLE:
            _refuse(errors, "title", _("A title of 1 to %d characters is required.") % MAX_TITLE)
        out["title"] = title
    if "description" in values:
        text = str(values["description"] or "")
        if len(text) > MAX_TEXT:
            _refuse(errors, "description", _("At most %d characters.") % MAX_TEXT)
        out["description"] = text
    if "type" in values:
        out["type"] = _choice(errors, "type", values["type"] or ChangeType.NORMAL, ChangeType)
    if "risk" in values:
        out["risk"] = _choice(errors, "risk", values["risk"] or Risk.MEDIUM, Risk)
    if "application" in values:
        value = values["application"]
        if value is None or value == "":
            out["application"] = None
        elif isinstance(value, Application):
            out["application"] = value
        else:
            found = Application.objects.filter(**ids.lookup(str(value), "code")).first()
            if found is None:
                _refuse(errors, "application", _("There is no application '%s'.") % value)
            out["application"] = found
    for name in ("planned_start", "planned_end"):
        if name in values:
            if values[name] is not None and not isinstance(values[name], datetime):
                _refuse(errors, name, _("Not a date and time."))
            out[name] = values[name]
    start = out.get("planned_start", getattr(current, "planned_start", None))
    end = out.get("planned_end", getattr(current, "planned_end", None))
    if isinstance(start, datetime) and isinstance(end, datetime) and end < start:
        _refuse(errors, "planned_end", _("The end is before the start."))
    out.update(clean_external(values, errors))
    system = out.get("external_system", getattr(current, "external_system", ""))
    key = out.get("external_key", getattr(current, "external_key", ""))
    if key and not system:
        _refuse(errors, "external_system", _("Name the tracker the external key belongs to."))
    return out


def snapshot(change: Change, fields: tuple[str, ...]) -> dict[str, Any]:
    """The change's fields for the audit log (the application as its code)."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(change, name)
        out[name] = value.code if name == "application" and value is not None else value
    return out
