"""Knowledge retrieval: find the passages of a knowledge base closest to a query.

Output: {{id.output.results}} — a list of {text, score, document_id, metadata}, best first — and
{{id.output.context}}, the passages joined for a prompt.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from agentflow.engine.nodes.base import ERROR_OUTPUT, OUTPUT, NodeConfig, NodeType, template_hint, widget_hint
from agentflow.engine.nodes.context import NodeError, NodeResult, NodeRun


class RetrievalConfig(NodeConfig):
    knowledge_base_id: UUID = Field(
        strict=False,  # arrives as a JSON string
        description="The knowledge base to search.",
        json_schema_extra=widget_hint("knowledge-base"),
    )
    query: str = Field(
        min_length=1,
        max_length=10_000,
        description="What to look for, e.g. {{trigger.data.question}}.",
        json_schema_extra=template_hint(),
    )
    top_k: int = Field(default=5, ge=1, le=50, description="How many passages to return at most.")
    min_score: float = Field(default=0.0, ge=0, le=1, description="Drop passages less similar than this (0 to 1).")


async def run(config: RetrievalConfig, run: NodeRun) -> NodeResult:
    raise NodeError("knowledge retrieval is not available yet (it ships with knowledge bases)", code="NOT_AVAILABLE")


NODE_TYPE = NodeType(
    type="knowledge",
    subtype="retrieval",
    display_name="Knowledge retrieval",
    description="Search a knowledge base and pass the best passages on.",
    category="Knowledge",
    icon="book-open",
    config_model=RetrievalConfig,
    handler=run,
    static_outputs=(OUTPUT, ERROR_OUTPUT),
)
