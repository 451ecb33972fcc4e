"""The live execution stream (WS /executions/{id}/stream) and its SSE twin (GET /executions/{id}/events),
end to end: two real uvicorn processes on the test stack, the real Celery worker running the
agents, and real WebSocket (`websockets`) and SSE (`httpx` streaming) clients on 127.0.0.1.

The servers run with a 0.5 s heartbeat, a 50-event client queue and 3 s tickets, so idle
heartbeats, slow clients and ticket expiry show within a test's time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from agentflow.executions.events import RedisEventSink
from agentflow.kit.db import Database, libpq_url
from tests.api_fixtures import API, OrgWorld, assert_error, create_api_key, make_org_world, signup
from tests.engine.graphs import definition, edge, node
from tests.executions.flows import approval_flow, execute, published_agent, stored_events, wait_for

ROOT = Path(__file__).resolve().parents[2]
SUBPROTOCOL = "agentflow.v1"
HEARTBEAT = 0.5
CLIENT_QUEUE = 50
TICKET_TTL = 3
HIGH_LIMIT = "1000000/minute"
TERMINAL = {"execution.completed", "execution.failed", "execution.cancelled"}


# -- servers -------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_server(name: str, env: dict[str, str], log_dir: Path) -> Server:
    port = _free_port()
    log_path = log_dir / f"{name}.log"
    command = [sys.executable, "-m", "uvicorn", "agentflow.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.http}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            _stop(server)
            raise RuntimeError(f"{name} not ready: {log_path.read_text()[-3000:]}")
        time.sleep(0.1)


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="module")
def servers(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Two API processes on the worker's broker and Redis: what one publishes, both must deliver."""
    env = {
        **os.environ,
        **worker_env,
        "AGENTFLOW_ENVIRONMENT": "test",
        "AGENTFLOW_LOG_LEVEL": "WARNING",
        "AGENTFLOW_RATE_LIMIT_ORG": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_API_KEY": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_AUTH_IP": HIGH_LIMIT,
        "AGENTFLOW_RATE_LIMIT_AUTH_ACCOUNT": HIGH_LIMIT,
        "AGENTFLOW_STREAM_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "AGENTFLOW_STREAM_CLIENT_QUEUE": str(CLIENT_QUEUE),
        "AGENTFLOW_STREAM_TICKET_TTL_SECONDS": str(TICKET_TTL),
    }
    log_dir = tmp_path_factory.mktemp("stream-servers")
    started: list[Server] = []
    try:
        started.append(_start_server("api-a", env, log_dir))
        started.append(_start_server("api-b", env, log_dir))
        yield started[0], started[1]
    finally:
        for server in started:
            _stop(server)
        if os.environ.get("AGENTFLOW_SHOW_WORKER_LOG"):
            for server in started:
                print(server.log_path.read_text())


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def api(servers: tuple[Server, Server]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=servers[0].http, timeout=30) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(api: httpx.AsyncClient) -> OrgWorld:
    return await make_org_world(api)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stepped_agent(api: httpx.AsyncClient, world: OrgWorld) -> str:
    return await published_agent(api, world.owner, stepped_flow())


def stepped_flow() -> dict[str, Any]:
    """Events arrive over ~1.5 s: a template, a 1 s delay (live events after connecting), a chat
    answered word by word (step.token events), another template."""
    nodes = [
        node("start", "trigger.manual"),
        node("greet", "transform.template", {"template": "Hello {{trigger.data.name}}"}),
        node("pause", "logic.delay", {"seconds": 1}),
        node("chat", "ai.chat", {"model": "scripted-echo", "prompt": "one two three four five six"}),
        node("done", "transform.template", {"template": "done"}),
    ]
    return definition(nodes, [edge(a["id"], b["id"]) for a, b in itertools.pairwise(nodes)])


# -- clients -------------------------------------------------------------------------------------


