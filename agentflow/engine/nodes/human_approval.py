"""Human approval: pause the run until an approver approves or rejects, or the time runs out."""

from __future__ import annotations

from langgraph.types import interrupt
from pydantic import Field, field_validator

from agentflow.engine.nodes.base import Handle, NodeConfig, NodeType, template_hint, widget_hint
from agentflow.engine.nodes.context import NodeError, NodeResult, NodeRun

APPROVER_ROLES = frozenset({"owner", "admin", "editor"})


class ApprovalConfig(NodeConfig):
    message: str = Field(
        default="Please review and approve.",
        min_length=1,
        max_length=10_000,
        description="What approvers read, e.g. 'Send this reply? {{draft.output.text}}'.",
        json_schema_extra=template_hint(),
    )
    approvers: list[str] = Field(
        min_length=1,
        max_length=50,
        description="Who may decide: email addresses and/or org roles (owner, admin, editor).",
        json_schema_extra=widget_hint("approvers"),
    )
    timeout_hours: int = Field(
        default=72,
        ge=1,
        le=720,
        description="Continue on timed_out if nobody decides within this many hours (at most 30 days).",
    )

    @field_validator("approvers")
    @classmethod
    def _approvers_are_emails_or_roles(cls, approvers: list[str]) -> list[str]:
        for approver in approvers:
            if approver not in APPROVER_ROLES and not _is_email(approver):
                raise ValueError(f"{approver[:100]!r} is neither an email address nor a role (owner, admin, editor)")
        if len(set(approvers)) != len(approvers):
            raise ValueError("approvers must not repeat")
        return approvers


def _is_email(text: str) -> bool:
    # A shape check only: approvers are matched against org members when the run asks them.
    local, at, domain = text.rpartition("@")
    return (
        bool(at)
        and 0 < len(local) <= 64
        and 3 <= len(domain) <= 253
        and "." in domain.strip(".")
        and not any(character.isspace() or character in '<>()[]\\,;:"@' for character in local + domain)
    )


DECISION_HANDLES = {"approve": "approved", "reject": "rejected", "timeout": "timed_out"}


async def run(config: ApprovalConfig, run: NodeRun) -> NodeResult:
    """Interrupts with the rendered message; `run_execution` reports `waiting_approval` and the
    domain resumes it with {"decision": "approve"|"reject"|"timeout", "comment", "by"}."""
    message = run.render_text(config.message, "config.message")
    decision = interrupt(
        {
            "kind": "approval",
            "node_id": run.node_id,
            "step_id": str(run.step_id),
            "message": message,
            "approvers": list(config.approvers),
            "requested_at": run.now(),
            "expires_at": run.now() + config.timeout_hours * 3600,
        }
    )
    if not isinstance(decision, dict) or decision.get("decision") not in DECISION_HANDLES:
        raise NodeError("an approval is resumed with decision approve, reject or timeout", code="INVALID_DECISION")
    choice = decision["decision"]
    output = {
        "decision": choice,
        "comment": decision.get("comment"),
        "by": decision.get("by"),
        "message": message,
    }
    return NodeResult(output=output, handle=DECISION_HANDLES[choice])


NODE_TYPE = NodeType(
    type="human",
    subtype="approval",
    display_name="Human approval",
    description="Wait for a person to approve or reject before going on.",
    category="Human",
    icon="user-check",
    config_model=ApprovalConfig,
    handler=run,
    static_outputs=(Handle("approved", "Approved"), Handle("rejected", "Rejected"), Handle("timed_out", "Timed out")),
    has_side_effects=True,
)
