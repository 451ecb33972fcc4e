"""The model catalog: which provider serves a model, its limits, prices, capabilities and fallbacks.

The facts live in `models.json` (dated, hand-maintained from the providers' published model and
pricing pages) so a price change is a data edit reviewed on its own, not a code change. Prices are
kept as decimal strings and computed with `Decimal`, so a million calls add up to the cent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from agentflow.engine.providers.base import Usage

_PER_MILLION = Decimal(1_000_000)
# Dated snapshots ("gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929") price like their family id.
_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")


@dataclass(frozen=True, slots=True)
class Capabilities:
    chat: bool = True
    tools: bool = False
    json_mode: bool = False
    json_schema: bool = False
    vision: bool = False
    streaming: bool = True
    embeddings: bool = False
    dimensions: int | None = None
    # Reasoning models accept only their default temperature; the router leaves it unset for them.
    temperature: bool = True

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Capabilities:
        known = {name for name in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown capabilities: {sorted(unknown)}")
        return cls(**data)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    provider: str
    display_name: str
    context_window: int
    max_output_tokens: int | None
    input_per_1m: Decimal
    output_per_1m: Decimal
    capabilities: Capabilities
    # Equivalent models on other providers, in the order the router should try them.
    fallbacks: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    notes: str = ""

    def cost(self, usage: Usage) -> Decimal:
        return (usage.input_tokens * self.input_per_1m + usage.output_tokens * self.output_per_1m) / _PER_MILLION

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description (the API's `GET /models` renders this)."""
        caps = self.capabilities
        return {
            "id": self.id,
            "provider": self.provider,
            "display_name": self.display_name,
            "context_window": self.context_window,
            "max_output_tokens": self.max_output_tokens,
            "input_per_1m": str(self.input_per_1m),
            "output_per_1m": str(self.output_per_1m),
            "capabilities": {name: getattr(caps, name) for name in caps.__dataclass_fields__},
            "fallbacks": list(self.fallbacks),
            "aliases": list(self.aliases),
            "notes": self.notes,
        }


class ModelCatalog:
    def __init__(self, models: Iterable[ModelInfo], *, updated: str = "") -> None:
        self.updated = updated
        self._models: dict[str, ModelInfo] = {}
        self._aliases: dict[str, str] = {}
        for model in models:
            if model.id in self._models:
                raise ValueError(f"model {model.id!r} is listed twice")
            self._models[model.id] = model
            for alias in model.aliases:
                self._aliases[alias] = model.id
        for model in self._models.values():
            for fallback in model.fallbacks:
                target = self._models.get(fallback)
                if target is None:
                    raise ValueError(f"{model.id}: fallback {fallback!r} is not in the catalog")
                if target.provider == model.provider:
                    # A fallback exists to survive a provider outage; the same provider would share it.
                    raise ValueError(f"{model.id}: fallback {fallback!r} is on the same provider")

    @classmethod
    def load(cls, path: str | Path | None = None) -> ModelCatalog:
        """The catalog from `path`, or the `models.json` shipped with this package."""
        if path is None:
            text = resources.files(__package__ or "agentflow.engine.providers").joinpath("models.json").read_text()
        else:
            text = Path(path).read_text(encoding="utf-8")
        return cls.from_json(json.loads(text))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelCatalog:
        models = []
        for model_id, entry in data["models"].items():
            models.append(
                ModelInfo(
                    id=model_id,
                    provider=entry["provider"],
                    display_name=entry.get("display_name", model_id),
                    context_window=int(entry["context_window"]),
                    max_output_tokens=entry.get("max_output_tokens"),
                    input_per_1m=Decimal(str(entry["input_per_1m"])),
                    output_per_1m=Decimal(str(entry.get("output_per_1m", "0"))),
                    capabilities=Capabilities.from_json(entry.get("capabilities", {})),
                    fallbacks=tuple(entry.get("fallbacks", ())),
                    aliases=tuple(entry.get("aliases", ())),
                    notes=entry.get("notes", ""),
                )
            )
        return cls(models, updated=str(data.get("updated", "")))

    def get(self, model_id: str) -> ModelInfo | None:
        """The entry for a catalog id, an alias, or a dated snapshot of a catalog id."""
        found = self._models.get(model_id)
        if found is not None:
            return found
        canonical = self._aliases.get(model_id)
        if canonical is not None:
            return self._models[canonical]
        undated = _DATE_SUFFIX.sub("", model_id)
        if undated != model_id:
            return self._models.get(undated) or self._models.get(self._aliases.get(undated, ""))
        return None

    def all(self) -> list[ModelInfo]:
        return sorted(self._models.values(), key=lambda model: (model.provider, model.id))

    def providers(self) -> set[str]:
        return {model.provider for model in self._models.values()}

    def fallback_chain(self, model_id: str) -> list[ModelInfo]:
        model = self.get(model_id)
        return [self._models[fallback] for fallback in model.fallbacks] if model else []

    def cost(self, model_id: str, usage: Usage) -> Decimal:
        """The USD cost of `usage` on `model_id`; zero for models whose price we do not know."""
        model = self.get(model_id)
        return model.cost(usage) if model else Decimal(0)

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and self.get(model_id) is not None

    def __len__(self) -> int:
        return len(self._models)


_default: ModelCatalog | None = None


def default_catalog() -> ModelCatalog:
    """The packaged catalog, parsed once per process."""
    global _default
    if _default is None:
        _default = ModelCatalog.load()
    return _default
