"""Per-node retry policy: exponential backoff with full jitter, only for retryable errors."""

from __future__ import annotations

from dataclasses import dataclass

from agentflow.engine.nodes.context import NodeError
from agentflow.engine.providers.errors import ProviderError


@dataclass(frozen=True)
class NodeRetryPolicy:
    max_retries: int = 0
    backoff_base: float = 1.0
    """Seconds before the first retry; doubles each time."""
    backoff_max: float = 60.0
    jitter: bool = True

    def delay(self, retry_number: int, unit_random: float) -> float:
        """Seconds to wait before retry `retry_number` (1-based); full jitter in [50%, 100%] of the cap."""
        ceiling = min(self.backoff_base * 2.0 ** (retry_number - 1), self.backoff_max)
        return ceiling * (0.5 + unit_random / 2) if self.jitter else ceiling


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, NodeError):
        return error.retryable
    if isinstance(error, ProviderError):
        return error.is_retryable
    return isinstance(error, TimeoutError | ConnectionError)