def ws_connect(
    server: Server,
    execution_id: str,
    *,
    token: str | None = None,
    api_key: str | None = None,
    ticket: str | None = None,
    last_seq: int | str | None = None,
    subprotocols: list[str] | None = None,
    **options: Any,
) -> connect:
    query = {k: str(v) for k, v in {"ticket": ticket, "last_seq": last_seq}.items() if v is not None}
    url = f"{server.ws}{API}/executions/{execution_id}/stream"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    if subprotocols is None:
        subprotocols = [SUBPROTOCOL, f"bearer.{token}"] if token else [SUBPROTOCOL]
    return connect(
        url,
        subprotocols=[Subprotocol(p) for p in subprotocols],
        additional_headers={"X-API-Key": api_key} if api_key else None,
        open_timeout=10,
        max_size=2**24,
        compression=None,
        **options,
    )


@dataclass
class Received:
    messages: list[dict[str, Any]]
    code: int | None
    reason: str

    @property
    def snapshot(self) -> dict[str, Any]:
        assert self.messages and self.messages[0]["type"] == "snapshot", self.messages[:1]
        return self.messages[0]

    @property
    def events(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] not in ("snapshot", "error")]

    @property
    def seqs(self) -> list[int]:
        return [m["seq"] for m in self.events]


async def read_all(ws: ClientConnection, *, limit: float = 60, stop_after_seq: int | None = None) -> Received:
    """Messages until the server closes (or, with `stop_after_seq`, until that event arrived)."""
    messages: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(limit):
            while True:
                messages.append(json.loads(await ws.recv()))
                last = messages[-1]
                if stop_after_seq is not None and last.get("seq") == stop_after_seq and last["type"] != "snapshot":
                    return Received(messages, None, "")
    except ConnectionClosed as closed:
        return Received(messages, closed.rcvd.code if closed.rcvd else None, closed.rcvd.reason if closed.rcvd else "")
    except TimeoutError:
        return Received(messages, None, "STILL OPEN")  # fails every assertion on the close, visibly


async def refused(connecting: connect) -> Received:
    """A connection the server closes at once: what arrived (must be nothing) and the close."""
    async with connecting as ws:
        return await read_all(ws, limit=15)


@dataclass
class SseMessage:
    id: str | None
    event: str | None
    data: str

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.data)
        return parsed


@dataclass
class SseStream:
    messages: list[SseMessage]
    comments: list[str]


async def read_sse(response: httpx.Response) -> SseStream:
    """Parse a text/event-stream body until the server ends it."""
    messages: list[SseMessage] = []
    comments: list[str] = []
    fields: dict[str, str] = {}
    data: list[str] = []
    async with asyncio.timeout(60):
        async for line in response.aiter_lines():
            if line == "":
                if data:
                    messages.append(SseMessage(fields.get("id"), fields.get("event"), "\n".join(data)))
                fields, data = {}, []
            elif line.startswith(":"):
                comments.append(line)
            else:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    data.append(value)
                else:
                    fields[name] = value
    return SseStream(messages, comments)


def sse_headers(headers: dict[str, str], **extra: str) -> dict[str, str]:
    return {**headers, "Accept": "text/event-stream", **extra}


async def run(api: httpx.AsyncClient, world: OrgWorld, agent_id: str) -> str:
    return await execute(api, world.owner.headers, agent_id, {"name": "Stream"})


async def waiting_for_approval(api: httpx.AsyncClient, world: OrgWorld) -> str:
    """An execution parked at an approval: nothing publishes on its channel but the test."""
    agent_id = await published_agent(api, world.owner, approval_flow())
    execution_id = await run(api, world, agent_id)
    await wait_for(api, world.owner.headers, execution_id, {"waiting_approval"})
    return execution_id


