"""Fixtures of the notification tests: a real SMTP server and a real HTTP receiver, both
local, started by the tests; the people and the release that events are about."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

import relman.processes
from tests import factories
from tests.api.conftest import pytest_generate_tests  # noqa: F401  (the permission matrix)
from tests.cli.conftest import free_port, run  # noqa: F401  (`run`: the CLI fixture)

PRESETS = Path(relman.processes.__file__).resolve().parent / "presets"

# ---------------------------------------------------------------- a local SMTP server


class Mailbox:
    """What the local SMTP server received, as parsed e-mails."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list
    ) -> str:
        """Refuse addresses starting with 'bounce', as a server refuses unknown mailboxes."""
        if address.startswith("bounce"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        parsed["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self._lock:
            self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]


@pytest.fixture
def smtp(settings) -> Iterator[Mailbox]:
    """A real SMTP server on a free local port; relman's mail goes to it."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's every SMTP line
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "relman@example.test"
    try:
        yield mailbox
    finally:
        controller.stop()


# ---------------------------------------------------------------- a local HTTP receiver


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery(self) -> str:
        return self.headers.get("x-relman-delivery", "")


@dataclass
class Receiver:
    """A real HTTP server in a thread that records every POST and answers like the service
    its path names: /dingtalk and /wecom with {"errcode": 0}, /slack with "ok", anything else
    with 200. `fail(path, 500, 500)` makes the next requests to that path fail with those
    statuses; `hold(path)` keeps the next request to it waiting until `release()`."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    failures: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    held: dict[str, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail(self, path: str, *statuses: int, body: bytes = b"") -> None:
        self.failures.setdefault(path, []).extend((status, body) for status in statuses)

    def hold(self, path: str) -> threading.Event:
        self.held[path] = threading.Event()
        return self.held[path]

    def to(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path.split("?")[0] == path]

    def answer(self, path: str) -> tuple[int, bytes]:
        plain = path.split("?")[0]
        with self.lock:
            queued = self.failures.get(plain)
            if queued:
                return queued.pop(0)
        if plain.startswith(("/dingtalk", "/wecom")):
            return 200, b'{"errcode":0,"errmsg":"ok"}'
        if plain.startswith("/slack"):
            return 200, b"ok"
        return 200, b""


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            plain = self.path.split("?")[0]
            with receiver.lock:
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            held = receiver.held.pop(plain, None)
            if held is not None:
                held.wait(30)
            status, answer = receiver.answer(self.path)
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            """Quiet."""

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server on a free local port that records what it is sent."""
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.daemon_threads = True
    found.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield found
    finally:
        for event in list(found.held.values()):
            event.set()
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- people and a release


@pytest.fixture
def presets(db):
    """Only the preset these tests' application follows (tfdl): validating all of them is
    most of the cost of a test here."""
    from relman.processes.services import load_processes

    load_processes(files=[PRESETS / "tfdl.yaml"])


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    """Users are made by the dozen here."""


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.RELMAN_BASE_URL = "https://relman.example.test"


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings, monkeypatch):
    """The receivers here listen on 127.0.0.1, which the outbound guard refuses by default:
    allow it, as an operator would with RELMAN_OUTBOUND_ALLOW (the environment too, for the
    worker processes some tests start)."""
    settings.RELMAN_OUTBOUND_ALLOW = ["127.0.0.1/32"]
    monkeypatch.setenv("RELMAN_OUTBOUND_ALLOW", "127.0.0.1/32")


@dataclass
class Cast:
    """rita requests crm releases (English), mark manages them (Chinese), pam approves as
    PMO, carl works every stage, nina holds no role."""

    app: Any
    requester: Any
    manager: Any
    approver: Any
    crew: Any
    nobody: Any
    release: Any = None


@pytest.fixture
def cast(app) -> Cast:
    requester = factories.user("rita", "requester", app=app, email="rita@example.test")
    manager = factories.user(
        "mark", "release_manager", app=app, email="mark@example.test", language="zh-hans"
    )
    approver = factories.user("pam", "pmo", app=app, email="pam@example.test")
    crew = factories.crew(app, "carl")
    nobody = factories.user("nina", email="nina@example.test")
    release = factories.release(requester, app, title="Upgrade CRM", release_manager=manager.pk)
    return Cast(app, requester, manager, approver, crew, nobody, release)


def deliver_all(limit: int = 200) -> int:
    """Run the delivery task on every due message until none is left; how many ran."""
    from django.utils import timezone

    from relman.notifications.choices import MessageStatus
    from relman.notifications.models import Message
    from relman.notifications.tasks import deliver

    ran = 0
    for _round in range(limit):
        due = list(
            Message.objects.filter(
                status=MessageStatus.PENDING, next_attempt_at__lte=timezone.now()
            ).values_list("pk", flat=True)
        )
        if not due:
            break
        for pk in due:
            deliver(pk)
            ran += 1
    return ran


@pytest.fixture
def emit() -> Callable[..., list]:
    """emit(...) inside a transaction, as a service would."""
    from django.db import transaction

    from relman.notifications.services import emit as real_emit

    def call(*args: Any, **kwargs: Any) -> list:
        with transaction.atomic():
            return real_emit(*args, **kwargs)

    return call
