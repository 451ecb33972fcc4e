"""Start a coroutine eagerly: run it in the caller, synchronously, until it first has to wait.

Python 3.12's eager tasks do this for tasks; we run on 3.11, and need it without a task at all: a
live stream's event hub writes one event to hundreds of WebSockets in a row, and an ASGI send
almost never waits (only when the client's socket buffer is full). With a task switch per write,
each delivery cost ~28 % more CPU (see `agentflow.executions.stream.Subscription`).
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any


def start_eagerly(coroutine: Coroutine[Any, Any, None]) -> Awaitable[None] | None:
    """Run `coroutine` here until it finishes (None) or first waits: then an awaitable that runs
    the rest, to be awaited from a task of the running loop. Its exceptions propagate from this
    call or from that await, whichever runs the code that raises."""
    try:
        waiting_on = coroutine.send(None)
    except StopIteration:
        return None
    return _rest_of(coroutine, waiting_on)


@types.coroutine
def _rest_of(coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> Generator[Any, Any, None]:
    """`yield from coroutine`, picked up where `start_eagerly` left it: what the coroutine waits on
    goes up to the awaiting task, and the task's answers (results, exceptions, cancellation) go
    back down to it."""
    while True:
        try:
            answer = yield waiting_on
        except GeneratorExit:
            coroutine.close()
            raise
        except BaseException as exc:
            try:
                waiting_on = coroutine.throw(exc)
            except StopIteration:
                return
        else:
            try:
                waiting_on = coroutine.send(answer)
            except StopIteration:
                return
