"""One task at a time per key, for the event loop: a chat's updates and the messages we
start there (Telegram), a person's DMs (Discord). Keys nobody holds or waits for are
forgotten. A task that holds a key already goes on instead of waiting for itself (a handler
that messages its own chat through the outbox)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Hashable
from contextvars import ContextVar


class Turns:
    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: Counter[Hashable] = Counter()
        # The keys whose turn the current task holds (per instance: two Turns never mix).
        self._held: ContextVar[frozenset[Hashable]] = ContextVar("turns_held", default=frozenset())

    @contextlib.asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        """Holds ``key`` until the block ends (at once when this task holds it already)."""
        held = self._held.get()
        if key in held:
            yield
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        token = self._held.set(held | {key})
        try:
            async with lock:
                yield
        finally:
            self._held.reset(token)
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]