async def wait_for_event(stack: Any, org_id: str, execution_id: str, kind: str, limit: float = 30) -> int:
    """The seq of the first stored event of this type, once there is one."""
    deadline = time.monotonic() + limit
    while True:
        for seq, stored in stored_events(stack, org_id, execution_id):
            if stored == kind:
                return seq
        assert time.monotonic() < deadline, f"no {kind} event: {stored_events(stack, org_id, execution_id)}"
        await asyncio.sleep(0.05)


def assert_complete_run(received: Received, stored: list[tuple[int, str]], *, first: int = 1) -> None:
    """Events `first`..last in order, without a gap or a duplicate, as stored, ending with the
    terminal event and a normal close."""
    assert received.code == 1000, (received.code, received.reason, received.messages[-3:])
    assert received.reason == "EXECUTION_FINISHED"
    assert received.seqs == list(range(first, first + len(received.seqs))), received.seqs
    assert [(m["seq"], m["type"]) for m in received.events] == [s for s in stored if s[0] >= first]
    assert received.events[-1]["type"] in TERMINAL


# -- order, snapshot, resume -----------------------------------------------------------------------


async def test_every_event_arrives_in_order_then_the_stream_closes(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, stepped_agent: str, stack: Any
) -> None:
    execution_id = await run(api, world, stepped_agent)
    async with ws_connect(servers[0], execution_id, token=world.viewer.token, last_seq=0) as ws:
        # The server selects our protocol and never echoes the token offered beside it.
        assert ws.subprotocol == SUBPROTOCOL
        assert ws.response is not None
        assert ws.response.headers["Sec-WebSocket-Protocol"] == SUBPROTOCOL
        assert world.viewer.token not in str(ws.response.headers)
        received = await read_all(ws)
    assert received.snapshot["execution"]["id"] == execution_id
    stored = stored_events(stack, world.org_id, execution_id)
    assert_complete_run(received, stored)
    kinds = [m["type"] for m in received.events]
    assert kinds[0] == "execution.started" and kinds[-1] == "execution.completed"
    tokens = [m["data"]["delta"] for m in received.events if m["type"] == "step.token"]
    assert "".join(tokens).split() == ["one", "two", "three", "four", "five", "six"]
    assert all(m["execution_id"] == execution_id and m["at"] for m in received.events)


async def test_the_snapshot_and_the_live_events_join_without_gap_or_duplicate(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, stepped_agent: str, stack: Any
) -> None:
    execution_id = await run(api, world, stepped_agent)
    # Connect while the run waits in its 1 s delay: some events are stored, more are to come.
    await wait_for_event(stack, world.org_id, execution_id, "step.started")
    await asyncio.sleep(0.3)
    async with ws_connect(servers[0], execution_id, token=world.owner.token) as ws:
        received = await read_all(ws)
    snapshot = received.snapshot
    covered = snapshot["seq"]
    assert covered >= 1, snapshot
    assert snapshot["execution"]["status"] == "running"
    assert {s["node_key"] for s in snapshot["steps"]} >= {"start", "greet"}
    # Everything the snapshot does not cover follows it, once each, in order, to the end.
    stored = stored_events(stack, world.org_id, execution_id)
    assert_complete_run(received, stored, first=covered + 1)
    assert any(m["type"] == "step.token" for m in received.events)


async def test_a_finished_execution_gets_its_snapshot_and_terminal_event(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, stepped_agent: str, stack: Any
) -> None:
    execution_id = await run(api, world, stepped_agent)
    await wait_for(api, world.owner.headers, execution_id, {"completed"})
    async with ws_connect(servers[1], execution_id, api_key=world.api_key) as ws:
        received = await read_all(ws)
    stored = stored_events(stack, world.org_id, execution_id)
    assert received.snapshot["seq"] == stored[-1][0] - 1
    assert received.snapshot["execution"]["status"] == "completed"
    assert [(m["seq"], m["type"]) for m in received.events] == [stored[-1]]
    assert received.code == 1000


