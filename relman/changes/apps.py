from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    name = "relman.changes"
    label = "changes"
    verbose_name = _("Changes")

    def ready(self) -> None:
        """Listen to the release services' events (docs/architecture.md, "Events")."""
        from relman.changes import receivers
        from relman.releases import signals

        signals.release_moved.connect(receivers.follow_move, dispatch_uid="changes.move")
