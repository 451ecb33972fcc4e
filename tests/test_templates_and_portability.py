"""Templates (official, private, public; install counting) and agents as code (export/import)."""

from __future__ import annotations

from typing import Any

import httpx
import yaml

from agentflow.engine.validation import validate_definition
from agentflow.templates.official import load_official_templates
from tests.api_fixtures import API, Account, add_member, signup
from tests.engine.graphs import chat, minimal


def test_official_templates_are_many_unique_and_valid() -> None:
    templates = load_official_templates()
    assert len(templates) >= 8
    assert len({t.slug for t in templates}) == len(templates)
    for template in templates:
        _, issues = validate_definition(template.document.definition)
        assert issues == [], (template.slug, issues)


async def _templates(client: httpx.AsyncClient, account: Account, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/templates", headers=account.headers, params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_browse_filter_and_install_an_official_template(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    official = await _templates(client, owner, official="true")
    assert len(official) >= 8
    assert all(t["is_official"] and t["is_public"] for t in official)
    category = official[0]["category"]
    by_category = await _templates(client, owner, category=category)
    assert by_category and all(t["category"] == category for t in by_category)
    first_word = official[0]["name"].split()[0]
    assert official[0]["id"] in [t["id"] for t in await _templates(client, owner, q=first_word)]

    template = (await client.get(f"{API}/templates/{official[0]['id']}", headers=owner.headers)).json()
    installed = await client.post(f"{API}/templates/{template['id']}/install", headers=owner.headers, json={})
    assert installed.status_code == 201, installed.text
    agent = installed.json()
    assert agent["template_id"] == template["id"]
    assert agent["name"] == template["name"]
    draft = (await client.get(f"{API}/agents/{agent['id']}/draft", headers=owner.headers)).json()
    assert draft["definition"] == template["definition"]
    assert draft["issues"] == []
    published = await client.post(f"{API}/agents/{agent['id']}/publish", headers=owner.headers, json={})
    assert published.status_code == 201, published.text

    other_org = await signup(client)
    await client.post(f"{API}/templates/{template['id']}/install", headers=other_org.headers, json={"name": "Mine"})
    after = (await client.get(f"{API}/templates/{template['id']}", headers=owner.headers)).json()
    assert after["install_count"] == template["install_count"] + 2


async def test_private_and_public_templates(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    editor = await add_member(client, owner, "editor")
    outsider = await signup(client)
    agent = (
        await client.post(
            f"{API}/agents", headers=owner.headers, json={"name": "Greeter", "definition": minimal(chat("greet"))}
        )
    ).json()
    unpublished = await client.post(f"{API}/templates", headers=owner.headers, json={"agent_id": agent["id"]})
    assert unpublished.status_code == 409
    await client.post(f"{API}/agents/{agent['id']}/publish", headers=owner.headers, json={})

    private = await client.post(
        f"{API}/templates", headers=editor.headers, json={"agent_id": agent["id"], "category": "Internal"}
    )
    assert private.status_code == 201, private.text
    assert private.json()["is_public"] is False
    assert private.json()["mine"] is True
    mine = await _templates(client, owner, mine="true")
    assert [t["id"] for t in mine] == [private.json()["id"]]
    assert private.json()["id"] not in [t["id"] for t in await _templates(client, outsider)]
    hidden = await client.get(f"{API}/templates/{private.json()['id']}", headers=outsider.headers)
    assert hidden.status_code == 404
    foreign_install = await client.post(f"{API}/templates/{private.json()['id']}/install", headers=outsider.headers)
    assert foreign_install.status_code == 404

    editor_public = await client.post(
        f"{API}/templates", headers=editor.headers, json={"agent_id": agent["id"], "visibility": "public"}
    )
    assert editor_public.status_code == 403
    public = await client.post(
        f"{API}/templates", headers=owner.headers, json={"agent_id": agent["id"], "visibility": "public"}
    )
    assert public.status_code == 201
    seen = {t["id"]: t for t in await _templates(client, outsider)}
    assert public.json()["id"] in seen
    assert seen[public.json()["id"]]["mine"] is False
    installed = await client.post(f"{API}/templates/{public.json()['id']}/install", headers=outsider.headers)
    assert installed.status_code == 201


async def test_export_yaml_import_into_another_org_round_trips(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    graph = minimal(chat("greet", "Hello {{trigger.data.name}}"), chat("follow_up", "{{greet.output.text}}"))
    agent = (
        await client.post(
            f"{API}/agents",
            headers=owner.headers,
            json={
                "name": "Greeter ✨",
                "description": "Says hi",
                "definition": graph,
                "settings": {"timeout_seconds": 42, "max_retries": 1, "concurrency_limit": 2},
            },
        )
    ).json()
    exported = await client.get(f"{API}/agents/{agent['id']}/export", headers=owner.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/yaml")
    assert "attachment" in exported.headers["content-disposition"]
    document = yaml.safe_load(exported.text)
    assert document["name"] == "Greeter ✨"
    assert document["settings"]["timeout_seconds"] == 42
    assert "id" not in document and "org_id" not in exported.text

    other = await signup(client)
    imported = await client.post(
        f"{API}/agents/import", headers={**other.headers, "Content-Type": "application/yaml"}, content=exported.content
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["id"] != agent["id"]
    again = await client.get(f"{API}/agents/{imported.json()['id']}/export", headers=other.headers)
    assert again.content == exported.content

    as_json = await client.get(f"{API}/agents/{agent['id']}/export", headers=owner.headers, params={"format": "json"})
    reimported = await client.post(
        f"{API}/agents/import", headers={**other.headers, "Content-Type": "application/json"}, content=as_json.content
    )
    assert reimported.status_code == 201
    json_again = await client.get(
        f"{API}/agents/{reimported.json()['id']}/export", headers=other.headers, params={"format": "json"}
    )
    assert json_again.content == as_json.content


async def test_export_a_published_version(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    agent = (
        await client.post(f"{API}/agents", headers=owner.headers, json={"name": "V", "definition": minimal(chat("a"))})
    ).json()
    await client.post(f"{API}/agents/{agent['id']}/publish", headers=owner.headers, json={})
    await client.put(
        f"{API}/agents/{agent['id']}/draft",
        headers=owner.headers,
        json={"definition": minimal(chat("a"), chat("b")), "revision": 0},
    )
    v1 = yaml.safe_load(
        (await client.get(f"{API}/agents/{agent['id']}/export", headers=owner.headers, params={"version": 1})).text
    )
    draft = yaml.safe_load((await client.get(f"{API}/agents/{agent['id']}/export", headers=owner.headers)).text)
    assert len(v1["definition"]["nodes"]) == 2
    assert len(draft["definition"]["nodes"]) == 3
    missing = await client.get(f"{API}/agents/{agent['id']}/export", headers=owner.headers, params={"version": 9})
    assert missing.status_code == 404


async def test_bad_import_documents(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    headers = {**owner.headers, "Content-Type": "application/yaml"}

    async def status_and_code(body: bytes, content_type: str = "application/yaml") -> tuple[int, str]:
        response = await client.post(
            f"{API}/agents/import", headers={**headers, "Content-Type": content_type}, content=body
        )
        return response.status_code, response.json()["error"]["code"]

    assert await status_and_code(b"name: [unclosed") == (400, "MALFORMED_DOCUMENT")
    assert await status_and_code(b"- just\n- a list\n") == (422, "INVALID_DOCUMENT")
    assert await status_and_code(b"name: x\n") == (422, "INVALID_DOCUMENT")
    assert await status_and_code(b"agentflow: 2\nname: x\ndefinition: {}\n") == (422, "INVALID_DOCUMENT")
    assert await status_and_code(b"name: x\ndefinition: {nodes: 3}\n") == (422, "INVALID_DEFINITION")
    assert await status_and_code(b"!!python/object/apply:os.system ['true']") == (400, "MALFORMED_DOCUMENT")
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"
    assert await status_and_code(bomb) == (400, "MALFORMED_DOCUMENT")
    assert await status_and_code(b"<xml/>", "application/xml") == (400, "UNSUPPORTED_MEDIA_TYPE")
    listed = (await client.get(f"{API}/agents", headers=owner.headers)).json()["items"]
    assert listed == []


def test_the_documented_example_is_a_valid_agent() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "agent-format.md").read_text()
    example = yaml.safe_load(text.split("```yaml", 1)[1].split("```", 1)[0])
    _, issues = validate_definition(example["definition"])
    assert issues == []


async def test_hand_written_yaml_with_unquoted_boolean_handles_imports(client: httpx.AsyncClient) -> None:
    owner = await signup(client)
    document = b"""
name: Branchy
definition:
  nodes:
    - {id: start, type: trigger, subtype: manual}
    - id: check
      type: logic
      subtype: if_else
      config:
        conditions:
          combinator: and
          conditions: [{left: "{{trigger.data.ok}}", operator: is_true}]
    - {id: yes_branch, type: transform, subtype: template, config: {template: "yes"}}
    - {id: no_branch, type: transform, subtype: template, config: {template: "no"}}
  edges:
    - {id: e1, source: start, target: check}
    - {id: e2, source: check, source_handle: true, target: yes_branch}
    - {id: e3, source: check, source_handle: false, target: no_branch}
"""
    response = await client.post(
        f"{API}/agents/import", headers={**owner.headers, "Content-Type": "application/yaml"}, content=document
    )
    assert response.status_code == 201, response.text
    draft = (await client.get(f"{API}/agents/{response.json()['id']}/draft", headers=owner.headers)).json()
    assert draft["issues"] == []
    assert [e["source_handle"] for e in draft["definition"]["edges"]] == ["out", "true", "false"]
