"""Delivery by real Celery workers: the embedded one (memory://, inside this process) and
`relman worker` processes against Redis, including one killed with SIGKILL mid-send.

The `relman worker` processes must read and write the rows this test makes, so they use the
test's own database: PostgreSQL's test database as it is, or, on SQLite (whose test
database lives in this process's memory), a file copy that this process switches to for the
length of the test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connections, transaction

from relman.celery import app as celery_app
from relman.cli.server import EmbeddedWorker
from relman.notifications import services
from relman.notifications.choices import MessageStatus
from relman.notifications.models import Message

ROOT = Path(__file__).resolve().parents[2]
# A Redis database of its own for each pytest-xdist worker (gw0: 13, gw1: 14, ...), so that
# one worker's relman worker never takes another's messages.
_XDIST = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("RELMAN_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{13 + _XDIST}")

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(check: Callable[[], bool], timeout: float = 45, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


def statuses() -> Counter:
    return Counter(Message.objects.values_list("status", flat=True))


# ---------------------------------------------------------------- embedded


@pytest.fixture
def memory_broker():
    """The embedded worker runs on the in-process memory:// broker, tasks not run eagerly."""
    if not celery_app.conf.broker_url.startswith("memory://"):
        pytest.skip("RELMAN_BROKER_URL points at a real broker")
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()  # tasks earlier tests queued on commit, for rows now gone
    yield
    celery_app.conf.task_always_eager = eager


def test_the_embedded_worker_delivers_what_a_transaction_wrote(memory_broker, cast, receiver):
    services.create_subscription(None, channel="slack", target=receiver.url("/slack/ops"))
    worker = EmbeddedWorker(concurrency=2, beat=False)
    worker.start()
    try:
        with transaction.atomic():
            [slack] = [
                m
                for m in services.emit("release.deployed", cast.release, actor=cast.crew)
                if m.channel == "slack"
            ]
        wait_until(
            lambda: Message.objects.get(pk=slack.pk).status == MessageStatus.SENT,
            what="the embedded worker to send the message",
        )
    finally:
        worker.stop(timeout=10)
    [request] = receiver.to("/slack/ops")
    assert cast.release.number in request.json["text"]


# ---------------------------------------------------------------- relman worker on Redis


@pytest.fixture
def redis_url() -> Iterator[str]:
    """An empty Redis database for the broker; skipped only when Redis does not answer."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI"):  # .ci/run starts Redis: its absence there is a failure
            raise
        pytest.skip(f"needs Redis at {REDIS_URL} (CI runs one): {exc}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def shared_database(transactional_db, tmp_path) -> Iterator[str]:
    """A DATABASE_URL under which other processes see this test's rows."""
    original = connections["default"]
    settings = original.settings_dict
    if original.vendor == "postgresql":
        login = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
        host = f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
        yield f"postgres://{login}@{host}/{settings['NAME']}"
        return
    if original.vendor != "sqlite":
        pytest.skip(f"no way to share a {original.vendor} test database")
    path = tmp_path / "shared.sqlite3"
    original.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as copy:
        original.connection.backup(copy)
    switched = original.__class__({**settings, "NAME": str(path)}, "default")
    connections["default"] = switched
    try:
        yield f"sqlite:///{path}"
    finally:
        switched.close()
        connections["default"] = original


