"""`relman serve` and its embedded background worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from celery.signals import task_postrun

from relman.celery import app as celery_app
from relman.cli.server import EmbeddedWorker
from tests.cli.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def memory_broker():
    """The embedded worker runs on the in-process memory:// broker, tasks not run eagerly."""
    if not celery_app.conf.broker_url.startswith("memory://"):
        pytest.skip("RELMAN_BROKER_URL points at a real broker")
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = eager


def test_the_embedded_worker_runs_a_queued_task_and_stops(memory_broker, tmp_path):
    from relman.audit.tasks import ping

    ran: list[tuple[str, str]] = []
    done = threading.Event()

    def on_postrun(sender=None, retval=None, **kwargs):
        if sender is not None and sender.name == ping.name:
            ran.append((retval, threading.current_thread().name))
            done.set()

    task_postrun.connect(on_postrun, weak=False)
    worker = EmbeddedWorker(concurrency=2, beat=True, data_dir=tmp_path)
    try:
        worker.start()
        assert worker.running
        assert worker.beat_running
        ping.delay()
        assert done.wait(15), "the embedded worker did not run the task"
    finally:
        worker.stop(timeout=10)
        task_postrun.disconnect(on_postrun)

    [(answer, thread)] = ran
    assert answer == "pong"
    assert thread != threading.main_thread().name  # a worker thread ran it, not .delay()
    assert not worker.running
    assert not worker.beat_running


def test_beat_runs_in_one_process_per_data_directory(tmp_path):
    first, second = EmbeddedWorker(data_dir=tmp_path), EmbeddedWorker(data_dir=tmp_path)

    assert first._lock_beat()
    try:
        assert not second._lock_beat()
    finally:
        first.stop()
    assert second._lock_beat()
    second.stop()


def _relman(*args: str) -> list[str]:
    return [sys.executable, "-m", "relman.cli", *args]


def test_serve_answers_and_stops_cleanly_on_sigterm(tmp_path):
    env = {**os.environ, "RELMAN_DATA_DIR": str(tmp_path), "RELMAN_LANGUAGE": "en"}
    for name in ("DATABASE_URL", "RELMAN_BROKER_URL", "RELMAN_TASKS_EAGER", "SECRET_KEY"):
        env.pop(name, None)
    setup = subprocess.run(
        _relman("setup"), env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert setup.returncode == 0, setup.stderr
    port = free_port()
    server = subprocess.Popen(
        _relman("serve", "--embedded-worker"),
        env={**env, "RELMAN_PORT": str(port)},  # the port from the environment
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json").status_code
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if status == 200:
                break
        assert status == 200, server.stderr.read() if server.poll() is not None else status
        server.send_signal(signal.SIGTERM)
        stdout, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, stderr
    assert f"relman at http://127.0.0.1:{port}" in stdout
    assert "embedded worker on" in stdout
    assert "Embedded worker ready" in stderr
    assert "Traceback" not in stderr and "WARNING" not in stderr, stderr


def test_serve_refuses_a_database_that_is_not_set_up(tmp_path):
    env = {**os.environ, "RELMAN_DATA_DIR": str(tmp_path), "RELMAN_LANGUAGE": "en"}
    env.pop("DATABASE_URL", None)

    result = subprocess.run(
        _relman("serve", "--port", str(free_port())),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "run `relman setup` first" in result.stderr
