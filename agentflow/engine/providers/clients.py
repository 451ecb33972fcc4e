"""Reuse of SDK clients and connection pools, one set per event loop.

Building an SDK client costs tens of milliseconds (TLS context, auth setup), far over the router's
budget, so clients are reused. They are kept per event loop because an async connection pool is
bound to the loop that opened its connections, and a Celery worker may run several loops over its
life; a loop that is garbage-collected takes its clients with it.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from agentflow.engine.providers.base import ProviderCredentials

T = TypeVar("T")


class LoopLocal(Generic[T]):
    """One value per running event loop, made by `factory` on first use in that loop."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._values: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        value = self._values.get(loop)
        if value is None:
            value = self._factory()
            self._values[loop] = value
        return value

    def pop(self) -> T | None:
        return self._values.pop(asyncio.get_running_loop(), None)


class LoopLocalLRU(Generic[T]):
    """Up to `size` values per event loop, keyed by a hashable key, least recently used evicted."""

    def __init__(self, size: int = 64, on_evict: Callable[[T], None] | None = None) -> None:
        self._size = size
        self._on_evict = on_evict
        self._maps: LoopLocal[OrderedDict[Hashable, T]] = LoopLocal(OrderedDict)

    def get_or_create(self, key: Hashable, factory: Callable[[], T]) -> T:
        values = self._maps.get()
        value = values.get(key)
        if value is not None:
            values.move_to_end(key)
            return value
        value = factory()
        values[key] = value
        if len(values) > self._size:
            _, evicted = values.popitem(last=False)
            if self._on_evict is not None:
                self._on_evict(evicted)
        return value

    def clear(self) -> list[T]:
        values = self._maps.pop()
        return list(values.values()) if values else []


def credentials_key(credentials: ProviderCredentials) -> str:
    """A cache key for a credential set that does not hold the key itself."""
    digest = hashlib.sha256()
    for part in (credentials.api_key, credentials.base_url or "", *sorted(credentials.extra.items())):
        digest.update(repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()