async def test_a_dropped_client_resumes_from_last_seq(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, stepped_agent: str, stack: Any
) -> None:
    execution_id = await run(api, world, stepped_agent)
    async with ws_connect(servers[0], execution_id, token=world.owner.token, last_seq=0) as ws:
        first = await read_all(ws, stop_after_seq=3)
    assert first.seqs == [1, 2, 3]
    # Reconnect (to the other process, as after a load balancer switch) after seq 3.
    async with ws_connect(servers[1], execution_id, token=world.owner.token, last_seq=3) as ws:
        rest = await read_all(ws)
    stored = stored_events(stack, world.org_id, execution_id)
    assert_complete_run(rest, stored, first=4)


async def test_a_client_may_ask_for_a_replay_mid_stream(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, stepped_agent: str, stack: Any
) -> None:
    execution_id = await run(api, world, stepped_agent)
    async with ws_connect(servers[0], execution_id, token=world.owner.token, last_seq=0) as ws:
        head = await read_all(ws, stop_after_seq=4)
        await ws.send(json.dumps({"last_seq": 1}))
        tail = await read_all(ws)
    assert head.seqs == [1, 2, 3, 4]
    # Events already on their way may still arrive before the server reads the request; from the
    # first event after it, everything from seq 2 follows in order, to the end.
    restart = next(i for i, seq in enumerate(tail.seqs) if seq == 2)
    assert all(seq > 4 for seq in tail.seqs[:restart]), tail.seqs
    replayed = Received(tail.messages[restart:], tail.code, tail.reason)
    assert_complete_run(replayed, stored_events(stack, world.org_id, execution_id), first=2)


async def test_a_run_that_finished_without_a_terminal_event_still_ends_its_stream(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, stack: Any
) -> None:
    """E.g. a run failed before it started (its version gone): no terminal event will ever come, so
    the stream ends by itself once the row says finished and an idle heartbeat passed."""
    execution_id = await run(api, world, await published_agent(api, world.owner, approval_flow()))
    await wait_for(api, world.owner.headers, execution_id, {"waiting_approval"})
    async with ws_connect(servers[0], execution_id, token=world.owner.token) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
        with psycopg.connect(libpq_url(stack.owner_url)) as conn:
            conn.execute("SELECT set_config('app.org_id', %s, false)", (world.org_id,))
            conn.execute("UPDATE executions SET status = 'failed' WHERE id = %s", (execution_id,))
        started = time.monotonic()
        closed = await read_all(ws, limit=15)
    assert (closed.messages, closed.code, closed.reason) == ([], 1000, "EXECUTION_FINISHED")
    assert time.monotonic() - started < 10 * HEARTBEAT


# -- SSE -------------------------------------------------------------------------------------------


async def test_sse_streams_every_event_with_heartbeats_and_resumes_after_last_event_id(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, stepped_agent: str, stack: Any
) -> None:
    execution_id = await run(api, world, stepped_agent)
    url = f"{servers[1].http}{API}/executions/{execution_id}/events"
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("GET", url, headers=sse_headers(world.viewer.headers, **{"Last-Event-ID": "0"})) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        body = await read_sse(response)
    snapshot, *events = body.messages
    assert snapshot.event == "snapshot" and snapshot.id == "0"
    assert snapshot.json["execution"]["id"] == execution_id
    stored = stored_events(stack, world.org_id, execution_id)
    assert [(int(m.id or 0), m.event) for m in events] == stored
    assert [m.json["seq"] for m in events] == [int(m.id or 0) for m in events]
    assert events[-1].event == "execution.completed"
    assert ": keep-alive" in body.comments  # sent during the 1 s delay (0.5 s heartbeat)

    # EventSource reconnects with the last id it saw: the rest follows, then the stream ends.
    headers = sse_headers(world.viewer.headers, **{"Last-Event-ID": "3"})
    async with httpx.AsyncClient(timeout=30) as client, client.stream("GET", url, headers=headers) as response:
        resumed = await read_sse(response)
    assert resumed.messages[0].event == "snapshot" and resumed.messages[0].id == "3"
    assert [(int(m.id or 0), m.event) for m in resumed.messages[1:]] == stored[3:]
    # After the terminal event there is nothing more: 204 tells EventSource to stop reconnecting.
    done = await api.get(
        f"{API}/executions/{execution_id}/events",
        headers=sse_headers(world.viewer.headers, **{"Last-Event-ID": str(stored[-1][0])}),
    )
    assert done.status_code == 204, done.text


