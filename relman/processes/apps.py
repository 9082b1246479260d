from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


def install_gates() -> None:
    """Install the gates `settings.RELMAN_GATES` names (dotted paths of Gate classes), and
    forget the definitions parsed with the previous ones."""
    from django.conf import settings

    from relman.processes import gates, services

    gates.install(import_string(path)() for path in settings.RELMAN_GATES)
    services.forget_definitions()


def _gates_changed(setting: str, **kwargs: Any) -> None:
    if setting == "RELMAN_GATES":
        install_gates()


class ProcessesConfig(AppConfig):
    name = "relman.processes"
    label = "processes"
    verbose_name = _("Processes")

    def ready(self) -> None:
        """The gates are installed once every app's models are loaded; a test that
        overrides RELMAN_GATES gets its gates installed, and the old ones back after."""
        install_gates()
        setting_changed.connect(_gates_changed, dispatch_uid="relman.processes.gates")
