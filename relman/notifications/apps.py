from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "relman.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        """Listen to the release services' events (docs/architecture.md, "Events")."""
        from relman.notifications import receivers
        from relman.releases import signals

        signals.release_moved.connect(receivers.announce_move, dispatch_uid="notifications.move")