async def test_without_an_event_stream_accept_the_events_are_a_json_page(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, stepped_agent: str, stack: Any
) -> None:
    execution_id = await run(api, world, stepped_agent)
    await wait_for(api, world.owner.headers, execution_id, {"completed"})
    stored = stored_events(stack, world.org_id, execution_id)
    path = f"{API}/executions/{execution_id}/events"
    page = await api.get(path, headers=world.viewer.headers, params={"limit": 3, "last_seq": 2})
    assert page.status_code == 200, page.text
    assert [(e["seq"], e["type"]) for e in page.json()["items"]] == stored[2:5]
    following = await api.get(
        path, headers=world.viewer.headers, params={"limit": 100, "last_seq": 2, "cursor": page.json()["next_cursor"]}
    )
    assert [(e["seq"], e["type"]) for e in following.json()["items"]] == stored[5:]
    for params in ({"last_seq": "-1"}, {"last_seq": "abc"}, {"last_seq": str(2**63)}, {"ticket": "short"}):
        assert_error(await api.get(path, headers=world.viewer.headers, params=params), 422)
    bad_header = await api.get(path, headers=sse_headers(world.viewer.headers, **{"Last-Event-ID": "x"}))
    assert_error(bad_header, 422)


# -- who may watch ---------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def waiting_execution(api: httpx.AsyncClient, world: OrgWorld) -> str:
    """An execution of org A parked at an approval: its stream stays open."""
    execution_id = await waiting_for_approval(api, world)
    return execution_id


async def test_another_orgs_execution_is_refused_without_any_data(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, waiting_execution: str
) -> None:
    other = await signup(api, name="Other org")
    other_key = (await create_api_key(api, other, scopes=["executions:read"]))["key"]
    for execution_id in (waiting_execution, str(uuid.uuid4())):  # another org's, and nobody's
        for connecting in (
            ws_connect(servers[0], execution_id, token=other.token),
            ws_connect(servers[1], execution_id, api_key=other_key, last_seq=0),
        ):
            closed = await refused(connecting)
            assert (closed.messages, closed.code, closed.reason) == ([], 4404, "EXECUTION_NOT_FOUND")
        path = f"{API}/executions/{execution_id}/events"
        for headers in (other.headers, {"X-API-Key": other_key}):
            response = await api.get(path, headers=sse_headers(headers))
            assert_error(response, 404, "EXECUTION_NOT_FOUND")
            assert waiting_execution not in response.text
            ticket = await api.post(f"{API}/executions/{execution_id}/stream-ticket", headers=headers)
            assert_error(ticket, 404, "EXECUTION_NOT_FOUND")
    # Control: the owner's org does see it.
    async with ws_connect(servers[0], waiting_execution, token=world.viewer.token) as ws:
        assert json.loads(await ws.recv())["execution"]["status"] == "waiting_approval"


