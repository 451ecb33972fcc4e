"""Hand-written definitions shared by the engine tests."""

from __future__ import annotations

import copy
import itertools
from typing import Any

KB_ID = "5b1f4a52-7c1e-4c55-9a53-4d2f8f0f3a10"


def node(node_id: str, key: str, config: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    node_type, subtype = key.split(".")
    return {"id": node_id, "type": node_type, "subtype": subtype, "config": config or {}, **extra}


def edge(source: str, target: str, handle: str = "out", edge_id: str | None = None) -> dict[str, Any]:
    return {"id": edge_id or f"{source}-{handle}-{target}", "source": source, "source_handle": handle, "target": target}


def definition(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schema_version": 1, "nodes": nodes, "edges": edges}


def minimal(*more_nodes: dict[str, Any], edges: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A manual trigger followed by the given nodes in a chain (unless edges are given)."""
    nodes = [node("start", "trigger.manual"), *more_nodes]
    if edges is None:
        edges = [edge(a["id"], b["id"]) for a, b in itertools.pairwise(nodes)]
    return definition(nodes, edges)


def chat(node_id: str, prompt: str = "Hello {{trigger.data.name}}") -> dict[str, Any]:
    return node(node_id, "ai.chat", {"prompt": prompt})


REALISTIC: dict[str, Any] = definition(
    nodes=[
        node(
            "inbound",
            "trigger.webhook",
            {"respond_mode": "when_done", "response_timeout_seconds": 60},
            label="Inbound lead",
            position={"x": 0, "y": 0},
        ),
        node(
            "settings",
            "transform.set_variables",
            {"variables": {"team_channel": "#sales", "threshold": 0.8}},
        ),
        node(
            "classify_lead",
            "ai.classify",
            {
                "input": "{{trigger.data.message}}",
                "categories": [
                    {"key": "sales", "description": "wants to buy"},
                    {"key": "support", "description": "needs help"},
                    {"key": "spam", "description": "junk"},
                ],
            },
        ),
        node(
            "priority",
            "logic.switch",
            {
                "value": "{{trigger.data.plan | lower}}",
                "cases": [{"key": "enterprise", "equals": "enterprise"}, {"key": "team", "equals": "team"}],
            },
        ),
        node(
            "is_urgent",
            "logic.if_else",
            {
                "conditions": {
                    "combinator": "or",
                    "conditions": [
                        {"left": "{{trigger.data.subject}}", "operator": "matches", "right": "(?i)urgent|asap"},
                        {
                            "combinator": "and",
                            "conditions": [
                                {"left": "{{trigger.data.score}}", "operator": "greater_than", "right": 50},
                                {"left": "{{vars.threshold}}", "operator": "is_not_empty"},
                            ],
                        },
                    ],
                }
            },
        ),
        node("lookup", "knowledge.retrieval", {"knowledge_base_id": KB_ID, "query": "{{trigger.data.message}}"}),
        node(
            "each_product",
            "logic.loop",
            {"items": "{{trigger.data.products}}", "max_iterations": 20},
        ),
        node(
            "describe_product",
            "ai.chat",
            {
                "system_prompt": "You are a sales assistant.",
                "prompt": "Product #{{loop.index}}: {{loop.item.name}}. Context: {{lookup.output.context}}",
            },
        ),
        node(
            "log_product",
            "action.tool",
            {
                "tool": "http.request",
                "params": {"url": "https://crm.example.com/log", "body": {"text": "{{describe_product.output.text}}"}},
            },
        ),
        node("join", "logic.merge", {"mode": "any"}),
        node(
            "draft",
            "ai.summarize",
            {"input": "{{trigger.data.message}}\n{{classify_lead.output.category}}", "style": "bullets"},
        ),
        node(
            "approve",
            "human.approval",
            {"message": "Send? {{draft.output.text}}", "approvers": ["admin", "lead@example.com"]},
        ),
        node(
            "notify",
            "action.tool",
            {
                "tool": "slack.send_message",
                "params": {"channel": "{{vars.team_channel}}", "text": "{{draft.output.text}}"},
                "credential_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
            },
        ),
        node("reply", "flow.respond", {"body": "{{draft.output}}", "status_code": 200}),
        node("rejected_reply", "flow.respond", {"body": "Not approved", "status_code": 202}),
        node("failed", "flow.respond", {"body": "Classification failed", "status_code": 500}),
    ],
    edges=[
        edge("inbound", "settings"),
        edge("settings", "classify_lead"),
        edge("classify_lead", "priority", "sales"),
        edge("classify_lead", "join", "support"),
        edge("classify_lead", "join", "spam"),
        edge("classify_lead", "failed", "error"),
        edge("priority", "is_urgent", "enterprise"),
        edge("priority", "is_urgent", "team"),
        edge("priority", "join", "default"),
        edge("is_urgent", "lookup", "true"),
        edge("is_urgent", "join", "false"),
        edge("lookup", "each_product"),
        edge("lookup", "join", "error"),
        edge("each_product", "describe_product", "loop_body"),
        edge("describe_product", "log_product"),
        edge("describe_product", "log_product", "error", edge_id="describe-error"),
        edge("log_product", "each_product"),
        edge("log_product", "each_product", "error", edge_id="log-error-back"),
        edge("each_product", "join", "done"),
        edge("join", "draft"),
        edge("draft", "approve"),
        edge("approve", "notify", "approved"),
        edge("approve", "rejected_reply", "rejected"),
        edge("approve", "rejected_reply", "timed_out"),
        edge("notify", "reply"),
        edge("notify", "reply", "error", edge_id="notify-error"),
    ],
)


def realistic() -> dict[str, Any]:
    return copy.deepcopy(REALISTIC)
