from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "relman.approvals"
    label = "approvals"
    verbose_name = _("Approvals")

    def ready(self) -> None:
        """Listen to the release services' events (docs/architecture.md, "Events")."""
        from relman.approvals import receivers
        from relman.releases import signals

        signals.release_created.connect(receivers.open_first_steps, dispatch_uid="approvals.open")
        signals.release_moved.connect(receivers.follow_move, dispatch_uid="approvals.move")
        signals.deliverable_added.connect(
            receivers.void_stale_decisions, dispatch_uid="approvals.deliverable"
        )
