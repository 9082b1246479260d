"""Checking the signature of an external tracker's webhook call (docs/changes.md).

The tracker signs the raw body with HMAC-SHA256 and the secret both sides share
(`RELMAN_CHANGE_WEBHOOK_SECRET`), and sends `X-Relman-Signature: sha256=<hex>`. With
`X-Relman-Timestamp: <unix seconds>` it signs `<timestamp>.<body>` instead, and a call older
than `RELMAN_CHANGE_WEBHOOK_MAX_AGE_SECONDS` (or as far in the future) is refused: a
recorded call cannot be replayed later. Without a secret configured every call is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.utils.translation import gettext as _

from relman.core.errors import DomainError

SIGNATURE_HEADER = "X-Relman-Signature"
TIMESTAMP_HEADER = "X-Relman-Timestamp"


class BadSignature(DomainError):
    """The call is not signed with the shared secret (or too old to be trusted)."""

    status = 401
    code = "bad_signature"


class NotConfigured(DomainError):
    """No webhook secret is configured, so no call can be trusted."""

    status = 503
    code = "not_configured"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


def sign(secret: str, body: bytes, timestamp: str | None = None) -> str:
    """The signature header's value for a body (and timestamp): `sha256=<hex>`."""
    message = f"{timestamp}.".encode() + body if timestamp else body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_size(length: str | int | None) -> None:
    """Refuse a body larger than `RELMAN_CHANGE_WEBHOOK_MAX_BYTES` before reading it."""
    limit = settings.RELMAN_CHANGE_WEBHOOK_MAX_BYTES
    try:
        size = int(length or 0)
    except (TypeError, ValueError):
        size = 0
    if size > limit:
        raise TooLarge(_("The body is larger than %d bytes.") % limit, field="request")


def verify(
    body: bytes, signature: str | None, timestamp: str | None, now: float | None = None
) -> None:
    """Raise unless `signature` is the body's (and timestamp's) HMAC-SHA256 under the
    configured secret, compared in constant time, and the timestamp is recent."""
    secret = settings.RELMAN_CHANGE_WEBHOOK_SECRET
    if not secret:
        raise NotConfigured(
            _("The change webhook is off: RELMAN_CHANGE_WEBHOOK_SECRET is not set."),
            field="system",
        )
    check_size(len(body))
    if not signature:
        raise BadSignature(
            _("The call is not signed: send %s: sha256=<hex>.") % SIGNATURE_HEADER,
            field="signature",
        )
    if timestamp is not None:
        timestamp = timestamp.strip()
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise BadSignature(
                _("%s must be a Unix time in seconds.") % TIMESTAMP_HEADER, field="timestamp"
            )
    expected = sign(secret, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise BadSignature(_("The signature does not match the body."), field="signature")
    if timestamp is not None:
        age = (time.time() if now is None else now) - int(timestamp)
        limit = settings.RELMAN_CHANGE_WEBHOOK_MAX_AGE_SECONDS
        if abs(age) > limit:
            raise BadSignature(
                _("The call is %(age)d seconds old; at most %(limit)d are accepted.")
                % {"age": int(age), "limit": limit},
                field="timestamp",
            )
