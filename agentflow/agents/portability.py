"""Agents as code: export an agent to a YAML or JSON document and import it anywhere.

The document holds what defines the agent — name, description, settings and its graph — and
nothing tied to one org (no ids of the agent, authors or timestamps) and never a secret: node
configs only ever reference credentials by id. The format is documented in docs/agent-format.md;
exporting an imported document gives back the same document.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import orjson
import yaml
from pydantic import Field, ValidationError

from agentflow.agents.schemas import AgentCreateIn, AgentSettings, Description, Name
from agentflow.kit.errors import BadRequest, Unprocessable
from agentflow.kit.schemas import RequestModel

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


class AgentDocument(RequestModel):
    agentflow: Literal[1] = Field(1, description="Document format version")
    kind: Literal["agent"] = "agent"
    name: Name
    description: Description | None = None
    settings: AgentSettings = Field(default_factory=AgentSettings)
    definition: dict[str, Any]


def to_document(
    *, name: str, description: str | None, settings: dict[str, Any], definition: dict[str, Any]
) -> dict[str, Any]:
    document = AgentDocument(
        name=name,
        description=description,
        settings=AgentSettings.model_validate(settings),
        definition=definition,
    )
    return document.model_dump(mode="json")


def render(document: dict[str, Any], fmt: Literal["yaml", "json"]) -> tuple[bytes, str]:
    if fmt == "json":
        return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n", "application/json"
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return text.encode(), "application/yaml"


class _NoAliasLoader(yaml.SafeLoader):
    """safe_load builds only plain data (no tags, objects or code), but anchors and aliases
    let a few bytes expand into billions of nodes for whatever walks the result next; an agent
    document never needs them."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed", None)
        return super().compose_node(parent, index)


def parse(body: bytes, content_type: str | None) -> AgentDocument:
    """Read a document from a request body (YAML or JSON, by Content-Type; YAML when unsure,
    since every JSON document is also YAML)."""
    media = (content_type or "").split(";")[0].strip().lower()
    try:
        if media == "application/json":
            data = orjson.loads(body)
        elif media in YAML_TYPES or media in ("", "text/plain"):
            data = yaml.load(body, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
        else:
            raise BadRequest(f"Send the document as YAML or JSON, not {media!r}", code="UNSUPPORTED_MEDIA_TYPE")
    except (orjson.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("The document is not valid YAML or JSON", code="MALFORMED_DOCUMENT") from exc
    if not isinstance(data, dict):
        raise Unprocessable("The document must be a mapping with name and definition", code="INVALID_DOCUMENT")
    try:
        return AgentDocument.model_validate(data)
    except ValidationError as exc:
        fields = [{"loc": [str(p) for p in e["loc"]], "message": e["msg"], "type": e["type"]} for e in exc.errors()]
        raise Unprocessable("The document is invalid", code="INVALID_DOCUMENT", details={"fields": fields}) from exc


def as_create_request(document: AgentDocument) -> AgentCreateIn:
    return AgentCreateIn(
        name=document.name,
        description=document.description,
        settings=document.settings,
        definition=document.definition,
    )


def export_filename(name: str, agent_id: uuid.UUID, fmt: str) -> str:
    stem = (
        "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in name.lower()).strip("-")[:60]
        or "agent"
    )
    return f"{stem}-{str(agent_id)[:8]}.{fmt}"
