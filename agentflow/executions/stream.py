"""Live execution streams: `WS /executions/{id}/stream` and `GET /executions/{id}/events` (SSE).

Both send a snapshot (the execution and its steps so far), then every event after it in sequence
order, and end after the execution's terminal event (completed, failed or cancelled).

No gap, no duplicate. `RedisEventSink` stores each event before it publishes it. A stream
1. subscribes to `execution:{id}` and waits for Redis to confirm: every event published from then
   on reaches it;
2. reads the snapshot and the newest stored seq M in one repeatable-read transaction: every event
   up to M is in the table, every later one is in the table or will arrive live (or both);
3. sends the snapshot, then stored events after M (or after the client's `last_seq`), then live
   events. It hands out seq N+1 only after N: a live event already sent is dropped, and a hole
   before a live event (a pub/sub message lost to a reconnect) is filled from the table first.
An idle stream re-reads the table once per heartbeat, which also catches a lost last event.

Fan-out. Each API process holds ONE Redis pub/sub connection (`EventHub`), subscribed to the
channels its clients watch (reference-counted), so Redis sends each event once per process however
many clients watch it, and any number of API processes can serve the same execution. The hub
never waits for a client: it appends to each client's bounded queue, or, for a WebSocket stream
that is waiting in sync, writes the next event to the socket itself as far as it goes without
waiting, and leaves the rest to the stream (the fast path in `Subscription`). A client more than
`stream_client_queue` events behind is dropped from live delivery and told to resume from its
last seq (WS close 4008 TOO_SLOW, SSE `event: error`): it replays from the table, which holds
everything, instead of the API buffering without bound.

WebSocket protocol: the server sends JSON text messages: first `{"type": "snapshot", "seq": M,
"execution": {...}, "steps": [...], "steps_next_cursor": ...}`, then events exactly as published
(`{"seq", "type", "execution_id", "at", "data"}`). A client may send `{"last_seq": N}` at any time
(or connect with `?last_seq=N`): the stream continues with event N+1, replayed from the table.
Close codes: 1000 after the terminal event; 4000 + the HTTP status of the error otherwise (4400,
4401, 4403, 4404 for unknown and other orgs' executions, 4422, 4429), 4008 TOO_SLOW; the close
reason is the error code. Refused connections get no message, only the close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import Connection
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from agentflow.executions import service
from agentflow.executions.events import TERMINAL_EVENT_TYPES, channel, event_message
from agentflow.executions.repository import EventRepository
from agentflow.executions.schemas import FINISHED, EventOut, ExecutionStatus
from agentflow.executions.stream_auth import SUBPROTOCOL, StreamCredentials, authorize_connection
from agentflow.kit.db import Database, set_tenant_context
from agentflow.kit.eager import start_eagerly
from agentflow.kit.errors import AppError, BadRequest, Unprocessable, error_body
from agentflow.kit.pagination import Page
from agentflow.kit.principal import Principal
from agentflow.models.executions import Execution, ExecutionEvent
from agentflow.settings import Settings

log = logging.getLogger("agentflow.executions.stream")

MAX_SEQ = 2**63 - 1
SNAPSHOT_STEPS = 100  # more: `steps_next_cursor` pages on through GET /executions/{id}/steps
REPLAY_BATCH = 500
CONFIRM_TIMEOUT_SECONDS = 10.0
# How often the hub looks for idle streams whose heartbeat is due: the heartbeat's precision.
HEARTBEAT_TICK_SECONDS = 0.1
# Bounds the last messages to a client that is already being dropped (the TOO_SLOW notice and the
# close). Ordinary sends carry no timeout of their own (it costs on every message): a peer that
# stops reading stops answering pings too, and uvicorn's keepalive (--ws-ping-interval/timeout,
# 20 s + 20 s) then fails the connection, which ends the send.
SEND_TIMEOUT_SECONDS = 30.0
MAX_CLIENT_MESSAGE_BYTES = 1024
CLOSE_TOO_SLOW = 4008
CLOSE_INTERNAL = 1011


# -- frames: what a stream hands to its transport ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    type: str
    json: str  # the message as published (one line: SSE puts it in a single `data:` field)


@dataclass(frozen=True, slots=True)
class Snapshot:
    seq: int  # the newest event the snapshot reflects
    json: str


@dataclass(frozen=True, slots=True)
class Heartbeat:
    pass


@dataclass(frozen=True, slots=True)
class End:
    code: str  # EXECUTION_FINISHED or TOO_SLOW
    last_seq: int  # the last event handed out: where the client resumes


Frame = Event | Snapshot | Heartbeat | End
HEARTBEAT = Heartbeat()


def parse_event(data: str) -> Event | None:
    """A published message as an Event; None for anything that is not one of ours."""
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict):
        return None
    seq, kind = message.get("seq"), message.get("type")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_SEQ or not isinstance(kind, str):
        return None
    if "\n" in data or "\r" in data:
        data = orjson.dumps(message).decode()
    return Event(seq, kind, data)


def stored_event(row: ExecutionEvent) -> Event:
    message = event_message(row.execution_id, row.seq, row.type, row.created_at, row.payload)
    return Event(row.seq, row.type, orjson.dumps(message).decode())


# -- the per-process fan-out -----------------------------------------------------------------------


Write = Callable[[str], Awaitable[None] | None]
"""Writes one message to a client now: None once written, or an awaitable that finishes a write
the transport has to hold back (flow control). Raises if the client is gone."""


class Subscription:
    """One client's bounded queue of live events. The hub never waits on it: it appends, or writes
    as far as the client's socket takes without waiting (the fast path below); past `limit`
    waiting events the subscription is marked overflowed and keeps nothing more.

    The stream waits on a bare future, not an `asyncio.Event`: with 500 streams on one execution
    every event wakes 500 waits, and the Event's waiter bookkeeping was ~6 % of the API's CPU.
    An idle stream's heartbeat is a deadline, not a timer: the hub's one ticker wakes every
    subscription whose deadline passed. A timer per wait (`asyncio.timeout`) cost ~15 % of the
    API's CPU with 500 streams at 10 events/s (bench/stream_bench.py), created and cancelled on
    every event for every subscriber.

    Fast path (streams given a `write`: WebSocket). While the stream waits, in sync at seq `last`
    with nothing pending, the hub writes the stream's next event to the client itself instead of
    waking the stream's task to do it: with 500 streams on one execution, a task switch per
    delivery cost ~28 % more API CPU, and p50 was 5.5 instead of ~4.3 ms (bench/results_stream.md).
    Anything else (a gap, a terminal event, a rewind, a heartbeat, a write the transport holds
    back or that fails) wakes the task, which carries on from `last` in order and picks up the
    write's outcome (`finish_write`).
    """

    __slots__ = (
        "_items",
        "_limit",
        "_ready",
        "_seconds",
        "_timed_out",
        "_unfinished",
        "_waiter",
        "_wake_at",
        "_write",
        "_write_error",
        "channel",
        "last",
        "overflowed",
        "resync",
    )

    def __init__(self, channel: str, limit: int, write: Write | None = None) -> None:
        self.channel = channel
        self._limit = limit
        self._write = write
        self._items: deque[Event] = deque()
        self._ready = False  # something arrived since the last `take`
        self._waiter: asyncio.Future[None] | None = None
        self._seconds = 0.0
        self._wake_at = math.inf
        self._timed_out = False
        self._unfinished: Awaitable[None] | None = None
        self._write_error: Exception | None = None
        self.last = 0  # while waiting: the last event handed out, fast path included
        self.overflowed = False
        self.resync = False  # events may have been lost (Redis reconnected): re-read the table

    def push(self, event: Event) -> None:
        if self.overflowed:
            return
        waiter = self._waiter
        if (
            self._write is not None
            and waiter is not None
            and not waiter.done()  # the stream's task waits, and nothing woke it yet
            and event.seq == self.last + 1
            and event.type not in TERMINAL_EVENT_TYPES
        ):
            self._write_now(self._write, event)
        elif len(self._items) >= self._limit:
            self.overflowed = True
            self._items.clear()  # the client replays from the table; holding these helps no one
            self.wake()
        else:
            self._items.append(event)
            self.wake()

    def _write_now(self, write: Write, event: Event) -> None:
        self.last = event.seq
        try:
            self._unfinished = write(event.json)
        except Exception as exc:  # the client is gone; must not stop the hub's other deliveries
            self._write_error = exc
            self.wake()
            return
        if self._unfinished is not None:
            self.wake()
        else:
            # Not idle after all: the heartbeat is due a whole wait after this event.
            self._wake_at = asyncio.get_running_loop().time() + self._seconds

    async def finish_write(self) -> None:
        """What the fast path left the stream's task: its write's error, or the rest of a write
        the transport held back (nothing else is sent before it is done)."""
        error, unfinished = self._write_error, self._unfinished
        self._write_error = self._unfinished = None
        if error is not None:
            raise error
        if unfinished is not None:
            await unfinished

    def wake(self) -> None:
        self._ready = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def mark_resync(self) -> None:
        self.resync = True
        self.wake()

    def tick(self, now: float) -> None:
        """Called by the hub's ticker: wake a wait whose deadline has passed."""
        if now >= self._wake_at:
            self._wake_at = math.inf
            self._timed_out = True
            self.wake()

    def take(self) -> list[Event]:
        self._ready = False
        items = list(self._items)
        self._items.clear()
        return items

    async def wait(self, seconds: float, *, last: int) -> bool:
        """Until something arrives (True) or about `seconds` pass with nothing sent (False; to the
        hub's tick). `last` is the last event handed out: the fast path goes on from it, and
        leaves `self.last` at the last one it wrote."""
        self.last = last
        if self._ready:
            return True
        loop = asyncio.get_running_loop()
        self._timed_out = False
        self._seconds = seconds
        self._wake_at = loop.time() + seconds
        self._waiter = loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None
            self._wake_at = math.inf
        # An event and the deadline may coincide: the event wins.
        return not self._timed_out or bool(self._items) or self.overflowed or self.resync


