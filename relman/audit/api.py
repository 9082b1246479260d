"""The audit log: verify the chain (auditors and administrators)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from relman.accounts.choices import BuiltinRole
from relman.audit.services import verify_chain
from relman.core import permissions
from relman.core.api import ERRORS
from relman.core.errors import PermissionDenied

router = Router(tags=["audit"])


class VerificationOut(Schema):
    ok: bool
    checked: int
    problem: str
    seq: int | None


@router.get("/verify", response={200: VerificationOut, **ERRORS}, summary="Verify the hash chain")
def verify(request: HttpRequest) -> Any:
    """Walks the whole chain and names the first event edited, removed or reordered."""
    if not permissions.holds_anywhere(request.user, BuiltinRole.AUDITOR):
        raise PermissionDenied(_("Only auditors and administrators may verify the audit log."))
    return vars(verify_chain())
