"""Outbound requests to URLs a user typed: refuse internal destinations (SSRF).

A URL is allowed only when every address its host resolves to is public: not loopback,
private, link-local (cloud metadata lives there), CGNAT, multicast, reserved or unspecified.
Self-hosters list hosts they do mean to reach (an Ollama box on the LAN) in
`AGENTFLOW_EGRESS_ALLOWED_HOSTS`. The HTTP request tool (execution engine) builds on this check
and repeats it on every redirect.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from agentflow.kit.errors import AppError

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


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


async def check_url(url: str, *, allowed_hosts: list[str] | tuple[str, ...] = ()) -> None:
    """Raise EgressBlocked unless `url` is http(s) to a host that resolves only to public addresses."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError as exc:  # also an unbalanced "[" in the host
        raise EgressBlocked("Not a valid URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressBlocked("Only http and https URLs with a host are allowed")
    host = parts.hostname.lower()
    if host in {h.lower() for h in allowed_hosts}:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise EgressBlocked(f"The host {host!r} does not resolve") from exc
    addresses = {str(info[4][0]) for info in infos}
    if not addresses or not all(address_is_public(a) for a in addresses):
        raise EgressBlocked(
            f"The host {host!r} points to a private or internal address; "
            "ask your administrator to allow it (AGENTFLOW_EGRESS_ALLOWED_HOSTS)"
        )
