"""An action node's `credential_id` on a real worker: the connected integration's secret reaches
the server it is meant for, in the form its type says, and nowhere else — not another origin
after a redirect, not the step's input, output or logs, not another org."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api_fixtures import API, Account, assert_error, signup, unique
from tests.engine.graphs import definition, edge, node
from tests.executions.conftest import start_worker, stop_worker
from tests.executions.flows import FINISHED, api, published_agent, steps_of, wait_for

CREDENTIALS_REDIS_DB = 10


class Recorder:
    """A tiny HTTP server that remembers what it was sent; /redirect sends callers to `elsewhere`."""

    def __init__(self, host: str) -> None:
        self.requests: list[dict[str, Any]] = []
        self.elsewhere = ""
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.requests.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
                )
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", recorder.elsewhere)
                    self.end_headers()
                    return
                body = json.dumps({"ok": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Recorder, Recorder]]:
    home, elsewhere = Recorder("127.0.0.1"), Recorder("127.0.0.2")
    home.elsewhere = f"{elsewhere.url}/landing"
    try:
        yield home, elsewhere
    finally:
        home.close()
        elsewhere.close()


@pytest.fixture(scope="module")
def env(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    base, _, _ = stack.redis_url.rpartition("/")
    environment = {
        **stack.env,
        "AGENTFLOW_REDIS_URL": f"{base}/{CREDENTIALS_REDIS_DB}",
        # The test servers live on loopback addresses, which egress refuses unless allowed.
        "AGENTFLOW_EGRESS_ALLOWED_HOSTS": '["127.0.0.1", "127.0.0.2"]',
    }
    process = start_worker(environment, Path(tmp_path_factory.mktemp("credentials")) / "worker.log", name="creds")
    try:
        yield environment
    finally:
        stop_worker(process)


async def connect(client: httpx.AsyncClient, account: Account, credentials: dict[str, Any]) -> str:
    response = await client.post(
        f"{API}/integrations/http/connect",
        headers=account.headers,
        json={"name": unique("api"), "credentials": credentials},
    )
    assert response.status_code == 201, response.text
    integration_id: str = response.json()["id"]
    return integration_id


def call_flow(url: str, credential_id: str) -> dict[str, Any]:
    return definition(
        [
            node("start", "trigger.manual"),
            node(
                "call",
                "action.tool",
                {"tool": "http.request", "params": {"url": url}, "credential_id": credential_id},
            ),
        ],
        [edge("start", "call")],
    )


async def run_call(client: httpx.AsyncClient, account: Account, url: str, credential_id: str) -> dict[str, Any]:
    agent_id = await published_agent(client, account, call_flow(url, credential_id))
    started = await client.post(f"{API}/agents/{agent_id}/execute", headers=account.headers, json={})
    assert started.status_code == 202, started.text
    return await wait_for(client, account.headers, started.json()["execution_id"], FINISHED)


CASES = [
    ({"type": "bearer", "token": "tok-BEARER-secret-1"}, "authorization", "Bearer tok-BEARER-secret-1"),
    ({"type": "basic", "username": "robot", "password": "pw-BASIC-secret-2"}, "authorization", "Basic "),
    ({"type": "header", "name": "X-Api-Key", "value": "hdr-HEADER-secret-3"}, "x-api-key", "hdr-HEADER-secret-3"),
    ({"type": "query", "name": "api_key", "value": "qry-QUERY-secret-4"}, None, "api_key=qry-QUERY-secret-4"),
]


@pytest.mark.parametrize(("credentials", "header", "expected"), CASES, ids=[c[0]["type"] for c in CASES])
async def test_the_secret_reaches_the_server_and_no_record(
    env: dict[str, str],
    servers: tuple[Recorder, Recorder],
    credentials: dict[str, Any],
    header: str | None,
    expected: str,
) -> None:
    home, _ = servers
    secret = str(credentials.get("token") or credentials.get("password") or credentials["value"])
    async with api(env) as client:
        account = await signup(client)
        credential_id = await connect(client, account, credentials)
        done = await run_call(client, account, f"{home.url}/data?x=1", credential_id)
        assert done["status"] == "completed", done
        sent = home.requests[-1]
        if header is None:
            assert expected in sent["path"], sent
        else:
            assert sent["headers"][header].startswith(expected), sent
        steps = await steps_of(client, account.headers, done["id"])
        logs = await client.get(f"{API}/executions/{done['id']}/logs", headers=account.headers)
        recorded = json.dumps([steps, done, logs.json()])
        assert secret not in recorded
        assert steps[-1]["output"]["url"].startswith(f"{home.url}/data")


async def test_a_redirect_elsewhere_does_not_carry_the_secret(
    env: dict[str, str], servers: tuple[Recorder, Recorder]
) -> None:
    home, elsewhere = servers
    async with api(env) as client:
        account = await signup(client)
        credential_id = await connect(client, account, {"type": "bearer", "token": "tok-REDIRECT-secret"})
        done = await run_call(client, account, f"{home.url}/redirect", credential_id)
        assert done["status"] == "completed", done
        assert home.requests[-1]["headers"]["authorization"] == "Bearer tok-REDIRECT-secret"
        landing = elsewhere.requests[-1]
        assert landing["path"] == "/landing" and "authorization" not in landing["headers"], landing


async def test_only_the_orgs_own_connected_credentials_open(
    env: dict[str, str], servers: tuple[Recorder, Recorder]
) -> None:
    home, _ = servers
    async with api(env) as client:
        owner, other = await signup(client), await signup(client)
        foreign = await connect(client, other, {"type": "bearer", "token": "tok-FOREIGN-secret"})
        before = len(home.requests)
        done = await run_call(client, owner, f"{home.url}/data", foreign)
        assert done["status"] == "failed" and "not a connected http integration" in (done["error_message"] or "")
        assert len(home.requests) == before  # nothing was sent

        mine = await connect(client, owner, {"type": "bearer", "token": "tok-GONE-secret"})
        gone = await client.delete(f"{API}/integrations/{mine}", headers=owner.headers)
        assert gone.status_code == 204
        after_delete = await run_call(client, owner, f"{home.url}/data", mine)
        assert after_delete["status"] == "failed", after_delete
        assert_error(await client.delete(f"{API}/integrations/{foreign}", headers=owner.headers), 404)
