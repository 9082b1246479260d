"""Who is acting, through which channel, in which request: read by the audit log."""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from relman.core.choices import Channel


@dataclass(frozen=True)
class ActionContext:
    """Where an action comes from. Services read it when they write the audit event."""

    channel: str = Channel.SYSTEM
    request_id: str = ""


_DEFAULT = ActionContext()
_current: contextvars.ContextVar[ActionContext] = contextvars.ContextVar(
    "relman_action_context",
    default=_DEFAULT,
)


def current() -> ActionContext:
    """The context of the action under way."""
    return _current.get()


@contextlib.contextmanager
def acting_through(channel: str, request_id: str | None = None) -> Iterator[ActionContext]:
    """Mark every service call inside the block as coming through `channel`."""
    ctx = ActionContext(channel=channel, request_id=request_id or uuid.uuid4().hex)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
