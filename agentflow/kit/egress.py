"""Outbound requests to URLs a user typed: refuse internal destinations (SSRF).

A URL is allowed only when every address its host resolves to is public: not loopback,
private, link-local (cloud metadata lives there), CGNAT, multicast, reserved or unspecified.
Self-hosters list hosts they do mean to reach (an Ollama box on the LAN) in
`AGENTFLOW_EGRESS_ALLOWED_HOSTS`.

Checking a name and then letting the HTTP client resolve it again leaves a window: a DNS server
that answers a public address to the check and 127.0.0.1 to the connection (DNS rebinding) gets
the request inside. `PinnedEgressTransport` closes it: it resolves each request's host once,
checks those addresses, and connects to one of exactly those addresses, keeping the name for the
Host header, TLS SNI and certificate verification. The HTTP request tool (execution engine) sends
every hop, each redirect included, through it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import httpx

from agentflow.kit.errors import AppError

_CGNAT = ipaddress.ip_network("100.64.0.0/10")

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""(host, port) → the addresses to connect to, in preference order. Raises OSError if it does not resolve."""


class EgressBlocked(AppError):
    status_code = 422
    code = "URL_NOT_ALLOWED"


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer (getaddrinfo), without duplicates, in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def vet_url(
    url: str, *, allowed_hosts: Sequence[str] = (), resolver: Resolver = system_resolver
) -> tuple[str, ...]:
    """The addresses `url` may be fetched from: raise EgressBlocked unless it is http(s) to a host
    that resolves only to public addresses. Connect to these addresses, not to the name.

    An allowed host skips the public check; its addresses are returned when it resolves, and ()
    when it does not (connect by name then, as a self-hoster's resolver may know it).
    """
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError as exc:  # also an unbalanced "[" in the host
        raise EgressBlocked("Not a valid URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressBlocked("Only http and https URLs with a host are allowed")
    host = parts.hostname.lower()
    allowed = host in {h.lower() for h in allowed_hosts}
    try:
        addresses = tuple(await resolver(host, port or (443 if parts.scheme == "https" else 80)))
    except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError
        if allowed:
            return ()
        raise EgressBlocked(f"The host {host!r} does not resolve") from exc
    if allowed:
        return addresses
    if not addresses or not all(address_is_public(a) for a in addresses):
        raise EgressBlocked(
            f"The host {host!r} points to a private or internal address; "
            "ask your administrator to allow it (AGENTFLOW_EGRESS_ALLOWED_HOSTS)"
        )
    return addresses


async def check_url(url: str, *, allowed_hosts: Sequence[str] = (), resolver: Resolver = system_resolver) -> None:
    """Raise EgressBlocked unless `url` is http(s) to a host that resolves only to public addresses."""
    await vet_url(url, allowed_hosts=allowed_hosts, resolver=resolver)


def _default_transport() -> httpx.AsyncBaseTransport:
    return httpx.AsyncHTTPTransport(retries=0)


class PinnedEgressTransport(httpx.AsyncBaseTransport):
    """Sends each request only to an address the egress check approved for it, moments before.

    Per request (each redirect hop is its own request): `vet_url`, then the URL's host is replaced
    by a vetted IP, so the connection cannot resolve the name again. The Host header keeps the name
    (the client set it from the original URL), and for https the `sni_hostname` request extension
    makes TLS send the name as SNI and verify the certificate against it. If an address refuses the
    connection the next vetted one is tried. The client still reports the original URL
    (`response.request` is the request it sent).

    Connections are pooled per (scheme, host, port) of the original URL, one inner transport each:
    a single pool is keyed by the IP it dials and would reuse a TLS connection whose certificate
    was verified for one name to send requests for another name on the same address.
    """

    def __init__(
        self,
        allowed_hosts: Sequence[str] = (),
        *,
        resolver: Resolver = system_resolver,
        transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.allowed_hosts = tuple(allowed_hosts)
        self.resolver = resolver
        self._transport_factory = transport_factory or _default_transport
        self._transports: dict[tuple[str, bytes, int | None], httpx.AsyncBaseTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        addresses = await vet_url(str(request.url), allowed_hosts=self.allowed_hosts, resolver=self.resolver)
        key = (request.url.scheme, request.url.raw_host, request.url.port)
        transport = self._transports.get(key)
        if transport is None:
            transport = self._transports[key] = self._transport_factory()
        if not addresses:  # an allowed host our resolver does not know
            return await transport.handle_async_request(request)
        refused: httpx.ConnectError | None = None
        for address in addresses:
            try:
                return await transport.handle_async_request(_pinned(request, address))
            except httpx.ConnectError as error:
                refused = error
        assert refused is not None
        raise refused

    async def aclose(self) -> None:
        transports, self._transports = list(self._transports.values()), {}
        for transport in transports:
            await transport.aclose()


def _pinned(request: httpx.Request, address: str) -> httpx.Request:
    """`request`, addressed to the IP `address`; headers (Host included) and body unchanged."""
    extensions = dict(request.extensions)
    if request.url.scheme == "https":
        extensions["sni_hostname"] = request.url.raw_host.decode("ascii")
    return httpx.Request(
        request.method,
        request.url.copy_with(host=address),
        headers=request.headers,
        stream=request.stream,
        extensions=extensions,
    )