async def test_missing_and_bad_credentials_are_refused(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, waiting_execution: str
) -> None:
    server, execution_id = servers[0], waiting_execution
    narrow_key = (await create_api_key(api, world.owner, scopes=["agents:read"]))["key"]
    cases: list[tuple[Any, int, str]] = [
        (ws_connect(server, execution_id), 4401, "AUTH_REQUIRED"),
        (ws_connect(server, execution_id, token="not-a-jwt"), 4401, "INVALID_TOKEN"),
        (ws_connect(server, execution_id, token=world.owner.token[:-4] + "AAAA"), 4401, "INVALID_TOKEN"),
        (ws_connect(server, execution_id, api_key="af_live_nope"), 4401, "INVALID_API_KEY"),
        (ws_connect(server, execution_id, api_key=narrow_key), 4403, "FORBIDDEN"),
        (ws_connect(server, execution_id, ticket="x" * 43), 4401, "INVALID_TICKET"),
        (ws_connect(server, execution_id, ticket="short"), 4400, "INVALID_TICKET_PARAMETER"),
        # The token offered without our protocol: a browser would fail the handshake anyway.
        (
            ws_connect(server, execution_id, subprotocols=[f"bearer.{world.owner.token}"]),
            4400,
            "SUBPROTOCOL_REQUIRED",
        ),
        (ws_connect(server, "not-a-uuid", token=world.owner.token), 4422, "VALIDATION_ERROR"),
        (ws_connect(server, execution_id, token=world.owner.token, last_seq=-1), 4400, "INVALID_LAST_SEQ"),
        (ws_connect(server, execution_id, token=world.owner.token, last_seq="1e3"), 4400, "INVALID_LAST_SEQ"),
    ]
    for connecting, code, reason in cases:
        closed = await refused(connecting)
        assert (closed.messages, closed.code, closed.reason) == ([], code, reason)
    # A bearer token not offered as a subprotocol is never selected, so never echoed.
    async with ws_connect(
        server, execution_id, subprotocols=[SUBPROTOCOL, f"bearer.{world.owner.token}", "other"]
    ) as ws:
        assert ws.subprotocol == SUBPROTOCOL
    # A bad message from the client ends the stream with 4400; nothing else is read from it.
    async with ws_connect(server, execution_id, token=world.owner.token) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
        await ws.send("{not json")
        closed = await read_all(ws, limit=15)
    assert (closed.code, closed.reason) == (4400, "BAD_MESSAGE")
    path = f"{API}/executions/{execution_id}/events"
    assert_error(await api.get(path, headers={"Accept": "text/event-stream"}), 401, "AUTH_REQUIRED")
    assert_error(await api.get(path, headers=sse_headers({"X-API-Key": narrow_key})), 403, "FORBIDDEN")


