"""The outbound guard: which URLs relman may call, and that what it checks is what it
connects to (a real local HTTP server stands in for an internal service)."""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from relman.core import outbound

PUBLIC = ipaddress.ip_address("93.184.216.34")


class Internal:
    """A local HTTP server that records the Host header of every request it gets."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.redirect_to = ""
        internal = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                internal.hosts.append(self.headers.get("Host", ""))
                if internal.redirect_to and self.path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", internal.redirect_to)
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]


@pytest.fixture
def internal() -> Iterator[Internal]:
    found = Internal()
    thread = threading.Thread(target=found.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()


@pytest.fixture(autouse=True)
def _nothing_allowed(settings):
    settings.RELMAN_OUTBOUND_ALLOW = []


def resolving(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Make the guard's resolver answer from `answers` (name → addresses); the names asked."""
    asked: list[str] = []

    def fake(host: str, port: int) -> list[Any]:
        asked.append(host)
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        if host not in answers:
            raise OSError("Name or service not known")
        return [ipaddress.ip_address(a) for a in answers[host]]

    monkeypatch.setattr(outbound, "resolve", fake)
    return asked


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address"),
        ("http://127.1.2.3/hook", "127.1.2.3 is a loopback address"),
        ("http://[::1]:9000/hook", "::1 is a loopback address"),
        ("http://10.0.0.5/hook", "10.0.0.5 is a private address"),
        ("https://192.168.1.20/hook", "192.168.1.20 is a private address"),
        ("http://172.16.0.1/", "172.16.0.1 is a private address"),
        ("http://[fd00::1]/", "fd00::1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
        ("http://100.64.1.1/", "100.64.1.1 is a shared (CGNAT) address"),
        ("http://0.0.0.0:8000/", "0.0.0.0 is an unspecified address"),
        ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
        ("http://240.0.0.1/", "240.0.0.1 is a reserved address"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is a loopback address"),
        ("http://localhost:8000/hook", "localhost resolves to 127.0.0.1, a loopback address"),
    ],
)
def test_internal_addresses_are_refused_saying_why(url, words):
    problem = outbound.url_problem(url)

    assert problem is not None
    assert words in problem
    assert problem.endswith("add it to RELMAN_OUTBOUND_ALLOW to allow it.")


def test_a_name_is_refused_when_any_of_its_addresses_is_internal(monkeypatch):
    resolving(monkeypatch, {"hooks.example.org": ["93.184.216.34", "10.0.0.5"]})

    assert outbound.url_problem("https://hooks.example.org/x") == (
        "hooks.example.org resolves to 10.0.0.5, a private address; "
        "add it to RELMAN_OUTBOUND_ALLOW to allow it."
    )


@pytest.mark.parametrize("url", ["ftp://93.184.216.34/x", "file:///etc/passwd", "gopher://x/"])
def test_only_http_and_https_may_be_called(url):
    assert outbound.url_problem(url) == "Only http:// and https:// URLs may be called."


def test_public_addresses_and_names_pass(monkeypatch):
    resolving(monkeypatch, {"hooks.example.org": ["93.184.216.34", "2606:2800:220:1::1"]})

    assert outbound.url_problem("https://hooks.example.org/x") is None
    assert outbound.url_problem("http://93.184.216.34:8080/") is None


def test_a_name_that_does_not_resolve_passes_until_it_is_called(monkeypatch):
    resolving(monkeypatch, {})

    assert outbound.url_problem("https://nowhere.example.test/x") is None
    with pytest.raises(httpx.ConnectError):
        outbound.post("https://nowhere.example.test/x", content=b"{}", timeout=2)


@pytest.mark.parametrize(
    ("allow", "url"),
    [
        ("127.0.0.1/32", "http://127.0.0.1:8080/"),
        ("127.0.0.1", "http://localhost:8080/"),
        ("10.0.0.0/8", "http://10.1.2.3/"),
        ("::1/128", "http://[::1]/"),
        ("localhost", "http://localhost/"),
        ("hooks.intra.example", "http://hooks.intra.example/"),
        (".intra.example", "http://a.b.intra.example/"),
        (" 192.168.0.0/16 , hooks.intra.example ", "http://hooks.intra.example/"),
    ],
)
def test_the_allow_list_lets_addresses_and_names_through(settings, monkeypatch, allow, url):
    resolving(
        monkeypatch,
        {
            "localhost": ["127.0.0.1"],
            "127.0.0.1": ["127.0.0.1"],
            "10.1.2.3": ["10.1.2.3"],
            "::1": ["::1"],
            "hooks.intra.example": ["10.9.9.9"],
            "a.b.intra.example": ["10.9.9.8"],
        },
    )
    assert outbound.url_problem(url) is not None

    settings.RELMAN_OUTBOUND_ALLOW = allow  # as the environment gives it: comma-separated

    assert outbound.url_problem(url) is None


