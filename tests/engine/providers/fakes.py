"""Local servers on 127.0.0.1 that speak the OpenAI, Anthropic and Gemini wire formats.

The real SDKs are pointed at them by base URL, so every test exercises the SDK's own request
building, HTTP, SSE parsing and error mapping. Each server is scriptable per test — queue the
behaviours of the next requests (a reply, a tool call, an HTTP error with headers, a hang, a body
that is not JSON) — and records every request it gets (path, headers, JSON body), so a test can
assert which key and which model were sent.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Reply:
    """A normal answer: text and/or tool calls `(name, arguments)`, with the usage to report."""

    text: str = "Hello from the fake server."
    tool_calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    usage: tuple[int, int] = (12, 6)
    model: str | None = None  # default: echo the requested model
    finish: str | None = None  # default: the provider's normal stop / tool-use reason


@dataclass(frozen=True)
class Status:
    """An HTTP error answer; `body` None means the provider's usual error envelope around `message`."""

    status: int
    message: str = "error"
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    code: str | None = None


@dataclass(frozen=True)
class Hang:
    """Accept the request and send nothing for `seconds` (the client's timeout must fire first)."""

    seconds: float = 3.0


@dataclass(frozen=True)
class Malformed:
    """200 OK whose body claims to be JSON and is not."""

    text: str = '{"id": "oops", "choices": [ this is not json'


@dataclass(frozen=True)
class Raw:
    """Exactly this body (e.g. a hand-written SSE stream), for wire details no other behaviour covers."""

    body: str
    status: int = 200
    media_type: str = "application/json"


Behaviour = Reply | Status | Hang | Malformed | Raw


def words(text: str) -> list[str]:
    """`text` split into word-sized pieces that concatenate back to it exactly."""
    pieces: list[str] = []
    for index, word in enumerate(text.split(" ")):
        pieces.append(word if index == 0 else " " + word)
    return [piece for piece in pieces if piece]


