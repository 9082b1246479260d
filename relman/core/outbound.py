"""The guard on every request relman makes to a URL a user gave (webhooks, chat robots, and
later deployment webhooks and health checks): no calls into the server's own network.

A URL may be called when its scheme is http or https and every address its host resolves
to is public: not loopback, link-local (the cloud metadata service 169.254.169.254
included), private (RFC 1918, fc00::/7), shared (CGNAT 100.64.0.0/10), unspecified,
multicast or reserved. RELMAN_OUTBOUND_ALLOW lists the exceptions: addresses or networks
(`127.0.0.1/32`, `10.20.0.0/16`) and host names (`hooks.intra.example`; `.intra.example`
for every name under it).

`url_problem()` answers a form or a service at the time the URL is given. `client()` makes
the requests: it resolves the host once when connecting, checks those addresses and
connects to the checked one (TLS still verifies and sends SNI for the URL's host name), so
a name that resolves to another address by then (DNS rebinding) is refused too. Redirects
are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import urllib.parse
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import httpcore
import httpx
from django.conf import settings
from django.utils.translation import gettext as _

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = ("http", "https")
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
DEFAULT_TIMEOUT = 10.0


class OutboundRefused(Exception):
    """relman will not call this URL; the message says why, in the active language."""


# ---------------------------------------------------------------- the allow list


@lru_cache(maxsize=8)
def _parse_allow(entries: tuple[str, ...]) -> tuple[tuple[Network, ...], tuple[str, ...]]:
    networks: list[Network] = []
    names: list[str] = []
    for raw in entries:
        entry = raw.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.append(entry.rstrip("."))
    return tuple(networks), tuple(names)


def allow_list() -> tuple[tuple[Network, ...], tuple[str, ...]]:
    """The networks and host names of RELMAN_OUTBOUND_ALLOW (a list, or comma-separated)."""
    value: str | Iterable[str] = getattr(settings, "RELMAN_OUTBOUND_ALLOW", ()) or ()
    entries = value.split(",") if isinstance(value, str) else value
    return _parse_allow(tuple(str(entry) for entry in entries))


def host_allowed(host: str) -> bool:
    """Whether the allow list names this host (exactly, or under a `.domain` entry)."""
    host = host.strip("[]").lower().rstrip(".")
    _networks, names = allow_list()
    return any(host == name or (name.startswith(".") and host.endswith(name)) for name in names)


def address_allowed(address: Address) -> bool:
    """Whether the allow list covers this address."""
    networks, _names = allow_list()
    return any(address.version == net.version and address in net for net in networks)


# ---------------------------------------------------------------- addresses


def _plain(address: Address) -> Address:
    """An IPv4 address written as IPv6 (::ffff:127.0.0.1) as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_kind(address: Address) -> str | None:
    """What makes an address internal, in words ('a private address'); None when public."""
    address = _plain(address)
    if address.is_unspecified:
        return _("an unspecified address")
    if address.is_loopback:
        return _("a loopback address")
    if address.is_link_local:
        return _("a link-local address")
    if address.is_multicast:
        return _("a multicast address")
    if isinstance(address, ipaddress.IPv4Address) and address in SHARED:
        return _("a shared (CGNAT) address")
    if address.is_reserved:
        return _("a reserved address")
    if address.is_private:
        return _("a private address")
    if not address.is_global:
        return _("a non-public address")
    return None


def resolve(host: str, port: int) -> list[Address]:
    """The addresses a host name (or address literal) resolves to, in the resolver's order.
    Raises OSError when it does not resolve. Tests replace this function."""
    found: list[Address] = []
    for *_rest, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


def address_problem(host: str, address: Address) -> str | None:
    """Why relman may not connect to `address` for `host`; None when it may."""
    if host_allowed(host) or address_allowed(address) or address_allowed(_plain(address)):
        return None
    kind = address_kind(address)
    if kind is None:
        return None
    try:
        literal = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        literal = None
    if literal is not None:
        return _("%(address)s is %(kind)s; add it to RELMAN_OUTBOUND_ALLOW to allow it.") % {
            "address": host.strip("[]"),
            "kind": kind,
        }
    return _(
        "%(host)s resolves to %(address)s, %(kind)s; add it to RELMAN_OUTBOUND_ALLOW to allow it."
    ) % {"host": host, "address": address, "kind": kind}


def checked_addresses(host: str, port: int) -> list[Address]:
    """Resolve a host once and check every address it has; OutboundRefused naming the first
    internal one, OSError when it does not resolve."""
    addresses = resolve(host.strip("[]"), port)
    if not addresses:
        raise OSError(_("%s resolves to no address.") % host)
    for address in addresses:
        problem = address_problem(host, address)
        if problem:
            raise OutboundRefused(problem)
    return addresses


# ---------------------------------------------------------------- URLs


def _split(url: str) -> tuple[str, int]:
    """The URL's host and port, or OutboundRefused for a scheme or host relman does not call."""
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise OutboundRefused(_("This is not a valid URL.")) from exc
    if parts.scheme.lower() not in SCHEMES:
        raise OutboundRefused(_("Only http:// and https:// URLs may be called."))
    if not host:
        raise OutboundRefused(_("The URL has no host."))
    return host, port or (443 if parts.scheme.lower() == "https" else 80)


def check_url(url: str) -> None:
    """Raise OutboundRefused when relman may not call this URL now. A host that does not
    resolve passes: it cannot be reached, and it is checked again when called."""
    host, port = _split(url)
    try:
        checked_addresses(host, port)
    except OSError:
        return


def url_problem(url: str) -> str | None:
    """Why relman may not call this URL, in the active language; None when it may. For
    the moment a user gives the URL (a subscription's target, a webhook's address)."""
    try:
        check_url(url)
    except OutboundRefused as exc:
        return str(exc)
    return None


# ---------------------------------------------------------------- making requests


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend that resolves the host itself, checks the addresses and
    connects to a checked one, so what is checked is what is connected to."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}: {exc}") from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context (certifi's CAs), made once: loading them is slow."""
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over the guarded backend; never through a proxy from the
    environment (the proxy's own address would be what is checked)."""

    def __init__(self) -> None:
        # HTTPTransport's constructor offers no way to give its pool a network backend, and
        # building its own pool is all it does: build the pool as it would, with ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(), network_backend=GuardedBackend()
        )


def client(**kwargs: Any) -> httpx.Client:
    """An httpx client whose every connection is checked by the guard and which follows no
    redirect. Requests to a refused address raise OutboundRefused."""
    kwargs.setdefault("follow_redirects", False)
    return httpx.Client(transport=GuardedTransport(), trust_env=False, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    """POST to a URL through the guard (see `client`); OutboundRefused when it may not be
    called, httpx errors as usual otherwise."""
    _split(url)
    timeout = kwargs.pop("timeout", DEFAULT_TIMEOUT)
    with client(timeout=timeout) as session:
        return session.post(url, **kwargs)
