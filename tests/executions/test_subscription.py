"""A live stream's subscription: events wake it at once; an idle one wakes when the hub's ticker
finds its heartbeat deadline passed (one ticker per API process, no timer per wait). With a
`write`, the hub writes a waiting stream's next event itself, and hands anything else to its task."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from agentflow.executions.stream import Event, Subscription, parse_event


def event(seq: int, kind: str = "step.started") -> Event:
    parsed = parse_event(f'{{"seq": {seq}, "type": "{kind}"}}')
    assert parsed is not None
    return parsed


async def test_an_event_wakes_a_waiting_subscription() -> None:
    subscription = Subscription("execution:x", limit=10)
    waiting = asyncio.create_task(subscription.wait(60, last=0))
    await asyncio.sleep(0)
    subscription.push(event(1))
    assert await asyncio.wait_for(waiting, 1) is True
    assert [e.seq for e in subscription.take()] == [1]


async def test_the_ticker_ends_an_idle_wait_once_its_deadline_passed() -> None:
    subscription = Subscription("execution:x", limit=10)
    loop = asyncio.get_running_loop()
    waiting = asyncio.create_task(subscription.wait(5, last=0))
    await asyncio.sleep(0)
    subscription.tick(loop.time() + 1)  # not due yet
    await asyncio.sleep(0)
    assert not waiting.done()
    subscription.tick(loop.time() + 6)
    assert await asyncio.wait_for(waiting, 1) is False
    subscription.take()
    # A later tick does not wake the next wait early: the deadline was spent.
    again = asyncio.create_task(subscription.wait(5, last=0))
    await asyncio.sleep(0)
    subscription.tick(loop.time() + 1)
    await asyncio.sleep(0)
    assert not again.done()
    again.cancel()


async def test_an_event_arriving_with_the_deadline_is_reported_as_an_event() -> None:
    subscription = Subscription("execution:x", limit=10)
    loop = asyncio.get_running_loop()
    waiting = asyncio.create_task(subscription.wait(1, last=0))
    await asyncio.sleep(0)
    subscription.tick(loop.time() + 2)
    subscription.push(event(1))
    assert await asyncio.wait_for(waiting, 1) is True


class Client:
    """A WebSocket as the fast path sees it: takes a message now, or holds it back until
    `drain()` (a full socket buffer), or is gone."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.full: asyncio.Future[None] | None = None
        self.gone = False

    def write(self, message: str) -> Awaitable[None] | None:
        if self.gone:
            raise ConnectionResetError("the client is gone")
        if self.full is None:
            self.received.append(message)
            return None

        async def when_drained(full: asyncio.Future[None]) -> None:
            await full
            self.received.append(message)

        return when_drained(self.full)

    def seqs(self) -> list[int]:
        return [int(message.split(",")[0].removeprefix('{"seq": ')) for message in self.received]


async def waiting(subscription: Subscription, last: int) -> asyncio.Task[bool]:
    task = asyncio.create_task(subscription.wait(60, last=last))
    await asyncio.sleep(0)
    return task


async def test_a_waiting_streams_next_events_are_written_by_the_hub_without_waking_it() -> None:
    client = Client()
    subscription = Subscription("execution:x", limit=10, write=client.write)
    task = await waiting(subscription, last=4)
    for seq in (5, 6, 7):
        subscription.push(event(seq))
    await asyncio.sleep(0)
    assert client.seqs() == [5, 6, 7]
    assert not task.done()
    assert subscription.last == 7
    assert subscription.take() == []
    task.cancel()


@pytest.mark.parametrize(
    ("seq", "kind"),
    [(7, "step.started"), (4, "step.started"), (5, "execution.completed")],
    ids=["a gap", "an old event", "the terminal event"],
)
async def test_anything_but_the_next_event_goes_to_the_streams_task(seq: int, kind: str) -> None:
    client = Client()
    subscription = Subscription("execution:x", limit=10, write=client.write)
    task = await waiting(subscription, last=4)
    subscription.push(event(seq, kind))
    subscription.push(event(seq + 1))  # and, queued behind it, everything after it
    assert await asyncio.wait_for(task, 1) is True
    assert client.received == []
    assert [e.seq for e in subscription.take()] == [seq, seq + 1]
    assert subscription.last == 4


async def test_a_stream_that_is_not_waiting_gets_its_events_queued() -> None:
    client = Client()
    subscription = Subscription("execution:x", limit=10, write=client.write)
    subscription.push(event(1))
    assert client.received == []
    assert await subscription.wait(60, last=0) is True  # returns at once: something is queued
    assert [e.seq for e in subscription.take()] == [1]


async def test_a_write_held_back_is_finished_by_the_task_before_anything_else() -> None:
    client = Client()
    subscription = Subscription("execution:x", limit=10, write=client.write)
    task = await waiting(subscription, last=0)
    subscription.push(event(1))
    client.full = asyncio.get_running_loop().create_future()
    subscription.push(event(2))  # held back: the task is woken to finish it
    subscription.push(event(3))  # queued behind it, in order
    assert await asyncio.wait_for(task, 1) is True
    assert subscription.last == 2
    finishing = asyncio.create_task(subscription.finish_write())
    await asyncio.sleep(0.01)
    assert not finishing.done()
    client.full.set_result(None)
    await asyncio.wait_for(finishing, 1)
    assert client.seqs() == [1, 2]
    assert [e.seq for e in subscription.take()] == [3]


async def test_a_failed_write_is_raised_in_the_streams_task_and_the_hub_goes_on() -> None:
    client, other_client = Client(), Client()
    subscription = Subscription("execution:x", limit=10, write=client.write)
    other = Subscription("execution:x", limit=10, write=other_client.write)
    task, other_task = await waiting(subscription, last=0), await waiting(other, last=0)
    client.gone = True
    for each in (subscription, other):
        each.push(event(1))
    assert await asyncio.wait_for(task, 1) is True
    with pytest.raises(ConnectionResetError):
        await subscription.finish_write()
    assert other_client.seqs() == [1]
    assert not other_task.done()
    other_task.cancel()


async def test_events_written_by_the_hub_postpone_the_heartbeat() -> None:
    client = Client()
    subscription = Subscription("execution:x", limit=10, write=client.write)
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(subscription.wait(5, last=0))
    await asyncio.sleep(0.05)
    subscription.push(event(1))
    # Due 5 s after the wait began, but the stream sent an event 0.05 s in: not idle yet.
    subscription.tick(loop.time() + 5 - 0.04)
    await asyncio.sleep(0)
    assert not task.done()
    subscription.tick(loop.time() + 5)
    assert await asyncio.wait_for(task, 1) is False
