"""Agents through the API: CRUD, drafts with optimistic concurrency, validation, immutable
versions, diff and restore (issue: agents as versioned graphs)."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from agentflow.engine.nodes import describe_catalog
from tests.api_fixtures import API, Account, add_member, signup
from tests.engine.graphs import chat, definition, edge, minimal, node


async def _create(client: httpx.AsyncClient, owner: Account, **body: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/agents", headers=owner.headers, json={"name": "Lead router", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _save(
    client: httpx.AsyncClient, owner: Account, agent_id: str, graph: dict[str, Any], revision: int
) -> httpx.Response:
    return await client.put(
        f"{API}/agents/{agent_id}/draft", headers=owner.headers, json={"definition": graph, "revision": revision}
    )


async def test_create_get_update_and_list_with_filters(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    first = await _create(client, owner, description="Routes leads", definition=minimal(chat("greet")))
    assert first["status"] == "draft"
    assert first["trigger_type"] == "manual"
    assert first["settings"] == {
        "timeout_seconds": 300,
        "max_retries": 3,
        "concurrency_limit": 5,
        "on_concurrency_limit": "queue",
    }
    second = await _create(client, owner, name="Support triage")
    got = await client.get(f"{API}/agents/{first['id']}", headers=owner.headers)
    assert got.json()["description"] == "Routes leads"

    updated = await client.put(
        f"{API}/agents/{second['id']}",
        headers=owner.headers,
        json={"name": "Support triage v2", "settings": {"timeout_seconds": 60}},
    )
    assert updated.status_code == 200
    assert updated.json()["name"] == "Support triage v2"
    assert updated.json()["settings"]["timeout_seconds"] == 60

    listed = (await client.get(f"{API}/agents", headers=owner.headers, params={"sort": "name", "order": "asc"})).json()
    assert [a["name"] for a in listed["items"]] == ["Lead router", "Support triage v2"]
    searched = (await client.get(f"{API}/agents", headers=owner.headers, params={"q": "triage"})).json()
    assert [a["id"] for a in searched["items"]] == [second["id"]]
    by_trigger = (await client.get(f"{API}/agents", headers=owner.headers, params={"trigger_type": "manual"})).json()
    assert [a["id"] for a in by_trigger["items"]] == [first["id"]]
    wildcard = (await client.get(f"{API}/agents", headers=owner.headers, params={"q": "%"})).json()
    assert wildcard["items"] == []


async def test_pagination_by_name_visits_every_agent_once(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    for name in ("delta", "alpha", "echo", "bravo", "charlie"):
        await _create(client, owner, name=name)
    names, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, "sort": "name", "order": "asc", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{API}/agents", headers=owner.headers, params=params)).json()
        names += [a["name"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert names == ["alpha", "bravo", "charlie", "delta", "echo"]


async def test_draft_saves_with_optimistic_concurrency(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    editor = await add_member(client, owner, "editor")
    agent = await _create(client, owner)
    draft = (await client.get(f"{API}/agents/{agent['id']}/draft", headers=owner.headers)).json()
    assert draft["revision"] == 0
    assert draft["definition"] == {"schema_version": 1, "nodes": [], "edges": []}

    mine = await _save(client, owner, agent["id"], minimal(chat("greet")), revision=0)
    assert mine.status_code == 200, mine.text
    assert mine.json()["revision"] == 1
    assert mine.headers["etag"] == '"1"'
    assert mine.json()["issues"] == []

    # The editor loaded revision 0 too; their save must not silently overwrite mine.
    theirs = await client.put(
        f"{API}/agents/{agent['id']}/draft",
        headers=editor.headers,
        json={"definition": minimal(chat("other")), "revision": 0},
    )
    assert theirs.status_code == 409
    assert theirs.json()["error"]["code"] == "DRAFT_CONFLICT"
    assert theirs.json()["error"]["details"]["current_revision"] == 1
    kept = (await client.get(f"{API}/agents/{agent['id']}/draft", headers=owner.headers)).json()
    assert [n["id"] for n in kept["definition"]["nodes"]] == ["start", "greet"]


async def test_work_in_progress_is_saved_with_its_issues_but_broken_structure_is_refused(
    client: httpx.AsyncClient,
) -> None:
    owner = await signup(client)
    agent = await _create(client, owner)
    dangling = definition([node("start", "trigger.manual"), chat("greet", "Hi {{nowhere.output.text}}")], [])
    saved = await _save(client, owner, agent["id"], dangling, revision=0)
    assert saved.status_code == 200
    codes = {i["code"] for i in saved.json()["issues"]}
    assert {"UNREACHABLE_NODE", "UNKNOWN_REFERENCE"} <= codes

    broken = await _save(client, owner, agent["id"], {"schema_version": 1, "nodes": "not a list"}, revision=1)
    assert broken.status_code == 422
    assert broken.json()["error"]["code"] == "INVALID_DEFINITION"
    assert broken.json()["error"]["details"]["issues"]


async def test_validation_reports_every_problem_with_node_path_and_code(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    agent = await _create(client, owner)
    graph = definition(
        [
            node("start", "trigger.manual"),
            node("second_trigger", "trigger.manual"),
            node("classify", "ai.classify", {"input": "{{trigger.data.text}}", "categories": [{"key": "only"}]}),
            chat("reply", "{{later.output.text}}"),
            chat("later"),
        ],
        [
            edge("start", "classify"),
            edge("classify", "reply", "error"),
            edge("reply", "later"),
            edge("start", "later", "nope"),
        ],
    )
    response = await client.post(
        f"{API}/agents/{agent['id']}/validate", headers=owner.headers, json={"definition": graph}
    )
    assert response.status_code == 422
    issues = response.json()["error"]["details"]["issues"]
    found = {(i["code"], i.get("node_id") or i.get("edge_id")) for i in issues}
    assert ("MULTIPLE_TRIGGERS", "second_trigger") in found or any(c == "MULTIPLE_TRIGGERS" for c, _ in found)
    assert any(c == "UNKNOWN_SOURCE_HANDLE" for c, _ in found)
    assert any(code == "INVALID_CONFIG" and ref == "classify" for code, ref in found), issues
    assert any(code == "REFERENCE_NOT_UPSTREAM" and ref == "reply" for code, ref in found), issues
    assert all(i["message"] for i in issues)

    ok = await client.post(
        f"{API}/agents/{agent['id']}/validate", headers=owner.headers, json={"definition": minimal(chat("greet"))}
    )
    assert ok.status_code == 200
    assert ok.json() == {"valid": True, "issues": []}


async def test_publish_versions_diff_and_restore(client: httpx.AsyncClient, stack: Any) -> None:
    owner = await signup(client)
    agent = await _create(client, owner, definition=minimal(chat("greet", "Hello {{trigger.data.name}}")))
    first = await client.post(
        f"{API}/agents/{agent['id']}/publish", headers=owner.headers, json={"change_message": "First"}
    )
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    after_first = (await client.get(f"{API}/agents/{agent['id']}", headers=owner.headers)).json()
    assert after_first["status"] == "active"
    assert after_first["latest_version"] == 1

    v2_graph = minimal(chat("greet", "Bonjour {{trigger.data.name}}"), chat("follow_up", "{{greet.output.text}}?"))
    saved = await _save(client, owner, agent["id"], v2_graph, revision=after_first["draft_revision"])
    assert saved.status_code == 200
    second = await client.post(
        f"{API}/agents/{agent['id']}/publish",
        headers=owner.headers,
        json={"change_message": "Add follow-up", "draft_revision": saved.json()["revision"]},
    )
    assert second.status_code == 201
    assert second.json()["version"] == 2

    versions = (await client.get(f"{API}/agents/{agent['id']}/versions", headers=owner.headers)).json()["items"]
    assert [(v["version"], v["change_message"], v["node_count"]) for v in versions] == [
        (2, "Add follow-up", 3),
        (1, "First", 2),
    ]
    v1 = (await client.get(f"{API}/agents/{agent['id']}/versions/1", headers=owner.headers)).json()
    assert v1["definition"]["nodes"][1]["config"]["prompt"] == "Hello {{trigger.data.name}}"

    diff = (
        await client.get(f"{API}/agents/{agent['id']}/diff", headers=owner.headers, params={"from": 1, "to": 2})
    ).json()
    assert diff["from"] == 1 and diff["to"] == 2
    assert diff["has_changes"] is True
    assert list(diff["nodes"]["added"]) == ["follow_up"]
    assert list(diff["nodes"]["changed"]) == ["greet"]
    assert "prompt" in str(diff["nodes"]["changed"]["greet"])

    restored = await client.post(f"{API}/agents/{agent['id']}/versions/1/restore", headers=owner.headers)
    assert restored.status_code == 200
    assert restored.json()["definition"] == v1["definition"]
    assert restored.json()["revision"] == saved.json()["revision"] + 1
    no_change = (await client.get(f"{API}/agents/{agent['id']}/diff", headers=owner.headers, params={"from": 1})).json()
    assert no_change["has_changes"] is False

    with psycopg.connect(stack.owner_url) as conn:
        rows = conn.execute(
            "SELECT n.node_key FROM agent_nodes n JOIN agent_versions v ON v.id = n.agent_version_id "
            "WHERE v.agent_id = %s AND v.version = 2 ORDER BY n.node_key",
            (agent["id"],),
        ).fetchall()
        edges = conn.execute(
            "SELECT count(*) FROM agent_edges e JOIN agent_versions v ON v.id = e.agent_version_id "
            "WHERE v.agent_id = %s AND v.version = 2",
            (agent["id"],),
        ).fetchone()
    assert [r[0] for r in rows] == ["follow_up", "greet", "start"]
    assert edges == (2,)


async def test_publishing_an_invalid_draft_is_refused_and_writes_nothing(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    agent = await _create(client, owner, definition=definition([chat("lonely")], []))
    response = await client.post(f"{API}/agents/{agent['id']}/publish", headers=owner.headers, json={})
    assert response.status_code == 422
    assert "NO_TRIGGER" in {i["code"] for i in response.json()["error"]["details"]["issues"]}
    versions = (await client.get(f"{API}/agents/{agent['id']}/versions", headers=owner.headers)).json()
    assert versions["items"] == []
    stale = await client.post(f"{API}/agents/{agent['id']}/publish", headers=owner.headers, json={"draft_revision": 99})
    assert stale.status_code == 409


async def test_published_versions_are_immutable_in_the_database(client: httpx.AsyncClient, stack: Any) -> None:
    owner = await signup(client)
    agent = await _create(client, owner, definition=minimal(chat("greet")))
    await client.post(f"{API}/agents/{agent['id']}/publish", headers=owner.headers, json={})
    for url in (stack.app_url, stack.owner_url):
        with psycopg.connect(url) as conn:
            conn.execute("SELECT set_config('app.org_id', %s, false)", (owner.org_id,))
            for statement in (
                "UPDATE agent_versions SET change_message = 'rewritten' WHERE agent_id = %s",
                "UPDATE agent_nodes SET label = 'x' WHERE agent_version_id IN "
                "(SELECT id FROM agent_versions WHERE agent_id = %s)",
            ):
                with pytest.raises(psycopg.errors.RestrictViolation), conn.transaction():
                    conn.execute(statement, (agent["id"],))
    with psycopg.connect(stack.app_url) as conn:
        conn.execute("SELECT set_config('app.org_id', %s, false)", (owner.org_id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("DELETE FROM agent_versions WHERE agent_id = %s", (agent["id"],))


async def test_status_and_archive(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    agent = await _create(client, owner, definition=minimal(chat("greet")))
    unpublished = await client.put(
        f"{API}/agents/{agent['id']}/status", headers=owner.headers, json={"status": "active"}
    )
    assert unpublished.status_code == 409
    assert unpublished.json()["error"]["code"] == "NOT_PUBLISHED"
    await client.post(f"{API}/agents/{agent['id']}/publish", headers=owner.headers, json={})
    paused = await client.put(f"{API}/agents/{agent['id']}/status", headers=owner.headers, json={"status": "paused"})
    assert paused.json()["status"] == "paused"

    assert (await client.delete(f"{API}/agents/{agent['id']}", headers=owner.headers)).status_code == 204
    visible = (await client.get(f"{API}/agents", headers=owner.headers)).json()["items"]
    assert visible == []
    archived = (await client.get(f"{API}/agents", headers=owner.headers, params={"status": "archived"})).json()["items"]
    assert [a["id"] for a in archived] == [agent["id"]]
    frozen = await _save(client, owner, agent["id"], minimal(), revision=archived[0]["draft_revision"])
    assert frozen.status_code == 409
    assert frozen.json()["error"]["code"] == "AGENT_ARCHIVED"
    back = await client.put(f"{API}/agents/{agent['id']}/status", headers=owner.headers, json={"status": "paused"})
    assert back.json()["status"] == "paused"


async def test_mutations_are_audited(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    agent = await _create(client, owner, definition=minimal(chat("greet")))
    await client.put(f"{API}/agents/{agent['id']}", headers=owner.headers, json={"name": "Renamed"})
    await _save(client, owner, agent["id"], minimal(chat("greet", "Yo")), revision=0)
    await client.post(f"{API}/agents/{agent['id']}/publish", headers=owner.headers, json={"change_message": "go"})
    await client.post(f"{API}/agents/{agent['id']}/versions/1/restore", headers=owner.headers)
    await client.put(f"{API}/agents/{agent['id']}/status", headers=owner.headers, json={"status": "paused"})
    await client.delete(f"{API}/agents/{agent['id']}", headers=owner.headers)
    trail = await client.get(
        f"{API}/org/audit-logs", headers=owner.headers, params={"resource_id": agent["id"], "limit": 50}
    )
    actions = [r["action"] for r in trail.json()["items"]]
    assert sorted(actions) == sorted(
        [
            "agent.created",
            "agent.updated",
            "agent.draft_saved",
            "agent.version_published",
            "agent.version_restored",
            "agent.status_changed",
            "agent.archived",
        ]
    )


async def test_node_type_catalog(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    catalog = (await client.get(f"{API}/node-types", headers=owner.headers)).json()
    keys = {entry["key"] for entry in catalog}
    assert {
        "trigger.manual",
        "trigger.webhook",
        "trigger.schedule",
        "ai.classify",
        "logic.loop",
        "human.approval",
    } <= keys
    classify = next(e for e in catalog if e["key"] == "ai.classify")
    assert classify["config_schema"]["type"] == "object"
    assert classify["dynamic_outputs"]
    # Served from a body made once: every request gets the whole catalog, as it is described.
    again = await client.get(f"{API}/node-types", headers=owner.headers)
    assert again.headers["content-type"] == "application/json"
    assert again.json() == catalog == describe_catalog()
