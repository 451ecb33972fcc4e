"""Spec §8 "secrets are encrypted and never echoed or logged", proven end to end with a canary.

A unique canary is stored as an org's OpenAI key through the API. A real Celery worker (its own
process, its own Valkey database) runs agents whose ai.chat node calls OpenAI with it: the real
OpenAI SDK sends it to a local fake server (which must receive it as the bearer token: that is
what makes this test able to fail), and the fake also echoes it back in error messages, as some
providers do. Then every place a run leaves data is scanned for the canary, raw and hex/base64
encoded: every row of every table (executions, steps, logs, events, audit logs and the LangGraph
checkpoint tables included), every key and value in the worker's Valkey database (Celery messages
and results included), the worker's log (written at DEBUG) and the API's answers.

The canary is not shaped like an API key (no `sk-`), so only redaction of the actual secret can
hide it, not the key-shaped-token pattern. As a positive control, a second marker travels as
ordinary user data (trigger input): the same scans must find it where runs keep their data, so a
scan that looks in the wrong place or fails to decode a column is caught.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import pytest_asyncio
import redis
from psycopg import sql

from agentflow.app import create_app
from agentflow.kit.db import libpq_url
from agentflow.kit.redaction import registered_secrets
from tests.api_fixtures import API, client_for, settings_for, signup
from tests.engine.graphs import definition, edge, node
from tests.engine.providers.fakes import FakeOpenAI, Reply, Status
from tests.executions.conftest import start_worker, stop_worker
from tests.executions.flows import FINISHED, execute, published_agent, wait_for

CANARY_REDIS_DB = 9  # the shared worker uses 7, the durability tests 8
CANARY = f"cnry{uuid.uuid4().hex}"
CONTROL = f"ctrl{uuid.uuid4().hex}"
# Tables the spec and the engine write run data to: each must exist and hold rows when scanned.
RUN_TABLES = {
    "executions",
    "execution_steps",
    "execution_logs",
    "execution_events",
    "audit_logs",
    "checkpoints",
    "checkpoint_blobs",
    "checkpoint_writes",
}


def encodings(value: str) -> dict[str, bytes]:
    """How `value` looks raw, as hex (bytea, msgpack blobs) and inside base64 at any alignment
    (Celery message bodies): for base64, only the characters that depend on `value` alone."""
    raw = value.encode()
    forms = {"raw": raw, "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode()}
    for offset in range(3):
        first = -(-8 * offset // 6)  # the first character with no bits of the bytes before
        last = 8 * (offset + len(raw)) // 6  # the characters after it mix in the bytes after
        for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            forms[f"{name}+{offset}"] = encode(b"\0" * offset + raw)[first:last]
    return forms


CANARY_FORMS = encodings(CANARY)
CONTROL_FORMS = encodings(CONTROL)


def found(forms: dict[str, bytes], data: bytes | str) -> list[str]:
    blob = data.encode() if isinstance(data, str) else data
    return [name for name, form in forms.items() if form in blob]


@dataclass
class Scan:
    """What one scan looked at, where the canary turned up, and where the control did."""

    leaks: list[str] = field(default_factory=list)
    controls: set[str] = field(default_factory=set)
    rows: dict[str, int] = field(default_factory=dict)

    def check(self, where: str, data: bytes | str, control_key: str | None = None) -> None:
        leaked = found(CANARY_FORMS, data)
        if leaked:
            self.leaks.append(f"{where}: {', '.join(leaked)}")
        if control_key is not None and found(CONTROL_FORMS, data):
            self.controls.add(control_key)


def scan_database(owner_url: str) -> Scan:
    """Every row of every table outside the system schemas, as the superuser (no row-level
    security), each row cast to text (bytea shows as hex, jsonb as its text)."""
    scan = Scan()
    with psycopg.connect(libpq_url(owner_url)) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            query = sql.SQL("SELECT t::text FROM {}.{} AS t").format(sql.Identifier(schema), sql.Identifier(table))
            rows = conn.execute(query).fetchall()
            scan.rows[table] = scan.rows.get(table, 0) + len(rows)
            for index, (text,) in enumerate(rows):
                scan.check(f"table {schema}.{table} row {index}", text, table)
    return scan


def scan_valkey(url: str) -> Scan:
    """Every key and every value of every type in one Valkey database."""
    scan = Scan()
    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(count=500):
            kind = client.type(key).decode()
            values: Iterable[bytes]
            if kind == "string":
                values = [client.get(key) or b""]
            elif kind == "list":
                values = client.lrange(key, 0, -1)
            elif kind == "hash":
                values = [part for pair in client.hgetall(key).items() for part in pair]
            elif kind == "set":
                values = client.smembers(key)
            elif kind == "zset":
                values = [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
            elif kind == "stream":
                values = [part for _, entry in client.xrange(key) for pair in entry.items() for part in pair]
            else:
                raise AssertionError(f"a Valkey value of type {kind} at {key!r}: teach this scan to read it")
            scan.rows[kind] = scan.rows.get(kind, 0) + 1
            scan.check(f"valkey key {key!r}", key)
            for value in values:
                scan.check(f"valkey {kind} {key!r}", value)
    finally:
        client.close()
    return scan


def canary_flow() -> dict[str, Any]:
    return definition(
        [
            node("start", "trigger.manual"),
            node("ask", "ai.chat", {"model": "gpt-4o-mini", "prompt": "Say hello to {{trigger.data.name}}"}),
            node("after", "transform.template", {"template": "The model said: {{ask.output.text}}"}),
        ],
        [edge("start", "ask"), edge("ask", "after")],
    )


@pytest.fixture(scope="module")
def openai_fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def canary_env(stack: Any, openai_fake: FakeOpenAI) -> dict[str, str]:
    base, _, _ = stack.redis_url.rpartition("/")
    return {
        **stack.env,
        "AGENTFLOW_REDIS_URL": f"{base}/{CANARY_REDIS_DB}",
        # The deployment's OpenAI gateway: where an org key without its own base URL is sent.
        "AGENTFLOW_OPENAI_BASE_URL": openai_fake.base_url,
        # Everything the worker can log, third-party SDKs included, goes to the file we scan.
        "AGENTFLOW_LOG_LEVEL": "DEBUG",
    }


@dataclass
class CanaryWorker:
    process: Any
    log_path: Path


@pytest.fixture(scope="module")
def canary_worker(canary_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryWorker]:
    log_path = tmp_path_factory.mktemp("canary-worker") / "worker.log"
    process = start_worker(canary_env, log_path, name="canary")
    try:
        yield CanaryWorker(process, log_path)
    finally:
        stop_worker(process)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def canary_client(canary_env: dict[str, str], canary_worker: CanaryWorker) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings_for(canary_env, openai_base_url=canary_env["AGENTFLOW_OPENAI_BASE_URL"]))
    async with application.router.lifespan_context(application), client_for(application) as client:
        yield client


def test_the_scans_see_every_encoding() -> None:
    for prefix in (b"", b"x", b"xy", b"xyz"):
        payload = prefix + CANARY.encode() + b"tail"
        for encoded in (payload, payload.hex().encode(), base64.b64encode(payload), base64.urlsafe_b64encode(payload)):
            assert found(CANARY_FORMS, encoded), (prefix, encoded)
    assert found(CANARY_FORMS, CONTROL) == []
    assert found(CANARY_FORMS, CANARY[:-1]) == []


async def test_a_provider_key_never_leaves_the_vault_in_clear(
    canary_client: httpx.AsyncClient, canary_worker: CanaryWorker, openai_fake: FakeOpenAI, stack: Any
) -> None:
    client = canary_client
    owner = await signup(client)
    stored = await client.put(f"{API}/org/providers/openai", headers=owner.headers, json={"api_key": CANARY})
    assert stored.status_code == 200, stored.text
    assert stored.json()["verified"] is True, stored.text
    # The API's vault registered the key with the log redaction of its process (the worker's
    # registry is in another process; its log file is scanned below instead).
    assert CANARY in registered_secrets()
    # No step retries: the router's own retries are the only ones, so each run's calls are known.
    agent_id = await published_agent(client, owner, canary_flow(), {"max_retries": 0})

    openai_fake.reset()
    # Run 1: the provider first fails with a 5xx that echoes the key (retried), then answers.
    openai_fake.script(Status(500, f"upstream rejected the key {CANARY}"), Reply(text="Hello there"))
    completed_id = await execute(client, owner.headers, agent_id, {"name": CONTROL})
    completed = await wait_for(client, owner.headers, completed_id, FINISHED, limit=60)
    assert completed["status"] == "completed", completed
    # Run 2: every attempt fails with the echo, so the provider's message ends up in the stored error.
    openai_fake.script(*[Status(503, f"upstream rejected the key {CANARY}")] * 3)
    unavailable_id = await execute(client, owner.headers, agent_id, {"name": CONTROL})
    unavailable = await wait_for(client, owner.headers, unavailable_id, FINISHED, limit=60)
    assert unavailable["status"] == "failed", unavailable
    assert "upstream rejected the key" in str(unavailable["error_message"]), unavailable
    # Run 3: the provider rejects the key and echoes it in full.
    openai_fake.script(Status(401, f"Incorrect API key provided: {CANARY}. Find your key elsewhere."))
    failed_id = await execute(client, owner.headers, agent_id, {"name": CONTROL})
    failed = await wait_for(client, owner.headers, failed_id, FINISHED, limit=60)
    assert failed["status"] == "failed", failed
    assert "HTTP 401" in str(failed["error_message"]), failed

    # The worker really sent the canary: each chat call carried it as the bearer token.
    chat_calls = openai_fake.calls("/chat/completions")
    assert len(chat_calls) == 2 + 3 + 1, [call.path for call in openai_fake.requests]
    assert {call.headers.get("authorization") for call in chat_calls} == {f"Bearer {CANARY}"}

    # What the API shows.
    api = Scan()
    api.check("PUT /org/providers/openai", stored.text)
    for execution_id in (completed_id, unavailable_id, failed_id):
        for path in ("", "/steps", "/logs"):
            response = await client.get(f"{API}/executions/{execution_id}{path}", headers=owner.headers)
            assert response.status_code == 200, response.text
            api.check(f"GET /executions/{execution_id}{path}", response.text, f"executions{path}")
    for path, params in (
        ("/executions", {"limit": 100}),
        ("/org/providers", {}),
        ("/org/providers/openai", {}),
        ("/org/audit-logs", {"limit": 100}),
    ):
        response = await client.get(f"{API}{path}", headers=owner.headers, params=params)
        assert response.status_code == 200, response.text
        api.check(f"GET {path}", response.text)
    assert api.controls >= {"executions", "executions/steps"}, api.controls

    # Stop the worker so everything it had to say is written before its log and Valkey are read.
    stop_worker(canary_worker.process)

    log = canary_worker.log_path.read_bytes()
    assert completed_id.encode() in log, "the worker log does not cover these runs"
    logs = Scan()
    logs.check(f"worker log {canary_worker.log_path}", log)

    valkey = scan_valkey(f"{stack.redis_url.rpartition('/')[0]}/{CANARY_REDIS_DB}")
    assert valkey.rows, "the worker's Valkey database is empty: nothing was scanned"

    database = scan_database(stack.owner_url)
    empty = {table for table in RUN_TABLES if not database.rows.get(table)}
    assert not empty, f"run tables missing or empty, so not scanned: {sorted(empty)}"
    # The control is found where run data lives: raw, and hex-encoded in the checkpoint blobs.
    assert database.controls >= {"executions", "execution_steps"}, database.controls
    assert database.controls & {"checkpoint_blobs", "checkpoint_writes"}, database.controls

    leaks = api.leaks + logs.leaks + valkey.leaks + database.leaks
    assert leaks == [], "the provider key leaked:\n" + "\n".join(leaks)
