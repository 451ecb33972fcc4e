"""The one way AI nodes call a model: through the provider router, streaming `step.token` deltas."""

from __future__ import annotations

from typing import Any

from agentflow.engine.nodes.context import NodeResult, NodeRun
from agentflow.engine.nodes.llm_settings import LanguageModelSettings
from agentflow.engine.providers import ChatMessage, ChatRequest, ChatResponse, StreamDone, TextDelta
from agentflow.engine.providers.base import ResponseFormat


async def call_model(
    run: NodeRun,
    settings: LanguageModelSettings,
    *,
    system: str,
    user: str,
    response_format: ResponseFormat = None,
) -> ChatResponse:
    messages = [ChatMessage.system(system), ChatMessage.user(user)] if system else [ChatMessage.user(user)]
    request = ChatRequest(
        model=settings.model,
        messages=messages,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        response_format=response_format,
    )
    router = run.provider_router()
    if not run.stream_tokens:
        return await router.chat(request)
    final: ChatResponse | None = None
    async for event in router.stream(request):
        if isinstance(event, TextDelta) and event.text:
            await run.emit("step.token", {"node_id": run.node_id, "step_id": str(run.step_id), "delta": event.text})
        elif isinstance(event, StreamDone):
            final = event.response
    if final is None:
        from agentflow.engine.providers import MalformedResponse

        raise MalformedResponse("the stream ended without a final response", provider="router")
    return final


def model_result(response: ChatResponse, output: dict[str, Any], *, handle: str = "out") -> NodeResult:
    """The node's result with what the call cost: model, provider, tokens, cost."""
    usage = response.usage
    return NodeResult(
        output={
            **output,
            "model": response.model,
            "provider": response.provider,
            "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
            "finish_reason": response.finish_reason,
        },
        handle=handle,
        tokens=usage.total_tokens,
        cost=response.cost,
    )
