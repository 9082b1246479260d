"""Reference data an item names by code (its type, owner team, environment, application),
looked up once per code: a single write asks for the few it names, an import loads them all."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils.translation import gettext as _

from relman.cmdb.models import Application, CIType, Environment

# What each reference field of an item points at, and how a missing one is named.
FIELDS = {
    "type": (CIType, "code"),
    "owner_team": ("accounts.Team", "code"),
    "environment": (Environment, "code"),
    "application": (Application, "code"),
}


def missing(field: str, key: str) -> str:
    """'There is no team 'xyz'.' and its kin."""
    words = {
        "type": _("There is no item type '%s'."),
        "owner_team": _("There is no team '%s'."),
        "environment": _("There is no environment '%s'."),
        "application": _("There is no application '%s'."),
    }
    return words[field] % key


class Refs:
    """Objects by code for each reference field; `preload=True` reads every one at once."""

    def __init__(self, *, preload: bool = False) -> None:
        self.cache: dict[str, dict[str, Any]] = {name: {} for name in FIELDS}
        self.complete = preload
        if preload:
            for name in FIELDS:
                for obj in self._model(name).objects.all():
                    self.cache[name][obj.code] = obj

    @staticmethod
    def _model(name: str) -> Any:
        model, _key = FIELDS[name]
        return apps.get_model(model) if isinstance(model, str) else model

    def get(self, name: str, key: str) -> Any:
        """The object `key` names for field `name`, or None."""
        if key in self.cache[name] or self.complete:
            return self.cache[name].get(key)
        found = self._model(name).objects.filter(code=key).first()
        self.cache[name][key] = found
        return found

    def add(self, name: str, obj: Any) -> None:
        """Remember an object made meanwhile (a type an import creates)."""
        self.cache[name][obj.code] = obj