def test_the_allow_list_does_not_open_neighbours(settings, monkeypatch):
    resolving(monkeypatch, {"evil-intra.example": ["10.9.9.9"]})
    settings.RELMAN_OUTBOUND_ALLOW = ["127.0.0.1/32", ".intra.example"]

    assert "127.0.0.2 is a loopback address" in outbound.url_problem("http://127.0.0.2/")
    assert outbound.url_problem("http://evil-intra.example/") is not None


def test_a_refused_address_is_never_connected_to(internal):
    with pytest.raises(
        outbound.OutboundRefused, match=re.escape("127.0.0.1 is a loopback address")
    ):
        outbound.post(f"http://127.0.0.1:{internal.port}/hook", content=b"{}")

    assert internal.hosts == []


def test_an_allowed_address_is_called(settings, internal):
    settings.RELMAN_OUTBOUND_ALLOW = ["127.0.0.1/32"]

    response = outbound.post(f"http://127.0.0.1:{internal.port}/hook", content=b"{}")

    assert response.status_code == 200
    assert internal.hosts == [f"127.0.0.1:{internal.port}"]


def test_a_name_rebound_to_an_internal_address_is_refused_when_connecting(monkeypatch, internal):
    """Checked when given (public), then resolved again when called (loopback): the second
    answer is the one checked and refused, and nothing reaches the internal server."""
    answers = {"hooks.rebind.example": ["93.184.216.34"]}
    resolving(monkeypatch, answers)
    url = f"http://hooks.rebind.example:{internal.port}/hook"
    assert outbound.url_problem(url) is None

    answers["hooks.rebind.example"] = ["127.0.0.1"]

    with pytest.raises(
        outbound.OutboundRefused, match=re.escape("resolves to 127.0.0.1, a loopback")
    ):
        outbound.post(url, content=b"{}")
    assert internal.hosts == []


def test_the_connection_goes_to_the_checked_address_with_the_urls_host(
    settings, monkeypatch, internal
):
    """Resolved once: the request reaches the address the guard checked, and says the URL's
    host name in its Host header."""
    asked = resolving(monkeypatch, {"hooks.intra.example": ["127.0.0.1"]})
    settings.RELMAN_OUTBOUND_ALLOW = ["hooks.intra.example"]

    outbound.post(f"http://hooks.intra.example:{internal.port}/hook", content=b"{}")

    assert internal.hosts == [f"hooks.intra.example:{internal.port}"]
    assert asked == ["hooks.intra.example"]


def test_redirects_are_not_followed(settings, internal):
    settings.RELMAN_OUTBOUND_ALLOW = ["127.0.0.1/32"]
    internal.redirect_to = "http://169.254.169.254/latest/meta-data/"

    response = outbound.post(f"http://127.0.0.1:{internal.port}/moved", content=b"{}")

    assert response.status_code == 302
    assert internal.hosts == [f"127.0.0.1:{internal.port}"]


def test_every_hop_is_checked_when_a_caller_follows_redirects(settings, internal):
    settings.RELMAN_OUTBOUND_ALLOW = ["127.0.0.1/32"]
    internal.redirect_to = "http://10.0.0.5/next"

    with (
        outbound.client(follow_redirects=True, timeout=2) as session,
        pytest.raises(outbound.OutboundRefused, match=re.escape("10.0.0.5 is a private address")),
    ):
        session.post(f"http://127.0.0.1:{internal.port}/moved", content=b"{}")


def test_proxies_from_the_environment_are_not_used(settings, monkeypatch, internal):
    """A proxy would be what is connected to (and checked): the guard never takes one."""
    settings.RELMAN_OUTBOUND_ALLOW = ["127.0.0.1/32"]
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.5:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.0.0.5:3128")

    response = outbound.post(f"http://127.0.0.1:{internal.port}/hook", content=b"{}")

    assert response.status_code == 200
