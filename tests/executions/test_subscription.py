"""A live stream's subscription: events wake it at once; an idle one wakes when the hub's ticker
finds its heartbeat deadline passed (one ticker per API process, no timer per wait)."""

from __future__ import annotations

import asyncio

from agentflow.executions.stream import Event, Subscription, parse_event


def event(seq: int) -> Event:
    parsed = parse_event(f'{{"seq": {seq}, "type": "step.started"}}')
    assert parsed is not None
    return parsed


async def test_an_event_wakes_a_waiting_subscription() -> None:
    subscription = Subscription("execution:x", limit=10)
    waiting = asyncio.create_task(subscription.wait(60))
    await asyncio.sleep(0)
    subscription.push(event(1))
    assert await asyncio.wait_for(waiting, 1) is True
    assert [e.seq for e in subscription.take()] == [1]


async def test_the_ticker_ends_an_idle_wait_once_its_deadline_passed() -> None:
    subscription = Subscription("execution:x", limit=10)
    loop = asyncio.get_running_loop()
    waiting = asyncio.create_task(subscription.wait(5))
    await asyncio.sleep(0)
    subscription.tick(loop.time() + 1)  # not due yet
    await asyncio.sleep(0)
    assert not waiting.done()
    subscription.tick(loop.time() + 6)
    assert await asyncio.wait_for(waiting, 1) is False
    subscription.take()
    # A later tick does not wake the next wait early: the deadline was spent.
    again = asyncio.create_task(subscription.wait(5))
    await asyncio.sleep(0)
    subscription.tick(loop.time() + 1)
    await asyncio.sleep(0)
    assert not again.done()
    again.cancel()


async def test_an_event_arriving_with_the_deadline_is_reported_as_an_event() -> None:
    subscription = Subscription("execution:x", limit=10)
    loop = asyncio.get_running_loop()
    waiting = asyncio.create_task(subscription.wait(1))
    await asyncio.sleep(0)
    subscription.tick(loop.time() + 2)
    subscription.push(event(1))
    assert await asyncio.wait_for(waiting, 1) is True