class Workers:
    """`relman worker` processes started (and killed) by a test, each in its own process
    group, with their output kept in files for when a test fails."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.running: list[subprocess.Popen] = []

    def start(self, *options: str) -> subprocess.Popen:
        log = (self.folder / f"worker-{len(self.running)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "relman.cli", "worker", "--pool", "threads", *options],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker and whatever it started: no chance to finish anything."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                self.kill(process)

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.folder.glob("worker-*.log")))


@pytest.fixture
def workers(shared_database, redis_url, smtp, settings, tmp_path) -> Iterator[Workers]:
    env = {
        **os.environ,
        "DATABASE_URL": shared_database,
        "RELMAN_BROKER_URL": redis_url,
        "RELMAN_DATA_DIR": str(tmp_path / "data"),
        "RELMAN_LANGUAGE": "en",
        "RELMAN_BASE_URL": settings.RELMAN_BASE_URL,
        "RELMAN_EMAIL_HOST": settings.EMAIL_HOST,
        "RELMAN_EMAIL_PORT": str(settings.EMAIL_PORT),
        "RELMAN_EMAIL_FROM": settings.DEFAULT_FROM_EMAIL,
        # Sweep every second; a message `sending` for 2 s belongs to a dead worker.
        "RELMAN_NOTIFY_SWEEP_SECONDS": "1",
        "RELMAN_NOTIFY_STUCK_SECONDS": "2",
        "RELMAN_NOTIFY_BACKOFF_SECONDS": "1",
        "RELMAN_LOG_LEVEL": "WARNING",
    }
    env.pop("RELMAN_TASKS_EAGER", None)
    found = Workers(env, tmp_path)
    yield found
    found.stop_all()


def publish(messages: list[Message], broker: str) -> None:
    """Queue their delivery on the broker, as a server configured with it does on commit."""
    from relman.notifications.tasks import deliver

    with celery_app.connection_for_write(broker) as connection:
        for message in messages:
            deliver.apply_async((message.pk,), connection=connection)


def test_a_relman_worker_delivers_through_redis(workers, redis_url, cast, receiver, smtp):
    services.create_subscription(
        None, channel="webhook", target=receiver.url("/hook/ops"), secret="k"
    )
    with transaction.atomic():
        messages = services.emit(
            "release.failed", cast.release, actor=cast.crew, data={"reason": "disk full"}
        )
    assert len(messages) == 3  # rita, mark, the webhook

    publish(messages, redis_url)
    workers.start("--concurrency", "2")
    try:
        wait_until(lambda: statuses() == {MessageStatus.SENT: 3}, what="3 sent messages")
    except AssertionError:
        pytest.fail(f"{statuses()}\n{workers.logs()}")

    [hook] = receiver.to("/hook/ops")
    assert "disk full" in hook.json["text"]
    assert len(smtp.to("rita@example.test")) == 1
    assert len(smtp.to("mark@example.test")) == 1
    assert "失败" in smtp.to("mark@example.test")[0]["Subject"]  # mark reads Chinese


def test_nothing_is_lost_when_the_worker_is_killed_and_restarted(
    workers, redis_url, cast, receiver, smtp
):
    services.create_subscription(None, channel="webhook", target=receiver.url("/hook/slow"))
    messages = []
    for event in ("release.scheduled", "release.deployed", "release.failed", "release.rolled_back"):
        with transaction.atomic():
            messages += services.emit(event, cast.release, actor=cast.crew)
    hooks = [m for m in messages if m.channel == "webhook"]
    assert len(messages) == 12 and len(hooks) == 4
    publish(messages, redis_url)

    # The first worker sends one message at a time; it is killed while the receiver holds
    # the first webhook request, with the other messages still queued or reserved.
    held = receiver.hold("/hook/slow")
    first = workers.start("--concurrency", "1")
    try:
        wait_until(lambda: len(receiver.to("/hook/slow")) == 1, what="the first webhook request")
    except AssertionError:
        pytest.fail(workers.logs())
    workers.kill(first)
    held.set()
    in_flight = receiver.to("/hook/slow")[0].delivery
    assert Message.objects.get(uuid=in_flight).status == MessageStatus.SENDING
    assert statuses()[MessageStatus.SENT] < 12

    # A new worker (with beat: the sweep) finishes the job: the queued messages, the one
    # whose task died with the first worker, and the one stuck in `sending`.
    workers.start("--concurrency", "2", "--beat")
    try:
        wait_until(lambda: statuses() == {MessageStatus.SENT: 12}, what="12 sent messages")
    except AssertionError:
        pytest.fail(f"{statuses()}\n{workers.logs()}")

    # Every message arrived, each under its own delivery id; only the one being sent when
    # the worker died went twice, with the same id, which receivers use to drop the repeat.
    webhook_ids = Counter(r.delivery for r in receiver.to("/hook/slow"))
    assert set(webhook_ids) == {str(m.uuid) for m in hooks}
    assert webhook_ids[in_flight] == 2
    assert all(count == 1 for uuid, count in webhook_ids.items() if uuid != in_flight)
    mail_ids = Counter(m["Message-ID"] for m in smtp.messages)
    assert len(mail_ids) == 8
    assert set(mail_ids.values()) == {1}
    stuck = Message.objects.get(uuid=in_flight)
    assert stuck.attempts == 2