async def _ticket(api: httpx.AsyncClient, headers: dict[str, str], execution_id: str) -> str:
    response = await api.post(f"{API}/executions/{execution_id}/stream-ticket", headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["expires_in"] == TICKET_TTL
    ticket: str = body["ticket"]
    return ticket


async def test_a_ticket_opens_one_stream_once_for_one_execution_until_it_expires(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, waiting_execution: str
) -> None:
    server, execution_id = servers[0], waiting_execution
    ticket = await _ticket(api, world.viewer.headers, execution_id)
    async with ws_connect(server, execution_id, ticket=ticket) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
    closed = await refused(ws_connect(server, execution_id, ticket=ticket))  # used
    assert (closed.messages, closed.code, closed.reason) == ([], 4401, "INVALID_TICKET")

    # Bound to its execution: spent (not usable) on another one.
    other_execution = await run(api, world, await published_agent(api, world.owner, approval_flow()))
    wrong = await _ticket(api, world.viewer.headers, other_execution)
    closed = await refused(ws_connect(servers[1], execution_id, ticket=wrong))
    assert (closed.code, closed.reason) == (4401, "INVALID_TICKET")
    closed = await refused(ws_connect(servers[1], other_execution, ticket=wrong))
    assert (closed.code, closed.reason) == (4401, "INVALID_TICKET")

    # EventSource's way in: the ticket as a query parameter, once.
    sse_ticket = await _ticket(api, world.viewer.headers, execution_id)
    url = f"{server.http}{API}/executions/{execution_id}/events"
    async with httpx.AsyncClient(timeout=30) as client:
        async with client.stream(
            "GET", url, params={"ticket": sse_ticket}, headers={"Accept": "text/event-stream"}
        ) as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            assert await anext(lines) == "retry: 3000"
        again = await client.get(url, params={"ticket": sse_ticket}, headers={"Accept": "text/event-stream"})
        assert_error(again, 401, "INVALID_TICKET")

    # Unused, it expires.
    stale = await _ticket(api, world.viewer.headers, execution_id)
    await asyncio.sleep(TICKET_TTL + 0.5)
    closed = await refused(ws_connect(server, execution_id, ticket=stale))
    assert (closed.code, closed.reason) == (4401, "INVALID_TICKET")


async def test_a_ticket_is_checked_again_when_used(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, waiting_execution: str
) -> None:
    """A ticket carries no power of its own: an API key revoked after issuing one opens nothing."""
    key = await create_api_key(api, world.owner, scopes=["executions:read"])
    ticket = await _ticket(api, {"X-API-Key": key["key"]}, waiting_execution)
    revoked = await api.delete(f"{API}/org/api-keys/{key['id']}", headers=world.owner.headers)
    assert revoked.status_code == 204
    closed = await refused(ws_connect(servers[0], waiting_execution, ticket=ticket))
    assert (closed.messages, closed.code, closed.reason) == ([], 4401, "INVALID_TICKET")
    # Control: a live key's ticket works.
    live = await create_api_key(api, world.owner, scopes=["executions:read"])
    ticket = await _ticket(api, {"X-API-Key": live["key"]}, waiting_execution)
    async with ws_connect(servers[0], waiting_execution, ticket=ticket) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"


# -- fan-out ---------------------------------------------------------------------------------------


async def test_two_api_processes_both_deliver_every_event(
    servers: tuple[Server, Server], api: httpx.AsyncClient, world: OrgWorld, stepped_agent: str, stack: Any
) -> None:
    execution_id = await run(api, world, stepped_agent)
    async with (
        ws_connect(servers[0], execution_id, token=world.owner.token, last_seq=0) as on_a,
        ws_connect(servers[1], execution_id, token=world.viewer.token, last_seq=0) as on_b,
    ):
        from_a, from_b = await asyncio.gather(read_all(on_a), read_all(on_b))
    stored = stored_events(stack, world.org_id, execution_id)
    assert_complete_run(from_a, stored)
    assert_complete_run(from_b, stored)
    assert from_a.events == from_b.events


@asynccontextmanager
async def publisher(stack: Any, worker_env: dict[str, str], org_id: str, execution_id: str) -> AsyncIterator[Any]:
    """The worker's own event sink, driven by the test: a burst no agent would produce."""
    db = Database(stack.app_url, pool_size=2)
    redis = Redis.from_url(worker_env["AGENTFLOW_REDIS_URL"])
    try:
        yield RedisEventSink(redis, db, execution_id=uuid.UUID(execution_id), org_id=uuid.UUID(org_id))
    finally:
        await redis.aclose()
        await db.dispose()


def small_receive_buffer(server: Server) -> socket.socket:
    """A client socket that takes little before the server's writes back up (loopback buffers
    are otherwise megabytes)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    return sock


async def test_a_slow_client_is_told_to_resume_and_blocks_no_one(
    servers: tuple[Server, Server],
    api: httpx.AsyncClient,
    world: OrgWorld,
    stack: Any,
    worker_env: dict[str, str],
) -> None:
    execution_id = await waiting_for_approval(api, world)
    # ~10 MB: more than loopback's socket buffers (the kernel grows a send buffer to 4 MB) hold.
    burst, chunk = 600, "x" * 16_000
    server = servers[0]
    async with (
        ws_connect(server, execution_id, token=world.owner.token) as reader,
        ws_connect(
            server, execution_id, token=world.owner.token, sock=small_receive_buffer(server), max_queue=1
        ) as slow,
        publisher(stack, worker_env, world.org_id, execution_id) as sink,
    ):
        # `slow` reads nothing while the burst goes out; `reader` keeps up.
        reading = asyncio.create_task(read_all(reader))
        for i in range(burst):
            await sink.emit("step.token", {"node_id": "draft", "delta": chunk, "i": i})
        cancelled = await api.post(f"{API}/executions/{execution_id}/cancel", headers=world.owner.headers)
        assert cancelled.status_code == 200, cancelled.text
        fast = await asyncio.wait_for(reading, 30)
        slow_got = await read_all(slow)
    stored = stored_events(stack, world.org_id, execution_id)
    assert_complete_run(fast, stored, first=fast.snapshot["seq"] + 1)
    assert fast.events[-1]["type"] == "execution.cancelled"

    # The slow client got what was already on its way, in order, then the reason and 4008.
    assert (slow_got.code, slow_got.reason) == (4008, "TOO_SLOW"), (slow_got.code, len(slow_got.messages))
    error = slow_got.messages[-1]
    assert error["type"] == "error" and error["error"]["code"] == "TOO_SLOW"
    first = slow_got.snapshot["seq"] + 1
    assert slow_got.seqs == list(range(first, first + len(slow_got.seqs)))
    last_seq = error["error"]["details"]["last_seq"]
    assert last_seq == (slow_got.seqs[-1] if slow_got.seqs else first - 1)
    assert last_seq < stored[-1][0], "the slow client was never dropped"
    # ... and resumes from there to the end.
    async with ws_connect(servers[1], execution_id, token=world.owner.token, last_seq=last_seq) as ws:
        rest = await read_all(ws)
    assert_complete_run(rest, stored, first=last_seq + 1)


async def test_a_client_that_vanishes_mid_stream_costs_the_others_nothing(
    servers: tuple[Server, Server],
    api: httpx.AsyncClient,
    world: OrgWorld,
    stack: Any,
    worker_env: dict[str, str],
) -> None:
    """A socket reset under a live stream (whose events the hub writes itself) ends that stream
    quietly and costs the other watchers nothing."""
    execution_id = await waiting_for_approval(api, world)
    server = servers[0]
    log_before = server.log_path.stat().st_size
    async with (
        ws_connect(server, execution_id, token=world.owner.token) as stays,
        ws_connect(server, execution_id, token=world.owner.token) as vanishes,
        publisher(stack, worker_env, world.org_id, execution_id) as sink,
    ):
        reading = asyncio.create_task(read_all(stays))
        assert json.loads(await vanishes.recv())["type"] == "snapshot"
        await sink.emit("step.token", {"node_id": "draft", "delta": "a", "i": 0})
        assert json.loads(await vanishes.recv())["type"] == "step.token"  # it is live
        vanishes.transport.abort()  # a reset, no close frame: a laptop lid shut
        for i in range(1, 40):
            await sink.emit("step.token", {"node_id": "draft", "delta": "a", "i": i})
        cancelled = await api.post(f"{API}/executions/{execution_id}/cancel", headers=world.owner.headers)
        assert cancelled.status_code == 200, cancelled.text
        kept = await asyncio.wait_for(reading, 30)
    assert_complete_run(kept, stored_events(stack, world.org_id, execution_id), first=kept.snapshot["seq"] + 1)
    log = await asyncio.to_thread(server.log_path.read_bytes)
    assert b"Traceback" not in log[log_before:], log[log_before:].decode(errors="replace")


async def test_a_plain_http_stream_path_is_no_route(api: httpx.AsyncClient, world: OrgWorld) -> None:
    """GET on the WebSocket path (no upgrade) is answered like any unknown route."""
    response = await api.get(f"{API}/executions/{uuid.uuid4()}/stream", headers=world.owner.headers)
    assert_error(response, 404, "NOT_FOUND")
