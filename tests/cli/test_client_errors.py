"""How the API client turns what a server answers into messages and exit codes.

The server here is an httpx mock, to answer what a real relman server should never answer
(a corrupted upload, an HTML page, a proxy error); the live-server tests cover the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx
import pytest

from relman.cli import client
from relman.cli.output import ExitCode


@pytest.fixture
def server(monkeypatch) -> Callable[[Callable[[httpx.Request], httpx.Response]], list]:
    """Route the client's requests to `handler`; returns the list of requests it saw."""

    def install(handler: Callable[[httpx.Request], httpx.Response]) -> list[httpx.Request]:
        seen: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return handler(request)

        monkeypatch.setattr(
            client.Api,
            "from_login",
            classmethod(
                lambda cls: cls(
                    "http://relman.test", "rmt_a_b", transport=httpx.MockTransport(record)
                )
            ),
        )
        return seen

    return install


def test_every_request_says_it_comes_from_the_cli(run, server):
    seen = server(lambda request: httpx.Response(200, json={"items": [], "next": None}))

    result = run("release", "list")

    assert result.exit_code == 0, result.output
    assert seen[0].headers["X-Relman-Client"] == "cli"
    assert seen[0].headers["Authorization"] == "Bearer rmt_a_b"
    assert "No releases match." in result.stdout


def test_an_upload_stored_with_another_checksum_is_an_error(run, server, tmp_path):
    upload = tmp_path / "plan.txt"
    upload.write_bytes(b"the plan")
    server(
        lambda request: httpx.Response(
            201, json={"number": 1, "sha256": hashlib.sha256(b"something else").hexdigest()}
        )
    )

    result = run("deliverable", "upload", "REL-1", "release_plan", str(upload))

    assert result.exit_code == ExitCode.REFUSED
    assert "The server stored a different file" in result.stderr
    assert hashlib.sha256(b"the plan").hexdigest() in result.stderr


def test_a_gate_refusal_lists_each_unmet_item_on_its_own_line(run, server):
    unmet = ["Stage 'Plan' needs the deliverable 'Plan'.", "Stage 'Plan' needs 1 approval(s)."]

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"revision": 3})
        return httpx.Response(
            422, json={"code": "gate_not_met", "detail": " ".join(unmet), "unmet": unmet}
        )

    seen = server(answer)

    result = run("release", "advance", "REL-1")

    assert result.exit_code == ExitCode.REFUSED
    assert b'"revision":3' in seen[1].content.replace(b" ", b"")
    lines = result.stderr.splitlines()
    assert "Refused: the gate of the current stage is not met." in lines
    assert [line.strip() for line in lines[1:]] == [f"• {u}" for u in unmet]


def test_an_expired_token_says_to_log_in_again(run, server):
    server(lambda request: httpx.Response(401, json={"code": "unauthenticated", "detail": "x"}))

    result = run("release", "show", "REL-1")

    assert result.exit_code == ExitCode.UNREACHABLE
    assert "run `relman login http://relman.test` again" in result.stderr


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>a wiki</html>", headers={"content-type": "text/html"}),
        httpx.Response(502, text="Bad Gateway"),
        httpx.Response(404, text="<h1>Not Found</h1>", headers={"content-type": "text/html"}),
    ],
    ids=["not relman", "proxy error", "wrong path"],
)
def test_a_server_that_is_not_relman_exits_3(run, server, response):
    server(lambda request: response)

    result = run("release", "list")

    assert result.exit_code == ExitCode.UNREACHABLE
    assert "is it the right URL, and is relman running there?" in result.stderr


def test_a_server_failure_exits_1(run, server):
    server(lambda request: httpx.Response(500, text="boom"))

    result = run("release", "list")

    assert result.exit_code == ExitCode.REFUSED
    assert "The server failed (HTTP 500)" in result.stderr


def test_a_url_without_a_scheme_is_a_usage_error(run):
    result = run("login", "relman.example.com", "--token-stdin", input="rmt_a_b\n")

    assert result.exit_code == ExitCode.USAGE
    assert "give it whole" in result.stderr


def test_a_damaged_config_file_asks_to_log_in_again(run, tmp_path):
    path = tmp_path / "config" / "config.json"
    path.parent.mkdir()
    path.write_text("{not json")

    result = run("release", "list")

    assert result.exit_code == ExitCode.UNREACHABLE
    assert "run `relman login URL` again" in result.stderr
