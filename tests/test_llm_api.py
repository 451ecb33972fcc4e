"""Bring-your-own LLM keys and the model catalog through the API, with the real OpenAI SDK talking
to a local server that speaks OpenAI's wire format."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from agentflow.app import create_app
from tests.api_fixtures import API, Account, add_member, client_for, settings_for, signup
from tests.engine.providers.fakes import FakeOpenAI, Status

ORG_KEY = "sk-test-org-key-0123456789abcd"


@pytest.fixture(scope="module")
def openai_fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def llm_app(stack: Any, openai_fake: FakeOpenAI) -> AsyncIterator[FastAPI]:
    # The deployment routes OpenAI traffic through a gateway: here, the local fake.
    settings = settings_for(
        stack.env,
        openai_base_url=openai_fake.base_url,
        egress_allowed_hosts=["localhost"],
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def llm(llm_app: FastAPI, openai_fake: FakeOpenAI) -> AsyncIterator[httpx.AsyncClient]:
    openai_fake.reset()
    async with client_for(llm_app) as c:
        yield c


async def _status(client: httpx.AsyncClient, owner: Account, provider: str) -> dict[str, Any]:
    response = await client.get(f"{API}/org/providers/{provider}", headers=owner.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_store_verify_use_and_delete_an_org_key(
    llm: httpx.AsyncClient, openai_fake: FakeOpenAI, stack: Any
) -> None:
    owner = await signup(llm)
    before = await _status(llm, owner, "openai")
    assert before["source"] == "none"

    stored = await llm.put(f"{API}/org/providers/openai", headers=owner.headers, json={"api_key": ORG_KEY})
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert body == {**body, "source": "org", "verified": True, "key_hint": "…abcd", "last_error": None}
    assert ORG_KEY not in stored.text
    # The verification call went to the provider with the org's key in the auth header.
    sent = [call.headers.get("authorization") for call in openai_fake.calls()]
    assert f"Bearer {ORG_KEY}" in sent

    with psycopg.connect(stack.owner_url) as conn:
        envelope, hint = conn.execute(
            "SELECT secret_envelope, key_hint FROM provider_credentials WHERE org_id = %s", (owner.org_id,)
        ).fetchone()
    assert ORG_KEY not in envelope and envelope.startswith("v1.")
    assert hint == "…abcd"

    listed = (await llm.get(f"{API}/org/providers", headers=owner.headers)).json()
    assert {p["provider"]: p["source"] for p in listed} == {
        "openai": "org",
        "anthropic": "none",
        "google": "none",
        "openai_compatible": "none",
    }
    assert ORG_KEY not in str(listed)

    models = (await llm.get(f"{API}/models", headers=owner.headers)).json()
    assert models["catalog_updated"]
    by_id = {m["id"]: m for m in models["models"]}
    openai_models = [m for m in models["models"] if m["provider"] == "openai"]
    anthropic_models = [m for m in models["models"] if m["provider"] == "anthropic"]
    assert openai_models and all(m["available"] for m in openai_models)
    assert anthropic_models and not any(m["available"] for m in anthropic_models)
    assert "anthropic" in anthropic_models[0]["unavailable_reason"]
    assert any(m["provider"] == "scripted" and m["available"] for m in by_id.values())

    deleted = await llm.delete(f"{API}/org/providers/openai", headers=owner.headers)
    assert deleted.status_code == 204
    assert (await _status(llm, owner, "openai"))["source"] == "none"
    again = await llm.delete(f"{API}/org/providers/openai", headers=owner.headers)
    assert again.status_code == 404

    trail = await llm.get(f"{API}/org/audit-logs", headers=owner.headers, params={"action": "provider_key."})
    actions = [row["action"] for row in trail.json()["items"]]
    assert sorted(actions) == ["provider_key.created", "provider_key.deleted"]
    assert ORG_KEY not in trail.text


async def test_a_rejected_key_is_stored_unverified_with_the_reason(
    llm: httpx.AsyncClient, openai_fake: FakeOpenAI
) -> None:
    owner = await signup(llm)
    openai_fake.script(Status(401, "Incorrect API key provided"))
    stored = await llm.put(
        f"{API}/org/providers/openai", headers=owner.headers, json={"api_key": "sk-wrong-key-000000"}
    )
    assert stored.status_code == 200
    assert stored.json()["verified"] is False
    assert stored.json()["last_error"]
    assert "sk-wrong-key-000000" not in stored.text


async def test_openai_compatible_needs_a_reachable_allowed_base_url(
    llm: httpx.AsyncClient, openai_fake: FakeOpenAI
) -> None:
    owner = await signup(llm)
    missing = await llm.put(f"{API}/org/providers/openai_compatible", headers=owner.headers, json={"api_key": ORG_KEY})
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "BASE_URL_REQUIRED"
    internal = await llm.put(
        f"{API}/org/providers/openai_compatible",
        headers=owner.headers,
        json={"api_key": ORG_KEY, "base_url": "http://169.254.169.254/latest/meta-data/"},
    )
    assert internal.status_code == 422
    assert internal.json()["error"]["code"] == "URL_NOT_ALLOWED"
    # A self-hosted server on a host the deployment allows (here the fake, as "localhost").
    allowed_url = openai_fake.base_url.replace("127.0.0.1", "localhost")
    stored = await llm.put(
        f"{API}/org/providers/openai_compatible",
        headers=owner.headers,
        json={"api_key": ORG_KEY, "base_url": allowed_url},
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["verified"] is True
    assert stored.json()["base_url"] == allowed_url


async def test_only_admins_manage_keys_and_unknown_providers_are_404(llm: httpx.AsyncClient) -> None:
    owner = await signup(llm)
    editor = await add_member(llm, owner, "editor")
    denied = await llm.put(f"{API}/org/providers/openai", headers=editor.headers, json={"api_key": ORG_KEY})
    assert denied.status_code == 403
    assert (await llm.get(f"{API}/models", headers=editor.headers)).status_code == 200
    unknown = await llm.put(f"{API}/org/providers/skynet", headers=owner.headers, json={"api_key": ORG_KEY})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "PROVIDER_NOT_FOUND"


async def test_a_ciphertext_moved_to_another_org_does_not_open(llm: httpx.AsyncClient, stack: Any) -> None:
    victim, thief = await signup(llm), await signup(llm)
    await llm.put(f"{API}/org/providers/openai", headers=victim.headers, json={"api_key": ORG_KEY})
    await llm.put(f"{API}/org/providers/openai", headers=thief.headers, json={"api_key": "sk-thief-own-key-000"})
    with psycopg.connect(stack.owner_url) as conn:
        conn.execute(
            "UPDATE provider_credentials SET secret_envelope = "
            "(SELECT secret_envelope FROM provider_credentials WHERE org_id = %s) WHERE org_id = %s",
            (victim.org_id, thief.org_id),
        )
    models = (await llm.get(f"{API}/models", headers=thief.headers)).json()["models"]
    assert not any(m["available"] for m in models if m["provider"] == "openai")