class FakeServer(ABC):
    """uvicorn in a background thread on a free port; subclasses answer in one provider's format."""

    def __init__(self) -> None:
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST"])])
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="error", lifespan="off", timeout_graceful_shutdown=1, access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return self
            threading.Event().wait(0.01)
        raise RuntimeError("fake server did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def script(self, *behaviours: Behaviour) -> None:
        """The next requests get these behaviours in order; after that, the default reply."""
        with self._lock:
            self._queue.extend(behaviours)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    def calls(self, path_suffix: str = "") -> list[Recorded]:
        with self._lock:
            return [request for request in self.requests if request.path.endswith(path_suffix)]

    async def _endpoint(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode(errors="replace")
        recorded = Recorded(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={key.lower(): value for key, value in request.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(recorded)
            behaviour = self._queue.popleft() if self._queue else None
        if isinstance(behaviour, Hang):
            # Until the client gives up (its timeout closes the connection), so no hung task outlives it.
            for _ in range(int(behaviour.seconds / 0.02)):
                if await request.is_disconnected():
                    break
                await asyncio.sleep(0.02)
            return Response(status_code=504)
        if isinstance(behaviour, Malformed):
            return Response(behaviour.text, status_code=200, media_type="application/json")
        if isinstance(behaviour, Raw):
            return Response(behaviour.body, status_code=behaviour.status, media_type=behaviour.media_type)
        if isinstance(behaviour, Status):
            body = behaviour.body if behaviour.body is not None else self.error_body(behaviour)
            return JSONResponse(body, status_code=behaviour.status, headers=behaviour.headers)
        return self.answer(recorded, behaviour if isinstance(behaviour, Reply) else None)

    @abstractmethod
    def error_body(self, status: Status) -> Any:
        """The provider's error envelope around `status.message`."""

    @abstractmethod
    def answer(self, request: Recorded, reply: Reply | None) -> Response:
        """The provider's answer to one request (None: the default reply)."""


def sse(events: Iterable[str]) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        for event in events:
            yield event.encode()

    return StreamingResponse(body(), media_type="text/event-stream")


def not_found(path: str) -> JSONResponse:
    return JSONResponse({"error": {"message": f"no route {path}"}}, status_code=404)


class FakeOpenAI(FakeServer):
    """`/v1/chat/completions` (plain and `stream: true` with a final usage chunk), `/v1/embeddings`,
    `/v1/models`; any path prefix, so Azure's `/openai/deployments/{name}/…` works too."""

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def error_body(self, status: Status) -> Any:
        kinds = {400: "invalid_request_error", 401: "invalid_request_error", 429: "rate_limit_error"}
        return {
            "error": {
                "message": status.message,
                "type": kinds.get(status.status, "server_error"),
                "param": None,
                "code": status.code,
            }
        }

    def answer(self, request: Recorded, reply: Reply | None) -> Response:
        reply = reply or Reply()
        if request.path.endswith("/chat/completions"):
            return self._chat(request, reply)
        if request.path.endswith("/embeddings"):
            inputs = request.body["input"]
            inputs = [inputs] if isinstance(inputs, str) else inputs
            data = [
                {"object": "embedding", "index": index, "embedding": [float(len(text)), float(index), 0.5]}
                for index, text in enumerate(inputs)
            ]
            tokens = sum(len(text.split()) for text in inputs)
            return JSONResponse(
                {
                    "object": "list",
                    "data": data,
                    "model": request.body["model"],
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                }
            )
        if request.path.endswith("/models"):
            return JSONResponse(
                {"object": "list", "data": [{"id": "gpt-4o", "object": "model", "created": 0, "owned_by": "fake"}]}
            )
        return not_found(request.path)

    def _chat(self, request: Recorded, reply: Reply) -> Response:
        model = reply.model or request.body.get("model", "unknown")
        finish = reply.finish or ("tool_calls" if reply.tool_calls else "stop")
        prompt_tokens, completion_tokens = reply.usage
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        tool_calls: list[dict[str, Any]] = [
            {"id": f"call_{index}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            for index, (name, args) in enumerate(reply.tool_calls)
        ]
        if not request.body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": reply.text or None, "refusal": None}
            if tool_calls:
                message["tool_calls"] = tool_calls
            return JSONResponse(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 1_700_000_000,
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                    "usage": usage,
                }
            )

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
            payload = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 1_700_000_000,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
            }
            return f"data: {json.dumps(payload)}\n\n"

        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": piece}) for piece in words(reply.text)]
        for index, call in enumerate(tool_calls):
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2
            head = {"index": index, "id": call["id"], "type": "function"}
            events.append(
                chunk({"tool_calls": [{**head, "function": {"name": call["function"]["name"], "arguments": ""}}]})
            )
            events.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[:half]}}]}))
            events.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[half:]}}]}))
        events.append(chunk({}, finish))
        if (request.body.get("stream_options") or {}).get("include_usage"):
            payload: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 1_700_000_000,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            events.append(f"data: {json.dumps(payload)}\n\n")
        events.append("data: [DONE]\n\n")
        return sse(events)


