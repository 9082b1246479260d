"""Fixtures of the `relman` command tests: a runner, and a live server with a logged-in user."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

from relman.cli import output
from relman.cli.main import app as relman_app


@pytest.fixture
def run(monkeypatch, tmp_path) -> Callable[..., Result]:
    """`run("release", "list")` runs `relman release list` in-process and returns its Result.

    The saved login lives in this test's own folder; RELMAN_URL/RELMAN_TOKEN are cleared and
    the consoles are wide, so table cells do not wrap.
    """
    monkeypatch.setenv("RELMAN_CONFIG", str(tmp_path / "config" / "config.json"))
    monkeypatch.setenv("RELMAN_LANGUAGE", "en")
    for name in ("RELMAN_URL", "RELMAN_TOKEN", "RELMAN_UTC"):  # `--utc` sets the last one
        monkeypatch.delenv(name, raising=False)
    for console in (output.out, output.err):
        monkeypatch.setattr(console, "_width", 200)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(relman_app, list(args), input=input)

    return invoke


def free_port() -> int:
    """A TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