class _Channel:
    __slots__ = ("confirmed", "subscribers")

    def __init__(self) -> None:
        self.subscribers: set[Subscription] = set()
        self.confirmed: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class EventHub:
    """One pub/sub connection per API process, shared by all its streams (see the module doc).

    SUBSCRIBE and UNSUBSCRIBE go through one ordered queue, so the last command Redis sees for a
    channel always matches whether anyone here still watches it. Redis confirms subscriptions in
    the order they were sent; each confirmation resolves the oldest unconfirmed one.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._pubsub: PubSub | None = None
        self._channels: dict[str, _Channel] = {}
        self._unconfirmed: dict[str, deque[asyncio.Future[None]]] = {}
        self._commands: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = asyncio.Lock()

    async def subscribe(self, execution_id: uuid.UUID, *, limit: int, write: Write | None = None) -> Subscription:
        """A subscription that receives every event published after this returns."""
        await self._start()
        name = channel(execution_id)
        subscription = Subscription(name, limit, write)
        entry = self._channels.get(name)
        if entry is None:
            entry = self._channels[name] = _Channel()
            self._unconfirmed.setdefault(name, deque()).append(entry.confirmed)
            self._commands.put_nowait(("SUBSCRIBE", name))
        entry.subscribers.add(subscription)
        try:
            async with asyncio.timeout(CONFIRM_TIMEOUT_SECONDS):
                await asyncio.shield(entry.confirmed)
        except BaseException:
            self.unsubscribe(subscription)
            raise
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        entry = self._channels.get(subscription.channel)
        if entry is None or subscription not in entry.subscribers:
            return
        entry.subscribers.discard(subscription)
        if not entry.subscribers:
            del self._channels[subscription.channel]
            self._commands.put_nowait(("UNSUBSCRIBE", subscription.channel))

    @property
    def channel_count(self) -> int:
        return len(self._channels)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = None

    async def _start(self) -> None:
        if self._pubsub is not None:
            return
        async with self._started:
            if self._pubsub is not None:
                return
            pubsub = self._redis.pubsub()
            await pubsub.connect()  # type: ignore[no-untyped-call]
            assert pubsub.connection is not None
            # Called on every reconnect too (redis-py then resubscribes by itself): whatever was
            # published meanwhile is lost to pub/sub, so every stream re-reads the table.
            pubsub.connection.register_connect_callback(self._on_connect)
            self._pubsub = pubsub
            self._tasks = [
                self._spawn(self._send_commands(pubsub)),
                self._spawn(self._read(pubsub)),
                self._spawn(self._tick()),
            ]

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(coroutine)

    async def _on_connect(self, connection: Connection | None = None) -> None:
        for entry in self._channels.values():
            for subscription in entry.subscribers:
                subscription.mark_resync()

    async def _tick(self) -> None:
        """Wake the subscriptions whose heartbeat is due (see `Subscription`)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(HEARTBEAT_TICK_SECONDS)
            now = loop.time()
            for entry in self._channels.values():
                for subscription in entry.subscribers:
                    subscription.tick(now)

    async def _send_commands(self, pubsub: PubSub) -> None:
        while True:
            command, name = await self._commands.get()
            while True:
                try:
                    if command == "SUBSCRIBE":
                        await pubsub.subscribe(name)
                    else:
                        await pubsub.unsubscribe(name)
                    break
                except (ConnectionError, OSError, TimeoutError) as exc:
                    log.warning("pub/sub command failed; retrying", extra={"error": type(exc).__name__})
                    await asyncio.sleep(0.5)

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            try:
                message = await pubsub.get_message(timeout=5.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # redis-py retries and resubscribes on the next read; streams catch up from the table.
                log.warning("pub/sub read failed; reconnecting", extra={"error": type(exc).__name__})
                await self._on_connect()
                await asyncio.sleep(0.5)
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind, name = message["type"], message["channel"]
        if kind == "message":
            entry = self._channels.get(name)
            if entry is None:
                return  # unsubscribed meanwhile
            event = parse_event(message["data"])
            if event is None:
                log.warning("ignored a malformed event message", extra={"channel": name})
                return
            for subscription in entry.subscribers:
                subscription.push(event)
        elif kind == "subscribe":
            pending = self._unconfirmed.get(name)
            if pending:
                confirmed = pending.popleft()
                if not pending:
                    del self._unconfirmed[name]
                if not confirmed.done():
                    confirmed.set_result(None)


# -- one stream: snapshot, replay, live ------------------------------------------------------------


class ExecutionStream:
    def __init__(
        self,
        hub: EventHub,
        db: Database,
        principal: Principal,
        execution_id: uuid.UUID,
        *,
        after: int | None,
        heartbeat: float,
        queue_limit: int,
        write: Write | None = None,
    ) -> None:
        self._hub = hub
        self._db = db
        self._principal = principal
        self._execution_id = execution_id
        self._after = after
        self._heartbeat = heartbeat
        # Jittered once per stream: streams opened together (a page of watchers, a reconnect wave)
        # would otherwise all poll the database in the same instant.
        self._idle_wait = heartbeat * random.uniform(0.8, 1.2)  # noqa: S311
        self._queue_limit = queue_limit
        self._write = write
        self._subscription: Subscription | None = None
        self._rewind_to: int | None = None
        self._finished_seen_at: float | None = None

    async def __aenter__(self) -> ExecutionStream:
        self._subscription = await self._hub.subscribe(self._execution_id, limit=self._queue_limit, write=self._write)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._subscription is not None:
            self._hub.unsubscribe(self._subscription)
            self._subscription = None

    def rewind(self, last_seq: int) -> None:
        """Continue with event `last_seq` + 1 (replayed from the table), whatever was sent before."""
        self._rewind_to = last_seq
        if self._subscription is not None:
            self._subscription.wake()

    async def frames(self) -> AsyncIterator[Frame]:
        subscription = self._subscription
        assert subscription is not None, "use `async with stream:` first"
        snapshot, finished = await self._snapshot()
        yield snapshot
        last = snapshot.seq if self._after is None else self._after
        if finished:
            self._finished_seen_at = time.monotonic()
        # Stored events after `last` first: a replay, the terminal event the snapshot leaves out,
        # and whatever was stored between the snapshot and now (live copies are skipped by seq).
        catch_up = True
        while True:
            if self._rewind_to is not None:
                last, self._rewind_to, catch_up = self._rewind_to, None, True
            if subscription.overflowed:
                yield End("TOO_SLOW", last)
                return
            live = subscription.take()
            if subscription.resync:
                subscription.resync, catch_up = False, True
            if catch_up:
                catch_up = False
                async for event in self._stored(after=last):
                    last = event.seq
                    yield event
                    if event.type in TERMINAL_EVENT_TYPES:
                        yield End("EXECUTION_FINISHED", last)
                        return
            for event in live:
                if event.seq <= last:
                    continue  # already sent (from the table, or before a rewind)
                if event.seq > last + 1:
                    async for stored in self._stored(after=last, before=event.seq):
                        last = stored.seq
                        yield stored
                        if stored.type in TERMINAL_EVENT_TYPES:
                            yield End("EXECUTION_FINISHED", last)
                            return
                last = event.seq
                yield event
                if event.type in TERMINAL_EVENT_TYPES:
                    yield End("EXECUTION_FINISHED", last)
                    return
            # Returns at once if anything arrived meanwhile (events, a rewind, an overflow). While
            # it waits, the hub may write the next events itself: `last` moves on with them.
            woke = await subscription.wait(self._idle_wait, last=last)
            last = subscription.last
            await subscription.finish_write()
            if not woke:
                yield HEARTBEAT
                status, polled = await self._poll(after=last)
                for event in polled:
                    last = event.seq
                    yield event
                    if event.type in TERMINAL_EVENT_TYPES:
                        yield End("EXECUTION_FINISHED", last)
                        return
                catch_up = len(polled) == REPLAY_BATCH
                if not polled and self._finished_without_terminal_event(status):
                    # Finished with no terminal event to come (e.g. it failed before it started).
                    yield End("EXECUTION_FINISHED", last)
                    return

    async def _snapshot(self) -> tuple[Snapshot, bool]:
        org_id = self._principal.org_id
        async with self._db.sessionmaker() as session, session.begin():
            # One consistent view: the execution, its steps and the newest stored event together.
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            await set_tenant_context(session, org_id=org_id, user_id=self._principal.user_id)
            execution = await service.load(session, self._principal, self._execution_id)
            newest = await EventRepository(session, org_id).last(self._execution_id)
            steps = await service.list_steps(
                session, self._principal, self._execution_id, cursor=None, limit=SNAPSHOT_STEPS
            )
        seq = 0
        if newest is not None:
            seq, kind = newest
            if kind in TERMINAL_EVENT_TYPES:
                # The terminal event is sent after the snapshot, so every stream ends with it (the
                # execution row may not show the final status yet: it is written after the event).
                seq -= 1
        body = {
            "type": "snapshot",
            "seq": seq,
            "execution": service.execution_out(execution).model_dump(mode="json"),
            "steps": [step.model_dump(mode="json") for step in steps.items],
            "steps_next_cursor": steps.next_cursor,
        }
        return Snapshot(seq, orjson.dumps(body).decode()), ExecutionStatus(execution.status) in FINISHED

    async def _stored(self, *, after: int, before: int | None = None) -> AsyncIterator[Event]:
        """Stored events after `after` (and before `before`), in order, read in batches."""
        org_id = self._principal.org_id
        while True:
            async with self._db.transaction(org_id=org_id) as session:
                rows = await EventRepository(session, org_id).after(self._execution_id, after, limit=REPLAY_BATCH)
            for row in rows:
                if before is not None and row.seq >= before:
                    return
                after = row.seq
                yield stored_event(row)
            if len(rows) < REPLAY_BATCH:
                return

    async def _poll(self, *, after: int) -> tuple[str | None, list[Event]]:
        """The execution's status and the stored events after `after`, in one transaction: the
        safety net for events pub/sub never delivered (a publisher that died between storing and
        publishing, a message lost before a reconnect was noticed)."""
        org_id = self._principal.org_id
        async with self._db.transaction(org_id=org_id) as session:
            status = await _status(session, org_id, self._execution_id)
            rows = await EventRepository(session, org_id).after(self._execution_id, after, limit=REPLAY_BATCH)
        return status, [stored_event(row) for row in rows]

    def _finished_without_terminal_event(self, status: str | None) -> bool:
        if status is not None and status not in FINISHED:
            self._finished_seen_at = None
            return False
        # Wait one more idle heartbeat: a cancelled run's worker emits its event at the next step.
        now = time.monotonic()
        if self._finished_seen_at is None:
            self._finished_seen_at = now
        return status is None or now - self._finished_seen_at >= self._heartbeat


async def _status(session: AsyncSession, org_id: uuid.UUID, execution_id: uuid.UUID) -> str | None:
    stmt = select(Execution.status).where(Execution.org_id == org_id, Execution.id == execution_id)
    status: str | None = await session.scalar(stmt)
    return status


def _open_stream(
    state: Any, principal: Principal, execution_id: uuid.UUID, after: int | None, write: Write | None = None
) -> ExecutionStream:
    settings: Settings = state.settings
    return ExecutionStream(
        state.event_hub,
        state.db,
        principal,
        execution_id,
        after=after,
        heartbeat=settings.stream_heartbeat_seconds,
        queue_limit=settings.stream_client_queue,
        write=write,
    )


# -- JSON listing (GET /executions/{id}/events without Accept: text/event-stream) -----------------


async def list_events(
    session: AsyncSession,
    principal: Principal,
    execution_id: uuid.UUID,
    *,
    after: int | None,
    cursor: str | None,
    limit: int,
) -> Page[EventOut]:
    await service.load(session, principal, execution_id)
    rows, next_cursor = await EventRepository(session, principal.org_id).for_execution(
        execution_id, after=after or 0, cursor=cursor, limit=limit
    )
    return Page(
        items=[
            EventOut(seq=e.seq, type=e.type, execution_id=e.execution_id, at=e.created_at, data=e.payload)
            for (e,) in rows
        ],
        next_cursor=next_cursor,
    )


# -- Server-Sent Events ----------------------------------------------------------------------------


def wants_event_stream(accept: str | None) -> bool:
    """EventSource always sends `Accept: text/event-stream`; anything else gets the JSON page."""
    return accept is not None and "text/event-stream" in accept.lower()


async def nothing_after(session: AsyncSession, principal: Principal, execution_id: uuid.UUID, after: int) -> bool:
    """The execution has finished and the client has every stored event: answer 204, which per the
    SSE spec stops EventSource from reconnecting after the stream ended."""
    execution = await service.load(session, principal, execution_id)
    if ExecutionStatus(execution.status) not in FINISHED:
        return False
    newest = await EventRepository(session, principal.org_id).last(execution_id)
    return newest is None or newest[0] <= after


def sse_response(state: Any, principal: Principal, execution_id: uuid.UUID, *, after: int | None) -> Response:
    stream = _open_stream(state, principal, execution_id, after)

    async def body() -> AsyncIterator[bytes]:
        async with stream:
            # The snapshot's id is where the stream continues from, so a reconnect resumes there.
            async for frame in stream.frames():
                if isinstance(frame, Event):
                    yield f"id: {frame.seq}\nevent: {frame.type}\ndata: {frame.json}\n\n".encode()
                elif isinstance(frame, Snapshot):
                    resume = frame.seq if after is None else after
                    yield f"retry: 3000\nid: {resume}\nevent: snapshot\ndata: {frame.json}\n\n".encode()
                elif isinstance(frame, Heartbeat):
                    yield b": keep-alive\n\n"  # a comment: proxies see traffic, clients see nothing
                elif frame.code == "TOO_SLOW":
                    error = orjson.dumps(_too_slow(frame.last_seq)).decode()
                    yield f"event: error\ndata: {error}\n\n".encode()
                    return
                else:
                    return

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)


