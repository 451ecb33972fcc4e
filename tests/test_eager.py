"""`start_eagerly`: a coroutine runs in the caller until it first waits; the rest, awaited from a
task, behaves as if the task had awaited the coroutine from the start."""

from __future__ import annotations

import asyncio
import gc

import pytest

from agentflow.kit.eager import start_eagerly


async def test_a_coroutine_that_never_waits_runs_to_the_end_right_here() -> None:
    ran: list[str] = []

    async def write() -> None:
        ran.append("written")

    assert start_eagerly(write()) is None
    assert ran == ["written"]


async def test_the_part_before_the_first_wait_runs_here_the_rest_when_awaited() -> None:
    ran: list[str] = []
    ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def write() -> None:
        ran.append("before")
        await ready
        ran.append("after")
        await asyncio.sleep(0)  # a bare yield to the loop, too
        ran.append("end")

    rest = start_eagerly(write())
    assert rest is not None
    assert ran == ["before"]
    finishing = asyncio.ensure_future(rest)
    await asyncio.sleep(0.01)
    assert ran == ["before"]
    ready.set_result(None)
    await asyncio.wait_for(finishing, 1)
    assert ran == ["before", "after", "end"]


async def test_errors_are_raised_where_the_code_that_raises_runs() -> None:
    async def fails_at_once() -> None:
        raise ConnectionResetError("gone")

    with pytest.raises(ConnectionResetError):
        start_eagerly(fails_at_once())

    async def fails_later(ready: asyncio.Future[None]) -> None:
        await ready
        raise ConnectionResetError("gone later")

    loop = asyncio.get_running_loop()
    failing, succeeding = loop.create_future(), loop.create_future()
    rest = start_eagerly(fails_later(failing))
    assert rest is not None
    failing.set_exception(OSError("the future failed"))
    with pytest.raises(OSError, match="the future failed"):
        await rest
    rest = start_eagerly(fails_later(succeeding))
    assert rest is not None
    succeeding.set_result(None)
    with pytest.raises(ConnectionResetError, match="gone later"):
        await rest


async def test_cancelling_the_awaiting_task_cancels_the_coroutine_where_it_waits() -> None:
    seen: list[str] = []
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def write() -> None:
        try:
            await never
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        finally:
            seen.append("cleaned up")

    rest = start_eagerly(write())
    assert rest is not None
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled", "cleaned up"]
    assert never.cancelled()


async def test_a_rest_never_awaited_closes_its_coroutine_quietly(recwarn: pytest.WarningsRecorder) -> None:
    """E.g. the stream's task was cancelled before it took over the write."""
    seen: list[str] = []
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def write() -> None:
        try:
            await never
        finally:
            seen.append("closed")

    rest = start_eagerly(write())
    assert rest is not None
    del rest
    gc.collect()
    assert seen == ["closed"]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
