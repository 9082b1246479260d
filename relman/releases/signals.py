"""The events the release services send, for the apps built on releases to react to.

`releases` names none of those apps: a service sends one of these Django signals, inside
its transaction, after it changed the rows and wrote the audit event; each higher app
connects its receivers explicitly in its `AppConfig.ready()` (see docs/architecture.md).
Receivers run in the same transaction, so what they write (opening approval steps, voiding
readiness reviews) commits or rolls back with the move; side effects that leave the
database (notifications) are queued by the receiver with `transaction.on_commit`.

Every signal is sent with `sender=Release` and these keyword arguments:

- `release_created`: `release`, `actor`.
- `release_moved`: `release`, `actor`, `action` (advance, return, rollback, cancel or
  close; "return" too when a rejected approval sent it back), `variant` (its flow),
  `before` (the stage it left), `reason`, and `voided` (the stages whose decisions were
  voided: the target of a return or rollback and the stages after it; else empty).
- `deliverable_added`: `release`, `actor`, `key`, `version` (its number).
"""

from __future__ import annotations

from django.dispatch import Signal

release_created = Signal()
release_moved = Signal()
deliverable_added = Signal()
