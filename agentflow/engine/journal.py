"""What a run records about its steps: step starts and finishes, and the events announcing them
(see `ExecutionStore` in agentflow/engine/runtime.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple


class Event(NamedTuple):
    """An event to emit (the engine adds the execution id to the payload)."""

    type: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class StepStart:
    """One attempt of one node about to run: its step row and the `step.started` event."""

    step_id: uuid.UUID
    node_id: str
    node_type: str
    attempt: int
    input: Any
    event: Event


@dataclass(frozen=True)
class StepFinish:
    """The end of a step (or its pause: waiting, waiting_approval) and the event announcing it."""

    step_id: uuid.UUID
    status: str
    output: Any
    error: dict[str, Any] | None
    tokens: int
    cost: Decimal
    duration_ms: int
    event: Event | None
