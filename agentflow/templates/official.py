"""Official templates ship as YAML files beside this module and are seeded (upserted by slug)
after every migration run, so a release updates them in place and installs keep their counts.

Each file is an agent document (docs/agent-format.md) plus a `template:` block with the slug,
category and icon.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg
import yaml

from agentflow.agents.portability import AgentDocument
from agentflow.engine.spec import AgentDefinition
from agentflow.engine.validation import validate_definition

OFFICIAL_DIR = Path(__file__).parent / "official"


@dataclass(frozen=True)
class OfficialTemplate:
    slug: str
    category: str
    icon: str
    document: AgentDocument


def load_official_templates() -> list[OfficialTemplate]:
    templates = []
    for path in sorted(OFFICIAL_DIR.glob("*.yaml")):
        raw: dict[str, Any] = yaml.safe_load(path.read_text())
        meta = raw.pop("template")
        templates.append(
            OfficialTemplate(
                slug=meta["slug"],
                category=meta["category"],
                icon=meta["icon"],
                document=AgentDocument.model_validate(raw),
            )
        )
    return templates


def normalized_definition(raw: dict[str, Any]) -> dict[str, Any]:
    """The same JSON form the API stores for drafts and versions, so installs compare equal."""
    return AgentDefinition.model_validate(raw).model_dump(mode="json")


def seed_official_templates(owner_url: str) -> int:
    """Upsert every official template as the schema owner; returns how many were written.
    A template that does not validate stops the release here, not in a user's builder."""
    templates = load_official_templates()
    for template in templates:
        definition, issues = validate_definition(template.document.definition)
        if definition is None or issues:
            raise ValueError(f"official template {template.slug!r} is invalid: {issues}")
    with psycopg.connect(owner_url) as conn, conn.transaction():
        for template in templates:
            doc = template.document
            conn.execute(
                """
                INSERT INTO agent_templates
                    (slug, name, description, category, icon, definition, settings, is_official, is_public)
                VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, true, true)
                ON CONFLICT (slug) DO UPDATE SET
                    name = EXCLUDED.name, description = EXCLUDED.description, category = EXCLUDED.category,
                    icon = EXCLUDED.icon, definition = EXCLUDED.definition, settings = EXCLUDED.settings
                """,
                (
                    template.slug,
                    doc.name,
                    doc.description,
                    template.category,
                    template.icon,
                    orjson.dumps(normalized_definition(doc.definition)).decode(),
                    orjson.dumps(doc.settings.model_dump()).decode(),
                ),
            )
    return len(templates)
