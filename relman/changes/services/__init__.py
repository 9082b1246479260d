"""The change services: the only code that changes requests for change and the changes a
release carries (DESIGN.md rule 1); split by topic, importable from here."""

from relman.changes.services.bundling import (
    change_release_changes,
    release_changes,
    release_closed,
    resolve_changes,
)
from relman.changes.services.changes import (
    approve_change,
    cancel_change,
    create_change,
    reject_change,
    submit_change,
    update_change,
)
from relman.changes.services.common import get_change
from relman.changes.services.external import refresh_external, refresh_from_tracker
from relman.changes.services.reviews import review_change, review_open
from relman.releases.services.scope import ADD, REMOVE, SET

__all__ = [
    "ADD",
    "REMOVE",
    "SET",
    "approve_change",
    "cancel_change",
    "change_release_changes",
    "create_change",
    "get_change",
    "refresh_external",
    "refresh_from_tracker",
    "reject_change",
    "release_changes",
    "release_closed",
    "resolve_changes",
    "review_change",
    "review_open",
    "submit_change",
    "update_change",
]