def _too_slow(last_seq: int) -> dict[str, Any]:
    return error_body(
        "TOO_SLOW",
        "The client fell too far behind the live events; reconnect with last_seq to resume",
        {"last_seq": last_seq},
    )


# -- WebSocket -------------------------------------------------------------------------------------


def _parse_uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise Unprocessable("The execution id is not a UUID", code="VALIDATION_ERROR") from None


def parse_last_seq(raw: Any) -> int:
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= MAX_SEQ:
        raise BadRequest("last_seq must be an integer from 0 to 2^63-1", code="INVALID_LAST_SEQ")
    return raw


async def serve_websocket(websocket: WebSocket, raw_execution_id: str) -> None:
    offered: list[str] = list(websocket.scope.get("subprotocols") or [])
    # Never echo anything else: the other offered subprotocol may be the access token.
    subprotocol = SUBPROTOCOL if SUBPROTOCOL in offered else None
    await websocket.accept(subprotocol=subprotocol)
    try:
        if offered and subprotocol is None:
            raise BadRequest(f"Offer the '{SUBPROTOCOL}' subprotocol", code="SUBPROTOCOL_REQUIRED")
        execution_id = _parse_uuid(raw_execution_id)
        raw_after = websocket.query_params.get("last_seq")
        after = parse_last_seq(raw_after) if raw_after is not None else None
        credentials = StreamCredentials.from_handshake(websocket.headers, websocket.query_params, offered)
        principal = await authorize_connection(websocket.app.state, credentials, execution_id)
    except AppError as exc:
        await _close(websocket, 4000 + exc.status_code, exc.code)
        return
    stream = _open_stream(websocket.app.state, principal, execution_id, after, _writer(websocket))
    try:
        async with stream:
            sender = asyncio.create_task(_send_frames(websocket, stream))
            receiver = asyncio.create_task(_receive_commands(websocket, stream))
            done, pending = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            outcome = (sender if sender in done else receiver).result()
    except AppError as exc:  # e.g. the execution was deleted while connecting
        outcome = (4000 + exc.status_code, exc.code)
    except Exception:
        log.exception("execution stream failed", extra={"execution_id": str(execution_id)})
        outcome = (CLOSE_INTERNAL, "INTERNAL_ERROR")
    if outcome is not None:
        await _close(websocket, *outcome)


