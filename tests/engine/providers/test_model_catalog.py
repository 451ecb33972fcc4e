"""The dated model catalog: well-formed, priced with exact decimals, fallbacks that make sense."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from importlib import resources

import pytest

from agentflow.engine.providers.base import Usage
from agentflow.engine.providers.catalog import ModelCatalog, ModelInfo, default_catalog

KNOWN_PROVIDERS = {"openai", "anthropic", "google", "openai_compatible", "scripted"}


def entry(model_id: str) -> ModelInfo:
    found = default_catalog().get(model_id)
    assert found is not None, model_id
    return found


def test_the_data_file_is_dated() -> None:
    data = json.loads(resources.files("agentflow.engine.providers").joinpath("models.json").read_text())
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["updated"])
    assert default_catalog().updated == data["updated"]


def test_every_entry_is_complete_and_consistent() -> None:
    catalog = default_catalog()
    assert len(catalog) >= 20
    for model in catalog.all():
        assert model.provider in KNOWN_PROVIDERS, model.id
        assert model.context_window > 0, model.id
        assert model.input_per_1m >= 0 and model.output_per_1m >= 0, model.id
        caps = model.capabilities
        assert caps.chat != caps.embeddings, model.id  # a model here is one or the other
        if caps.embeddings:
            assert caps.dimensions and caps.dimensions > 0, model.id
            # Vectors of different models are not comparable: never a fallback for embeddings.
            assert model.fallbacks == (), model.id
            assert model.output_per_1m == 0, model.id


def test_fallbacks_are_equivalent_chat_models_on_other_providers() -> None:
    catalog = default_catalog()
    for model in catalog.all():
        chain = catalog.fallback_chain(model.id)
        providers = [model.provider, *(fallback.provider for fallback in chain)]
        assert len(providers) == len(set(providers)), f"{model.id}: a provider repeats in its chain"
        for fallback in chain:
            assert fallback.capabilities.chat, (model.id, fallback.id)
            if model.capabilities.tools:
                assert fallback.capabilities.tools, (model.id, fallback.id)


def test_the_flagship_chains() -> None:
    catalog = default_catalog()
    assert [m.id for m in catalog.fallback_chain("gpt-4o")] == ["claude-sonnet-4-6", "gemini-2.5-pro"]
    assert [m.id for m in catalog.fallback_chain("gpt-4o-mini")] == ["claude-haiku-4-5", "gemini-2.5-flash"]
    assert [m.provider for m in catalog.fallback_chain("claude-sonnet-4-6")] == ["openai", "google"]
    assert [m.provider for m in catalog.fallback_chain("gemini-2.5-flash")] == ["openai", "anthropic"]


def test_cost_is_exact_decimal_arithmetic() -> None:
    catalog = default_catalog()
    usage = Usage(input_tokens=1234, output_tokens=567)
    # gpt-4o: $2.50 in / $10.00 out per 1M tokens
    assert catalog.cost("gpt-4o", usage) == Decimal("0.008755")
    assert catalog.cost("gpt-4o", Usage(1_000_000, 1_000_000)) == Decimal("12.50")
    # A million one-token calls add up to exactly the per-million price.
    one = catalog.cost("gpt-4o-mini", Usage(1, 0))
    assert sum((one for _ in range(1_000)), Decimal(0)) * 1000 == Decimal("0.15")
    assert catalog.cost("unknown-model", usage) == Decimal(0)
    assert catalog.cost("scripted-demo", usage) == Decimal(0)


def test_aliases_and_dated_snapshots_resolve() -> None:
    catalog = default_catalog()
    assert entry("claude-sonnet-4-5-20250929").id == "claude-sonnet-4-5"
    assert entry("gpt-4.1-2099-12-31").id == "gpt-4.1"
    assert catalog.get("gpt-99") is None
    assert "gpt-4o" in catalog and "gpt-99" not in catalog


def test_to_json_round_trips_prices_as_strings() -> None:
    described = entry("gemini-2.5-pro").to_json()
    assert described["input_per_1m"] == "1.25"
    assert described["capabilities"]["tools"] is True
    json.dumps(described)


@pytest.mark.parametrize(
    ("models", "message"),
    [
        (
            {"a": {"provider": "openai", "context_window": 1, "input_per_1m": "1", "fallbacks": ["zzz"]}},
            "not in the catalog",
        ),
        (
            {
                "a": {"provider": "openai", "context_window": 1, "input_per_1m": "1", "fallbacks": ["b"]},
                "b": {"provider": "openai", "context_window": 1, "input_per_1m": "1"},
            },
            "same provider",
        ),
        (
            {
                "a": {
                    "provider": "openai",
                    "context_window": 1,
                    "input_per_1m": "1",
                    "capabilities": {"telepathy": True},
                }
            },
            "unknown capabilities",
        ),
    ],
)
def test_a_broken_catalog_is_rejected(models: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelCatalog.from_json({"models": models})