class FakeAnthropic(FakeServer):
    """`/v1/messages` (plain, and the SSE event stream), `/v1/models`."""

    @property
    def base_url(self) -> str:
        return self.origin

    def error_body(self, status: Status) -> Any:
        kinds = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_error",
            529: "overloaded_error",
        }
        return {"type": "error", "error": {"type": kinds.get(status.status, "api_error"), "message": status.message}}

    def answer(self, request: Recorded, reply: Reply | None) -> Response:
        reply = reply or Reply()
        if request.path.endswith("/v1/messages"):
            return self._messages(request, reply)
        if request.path.endswith("/v1/models"):
            model = {
                "type": "model",
                "id": "claude-sonnet-4-5",
                "display_name": "Claude",
                "created_at": "2025-01-01T00:00:00Z",
            }
            return JSONResponse({"data": [model], "has_more": False, "first_id": model["id"], "last_id": model["id"]})
        return not_found(request.path)

    def _messages(self, request: Recorded, reply: Reply) -> Response:
        model = reply.model or request.body.get("model", "unknown")
        stop = reply.finish or ("tool_use" if reply.tool_calls else "end_turn")
        input_tokens, output_tokens = reply.usage
        blocks: list[dict[str, Any]] = []
        if reply.text:
            blocks.append({"type": "text", "text": reply.text})
        for index, (name, args) in enumerate(reply.tool_calls):
            blocks.append({"type": "tool_use", "id": f"toolu_{index}", "name": name, "input": args})
        message = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }
        if not request.body.get("stream"):
            return JSONResponse(message)

        def event(kind: str, data: dict[str, Any]) -> str:
            return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1},
        }
        events = [event("message_start", {"message": start}), event("ping", {})]
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                events.append(
                    event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
                )
                for piece in words(block["text"]):
                    events.append(
                        event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": piece}})
                    )
            else:
                opened = {**block, "input": {}}
                events.append(event("content_block_start", {"index": index, "content_block": opened}))
                arguments = json.dumps(block["input"])
                half = len(arguments) // 2
                for part in (arguments[:half], arguments[half:]):
                    delta = {"type": "input_json_delta", "partial_json": part}
                    events.append(event("content_block_delta", {"index": index, "delta": delta}))
            events.append(event("content_block_stop", {"index": index}))
        events.append(
            event(
                "message_delta",
                {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": output_tokens}},
            )
        )
        events.append(event("message_stop", {}))
        return sse(events)


class FakeGemini(FakeServer):
    """`/v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`, `:embedContent`,
    `:batchEmbedContents`, and `GET /v1beta/models`."""

    @property
    def base_url(self) -> str:
        return self.origin

    def error_body(self, status: Status) -> Any:
        statuses = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }
        return {
            "error": {
                "code": status.status,
                "message": status.message,
                "status": statuses.get(status.status, "UNKNOWN"),
            }
        }

    def answer(self, request: Recorded, reply: Reply | None) -> Response:
        reply = reply or Reply()
        path = request.path
        model = path.rsplit("/", 1)[-1].split(":", 1)[0]
        if path.endswith(":generateContent"):
            return JSONResponse(self._response(reply, model, final=True, text=reply.text))
        if path.endswith(":streamGenerateContent"):
            pieces = words(reply.text) or [""]
            events = []
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                payload = self._response(reply, model, final=last, text=piece, with_calls=last)
                events.append(f"data: {json.dumps(payload)}\r\n\r\n")
            return sse(events)
        if path.endswith(":batchEmbedContents"):
            texts = [item["content"]["parts"][0]["text"] for item in request.body["requests"]]
            return JSONResponse({"embeddings": [{"values": [float(len(text)), 0.25]} for text in texts]})
        if path.endswith(":embedContent"):
            contents = request.body.get("content") or request.body.get("contents")
            text = contents["parts"][0]["text"] if isinstance(contents, dict) else contents[0]["parts"][0]["text"]
            return JSONResponse({"embedding": {"values": [float(len(text)), 0.25]}})
        if path.endswith("/models"):
            return JSONResponse({"models": [{"name": "models/gemini-2.5-flash", "displayName": "Gemini"}]})
        return not_found(path)

    def _response(self, reply: Reply, model: str, *, final: bool, text: str, with_calls: bool = True) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        if text:
            parts.append({"text": text})
        if with_calls:
            for name, args in reply.tool_calls:
                parts.append({"functionCall": {"name": name, "args": args}, "thoughtSignature": "c2lnbmF0dXJl"})
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if final:
            candidate["finishReason"] = reply.finish or "STOP"
        payload: dict[str, Any] = {"candidates": [candidate], "modelVersion": reply.model or model, "responseId": "r1"}
        if final:
            prompt, output = reply.usage
            payload["usageMetadata"] = {
                "promptTokenCount": prompt,
                "candidatesTokenCount": output,
                "totalTokenCount": prompt + output,
            }
        return payload
