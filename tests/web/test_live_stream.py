"""The live stream as `agentflow up` serves it (`api_argv`), to a client that asks for compression
as browsers do: events go out uncompressed (see api_argv), and the stream still works."""

from __future__ import annotations

import httpx
import orjson
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.api_fixtures import API, Account
from tests.engine.graphs import minimal, node
from tests.web.test_team import bearer


def test_the_live_stream_declines_per_message_compression(base_url: str, user: Account) -> None:
    headers = bearer(user.token)
    definition = minimal(node("note", "transform.template", {"template": "hello"}))
    agent = httpx.post(f"{base_url}{API}/agents", json={"name": "Streams", "definition": definition}, headers=headers)
    assert agent.status_code == 201, agent.text
    agent_id = agent.json()["id"]
    published = httpx.post(f"{base_url}{API}/agents/{agent_id}/publish", json={"change_message": "v1"}, headers=headers)
    assert published.status_code == 201, published.text
    started = httpx.post(f"{base_url}{API}/agents/{agent_id}/execute", json={"input": {}}, headers=headers)
    assert started.status_code == 202, started.text

    url = base_url.replace("http://", "ws://") + f"{API}/executions/{started.json()['execution_id']}/stream"
    protocols = [Subprotocol("agentflow.v1"), Subprotocol(f"bearer.{user.token}")]
    with connect(url, subprotocols=protocols, compression="deflate") as ws:
        assert ws.response is not None
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
        snapshot = orjson.loads(ws.recv(timeout=10))
        assert snapshot["type"] == "snapshot"
