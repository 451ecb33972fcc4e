"""DNS-rebinding-safe egress: the http.request tool connects to the exact address the egress check
approved, keeps the name for the Host header, TLS SNI and certificate verification, and checks and
pins again on every redirect. The allowlist for self-hosters keeps working.

The DNS server is a resolver function the production code takes as a parameter (`RebindingDNS`
answers a public address first and an internal one afterwards, like a hostile TTL-0 server). The
internal target is a real HTTP server on 127.0.0.1 that records every request it gets: the tests
fail if it is ever reached. Where a connection must go to a *public* address, `PublicInternet`
(a test transport given through the tool's transport factory) answers for those addresses so no
packet leaves the machine, and hands every other destination to a real httpx transport, i.e. a
real socket — which is how an unpinned connection to `localhost` would reach the internal server.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agentflow.engine.tools import RetryableToolError, ToolContext, ToolError
from agentflow.engine.tools.http_request import HttpRequestTool
from agentflow.kit.egress import EgressBlocked, PinnedEgressTransport, check_url, vet_url

PUBLIC = "1.1.1.1"
OTHER_PUBLIC = "8.8.4.4"
CERTIFICATE_REJECTED = r"CERTIFICATE_VERIFY_FAILED|[Hh]ostname mismatch"
PUBLIC_V6 = "2606:4700:4700::1111"


# ---------------------------------------------------------------------------------------------------
# A hostile DNS server, real local servers, a stand-in for the public internet.


class RebindingDNS:
    """Answers each name from a script: the first query gets the first answer, later queries the
    next ones (the last repeats). A name without a script does not resolve."""

    def __init__(self, script: dict[str, list[list[str]]]) -> None:
        self.script = script
        self.queries: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        asked = self.queries.count(host)
        self.queries.append(host)
        answers = self.script.get(host)
        if answers is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[min(asked, len(answers) - 1)]


@dataclass
class Hit:
    path: str
    host_header: str


@dataclass
class LocalServer:
    name: str
    address: str
    port: int
    hits: list[Hit] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)


def start_server(
    name: str, address: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> tuple[ThreadingHTTPServer, LocalServer]:
    record = LocalServer(name, address, port)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: lets a test see whether a connection is reused

        def do_GET(self) -> None:
            record.hits.append(Hit(self.path, self.headers.get("Host", "")))
            if self.path.startswith("/redirect?to="):
                self.send_response(302)
                self.send_header("Location", self.path.removeprefix("/redirect?to="))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = json.dumps({"served_by": name, "host": self.headers.get("Host")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    record.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, record


def stop(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


@pytest.fixture
def internal() -> Iterator[LocalServer]:
    """The internal service a rebinding attack wants to reach (cloud metadata, an admin API)."""
    server, record = start_server("internal")
    yield record
    stop(server)


Site = Callable[[httpx.Request], httpx.Response]


class PublicInternet(httpx.AsyncBaseTransport):
    """Answers requests dialled to the public addresses in `sites` itself; any other destination
    goes to a real httpx transport (a real socket). Every request it is handed is logged."""

    def __init__(self, sites: dict[str, Site], dialled: list[httpx.Request]) -> None:
        self.sites = sites
        self.dialled = dialled
        self.real = httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.dialled.append(request)
        site = self.sites.get(request.url.host)
        if site is not None:
            return site(request)
        return await self.real.handle_async_request(request)

    async def aclose(self) -> None:
        await self.real.aclose()


def public_site(name: str, redirects: dict[str, str] | None = None) -> Site:
    def answer(request: httpx.Request) -> httpx.Response:
        location = (redirects or {}).get(request.url.path)
        if location is not None:
            return httpx.Response(302, headers={"Location": location})
        return httpx.Response(200, json={"served_by": name, "host": request.headers["host"]})

    return answer


async def fetch(tool: HttpRequestTool, url: str, allowed_hosts: tuple[str, ...] = ()) -> dict[str, Any]:
    params = tool.params_model.model_validate({"url": url, "timeout_seconds": 5})
    ctx = ToolContext(uuid.uuid4(), uuid.uuid4(), "fetch", None, 5.0, allowed_hosts)
    return await tool.run(params, ctx)


# ---------------------------------------------------------------------------------------------------
# The threat: a public answer for the check, an internal one for the connection.


async def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(internal: LocalServer) -> None:
    # "localhost" really resolves to 127.0.0.1 through the operating system too, so a client that
    # looked the name up again (or connected by name) would land on the internal server.
    dns = RebindingDNS({"localhost": [[PUBLIC], ["127.0.0.1"]]})
    dialled: list[httpx.Request] = []
    tool = HttpRequestTool(
        resolver=dns, transport_factory=lambda: PublicInternet({PUBLIC: public_site("public")}, dialled)
    )
    result = await fetch(tool, f"http://localhost:{internal.port}/data")

    assert internal.hits == [], "the request reached the internal server"
    assert result["body"] == {"served_by": "public", "host": f"localhost:{internal.port}"}
    assert dns.queries == ["localhost"], "the name was resolved more than once for one request"
    assert [(r.url.host, r.url.port, r.headers["host"]) for r in dialled] == [
        (PUBLIC, internal.port, f"localhost:{internal.port}")
    ]
    assert result["url"] == f"http://localhost:{internal.port}/data"  # reported under its name


async def test_each_redirect_is_checked_and_pinned_again(internal: LocalServer) -> None:
    port = internal.port
    dns = RebindingDNS({"localhost": [[PUBLIC], ["127.0.0.1"]], "b.example": [[OTHER_PUBLIC]]})
    dialled: list[httpx.Request] = []
    sites = {
        PUBLIC: public_site("public", {"/hop": "http://b.example/landing", "/again": "/data"}),
        OTHER_PUBLIC: public_site("other"),
    }
    tool = HttpRequestTool(resolver=dns, transport_factory=lambda: PublicInternet(sites, dialled))

    # To another public host: pinned to that host's own vetted address, reported under its name.
    result = await fetch(tool, f"http://localhost:{port}/hop")
    assert result["body"] == {"served_by": "other", "host": "b.example"}
    assert result["url"] == "http://b.example/landing"
    assert [(r.url.host, r.headers["host"]) for r in dialled] == [
        (PUBLIC, f"localhost:{port}"),
        (OTHER_PUBLIC, "b.example"),
    ]

    # Back to the same name, which now answers 127.0.0.1: the second hop is refused.
    dns.queries.clear()
    dialled.clear()
    with pytest.raises(ToolError, match="private or internal") as raised:
        await fetch(tool, f"http://localhost:{port}/again")
    assert raised.value.code == "URL_NOT_ALLOWED"
    assert dns.queries == ["localhost", "localhost"]
    assert [r.url.host for r in dialled] == [PUBLIC]
    assert internal.hits == []


async def test_ipv6_addresses_are_dialled_in_brackets_with_the_name_kept() -> None:
    dns = RebindingDNS({"v6.example": [[PUBLIC_V6]]})
    dialled: list[httpx.Request] = []
    tool = HttpRequestTool(
        resolver=dns, transport_factory=lambda: PublicInternet({PUBLIC_V6: public_site("v6")}, dialled)
    )
    result = await fetch(tool, "http://v6.example:8080/x?y=1")
    assert result["body"] == {"served_by": "v6", "host": "v6.example:8080"}
    assert [str(r.url) for r in dialled] == [f"http://[{PUBLIC_V6}]:8080/x?y=1"]


async def test_an_answer_mixing_public_and_internal_addresses_is_refused(internal: LocalServer) -> None:
    dns = RebindingDNS({"mixed.example": [[PUBLIC, "127.0.0.1"]]})
    with pytest.raises(ToolError, match="private or internal"):
        await fetch(HttpRequestTool(resolver=dns), f"http://mixed.example:{internal.port}/data")
    assert internal.hits == []


# ---------------------------------------------------------------------------------------------------
# Real sockets: allowed hosts (self-hosters) are pinned too, so the tests can watch real connections.


@pytest.fixture
def two_servers() -> Iterator[tuple[LocalServer, LocalServer]]:
    """One server on 127.0.0.1 and one on 127.0.0.2, on the same port."""
    for _ in range(20):
        first, first_record = start_server("first", "127.0.0.1")
        try:
            second, second_record = start_server("second", "127.0.0.2", first_record.port)
        except OSError:  # that port is taken on 127.0.0.2: try another
            stop(first)
            continue
        yield first_record, second_record
        stop(first)
        stop(second)
        return
    pytest.fail("no port free on both 127.0.0.1 and 127.0.0.2")


async def test_allowed_hosts_connect_to_the_resolved_address_over_real_sockets(
    two_servers: tuple[LocalServer, LocalServer],
) -> None:
    first, second = two_servers
    url = f"http://svc.pinned.test:{first.port}/data"
    dns = RebindingDNS({"svc.pinned.test": [["127.0.0.1"], ["127.0.0.2"]]})
    tool = HttpRequestTool(resolver=dns)

    # Not allowed: internal addresses are refused, and nothing is contacted.
    with pytest.raises(ToolError, match="private or internal"):
        await fetch(tool, url)
    assert first.hits == [] and second.hits == []

    # Allowed (case-insensitively): the connection goes to the first answer, never the later one.
    dns.queries.clear()
    dns.script["svc.pinned.test"] = [["127.0.0.1"], ["127.0.0.2"]]
    result = await fetch(tool, url, allowed_hosts=("SVC.pinned.test",))
    assert result["body"] == {"served_by": "first", "host": f"svc.pinned.test:{first.port}"}
    assert result["url"] == url
    assert first.hits == [Hit("/data", f"svc.pinned.test:{first.port}")]
    assert second.hits == []
    assert dns.queries == ["svc.pinned.test"]


async def test_an_address_that_refuses_falls_through_to_the_next_vetted_one(
    two_servers: tuple[LocalServer, LocalServer],
) -> None:
    first, _ = two_servers
    dns = RebindingDNS({"svc.pinned.test": [["127.0.0.3", "127.0.0.1"]]})  # nothing listens on .3
    result = await fetch(
        HttpRequestTool(resolver=dns), f"http://svc.pinned.test:{first.port}/data", ("svc.pinned.test",)
    )
    assert result["body"]["served_by"] == "first"
    dns = RebindingDNS({"svc.pinned.test": [["127.0.0.3"]]})
    with pytest.raises(RetryableToolError) as raised:
        await fetch(HttpRequestTool(resolver=dns), f"http://svc.pinned.test:{first.port}/data", ("svc.pinned.test",))
    assert raised.value.code == "CONNECTION"


async def test_an_allowed_host_our_resolver_does_not_know_is_reached_by_name(internal: LocalServer) -> None:
    dns = RebindingDNS({})  # e.g. a name only the self-hoster's network resolves
    result = await fetch(HttpRequestTool(resolver=dns), f"http://localhost:{internal.port}/data", ("localhost",))
    assert result["body"]["served_by"] == "internal"
    with pytest.raises(ToolError, match="does not resolve"):
        await fetch(HttpRequestTool(resolver=dns), f"http://localhost:{internal.port}/data")


async def test_default_resolver_blocks_loopback_and_the_allowlist_opens_it(internal: LocalServer) -> None:
    url = f"http://localhost:{internal.port}/data"
    with pytest.raises(ToolError, match="private or internal"):
        await fetch(HttpRequestTool(), url)
    assert internal.hits == []
    result = await fetch(HttpRequestTool(), url, ("localhost",))
    assert result["body"] == {"served_by": "internal", "host": f"localhost:{internal.port}"}


async def test_vet_url_returns_the_addresses_to_connect_to() -> None:
    assert await vet_url("https://1.1.1.1/x") == ("1.1.1.1",)
    dns = RebindingDNS({"a.example": [[PUBLIC, OTHER_PUBLIC, PUBLIC]]})
    assert await vet_url("https://a.example/", resolver=dns) == (PUBLIC, OTHER_PUBLIC, PUBLIC)
    for url in ("ftp://a.example/", "http:///path", "http://a.example:99999/", "http://[::1/"):
        with pytest.raises(EgressBlocked):
            await vet_url(url, resolver=dns)
    for address in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "100.64.0.1", "::1", "::ffff:10.0.0.1", "0.0.0.0"):  # noqa: S104
        dns = RebindingDNS({"a.example": [[address]]})
        with pytest.raises(EgressBlocked, match="private or internal"):
            await check_url("http://a.example/", resolver=dns)
        assert await vet_url("http://a.example/", allowed_hosts=["A.example"], resolver=dns) == (address,)


# ---------------------------------------------------------------------------------------------------
# TLS: SNI and certificate verification use the name, while the socket goes to the vetted IP.


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @classmethod
    def create(cls) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AgentFlow test CA")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def server_context(self, directory: Path, dns_name: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        cert_file, key_file = directory / f"{dns_name}.crt", directory / f"{dns_name}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[LocalServer, ssl.SSLContext]]:
    """An HTTPS server on 127.0.0.1 whose certificate names only api.pinned.test; it records the SNI
    each client sent. Yields it and a client context that trusts its CA."""
    authority = Authority.create()
    context = authority.server_context(tmp_path, "api.pinned.test")
    seen: list[str | None] = []

    def record_sni(connection: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
        seen.append(name)

    context.sni_callback = record_sni
    server, record = start_server("tls", tls=context)
    record.sni = seen
    yield record, ssl.create_default_context(cadata=authority.pem)
    stop(server)


async def test_tls_sends_the_name_as_sni_and_verifies_the_certificate_against_it(
    tls_server: tuple[LocalServer, ssl.SSLContext],
) -> None:
    server, trust = tls_server
    dns = RebindingDNS({"api.pinned.test": [["127.0.0.1"]], "other.pinned.test": [["127.0.0.1"]]})
    allowed = ("api.pinned.test", "other.pinned.test")
    tool = HttpRequestTool(resolver=dns, transport_factory=lambda: httpx.AsyncHTTPTransport(retries=0, verify=trust))

    # The certificate names api.pinned.test, not 127.0.0.1: this works only if TLS used the name.
    result = await fetch(tool, f"https://api.pinned.test:{server.port}/data", allowed)
    assert result["body"] == {"served_by": "tls", "host": f"api.pinned.test:{server.port}"}
    assert server.sni == ["api.pinned.test"]

    # Same address, a name the certificate does not cover: verification fails, nothing is sent.
    server.hits.clear()
    with pytest.raises(RetryableToolError, match=CERTIFICATE_REJECTED):
        await fetch(tool, f"https://other.pinned.test:{server.port}/data", allowed)
    assert server.hits == []
    assert server.sni[-1] == "other.pinned.test"


async def test_connections_are_pooled_by_name_so_each_name_gets_its_certificate_checked(
    tls_server: tuple[LocalServer, ssl.SSLContext],
) -> None:
    """Pooled by IP, the kept-alive connection verified for api.pinned.test would carry the request for
    other.pinned.test (same address) without its certificate ever being checked."""
    server, trust = tls_server
    dns = RebindingDNS({"api.pinned.test": [["127.0.0.1"]], "other.pinned.test": [["127.0.0.1"]]})
    transport = PinnedEgressTransport(
        ("api.pinned.test", "other.pinned.test"),
        resolver=dns,
        transport_factory=lambda: httpx.AsyncHTTPTransport(retries=0, verify=trust),
    )
    async with httpx.AsyncClient(transport=transport, timeout=5) as client:
        first = await client.get(f"https://api.pinned.test:{server.port}/data")
        assert first.json() == {"served_by": "tls", "host": f"api.pinned.test:{server.port}"}
        again = await client.get(f"https://api.pinned.test:{server.port}/data")  # kept alive: no new handshake
        assert again.status_code == 200 and server.sni == ["api.pinned.test"]
        with pytest.raises(httpx.ConnectError, match=CERTIFICATE_REJECTED):
            await client.get(f"https://other.pinned.test:{server.port}/data")
    assert server.sni == ["api.pinned.test", "other.pinned.test"]
    assert [hit.host_header for hit in server.hits] == [f"api.pinned.test:{server.port}"] * 2