def _writer(websocket: WebSocket) -> Write:
    """The stream's fast path to this client (see `Subscription`)."""

    def write(message: str) -> Awaitable[None] | None:
        return start_eagerly(websocket.send_text(message))

    return write


async def _send_frames(websocket: WebSocket, stream: ExecutionStream) -> tuple[int, str] | None:
    """Send until the stream ends; the close to send then (None: the client is gone)."""
    try:
        async for frame in stream.frames():
            if isinstance(frame, Event | Snapshot):
                await websocket.send_text(frame.json)
            elif isinstance(frame, End):
                if frame.code == "TOO_SLOW":
                    async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
                        await websocket.send_text(orjson.dumps({"type": "error", **_too_slow(frame.last_seq)}).decode())
                    return CLOSE_TOO_SLOW, "TOO_SLOW"
                return 1000, frame.code
    except (WebSocketDisconnect, TimeoutError):
        return None
    return None


async def _receive_commands(websocket: WebSocket, stream: ExecutionStream) -> tuple[int, str] | None:
    """Read the client's `{"last_seq": N}` messages; a close to send for a bad one (None: gone)."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        data = message.get("text") if message.get("text") is not None else message.get("bytes")
        if data is None or len(data) > MAX_CLIENT_MESSAGE_BYTES:
            return 4400, "BAD_MESSAGE"
        try:
            command = orjson.loads(data)
            if not isinstance(command, dict) or set(command) != {"last_seq"}:
                raise BadRequest('Send {"last_seq": N}', code="BAD_MESSAGE")
            stream.rewind(parse_last_seq(command["last_seq"]))
        except (orjson.JSONDecodeError, BadRequest):
            return 4400, "BAD_MESSAGE"


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    # The client may be gone already, or too stuck to take even the close frame.
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError, TimeoutError):
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
            await websocket.close(code, reason)
