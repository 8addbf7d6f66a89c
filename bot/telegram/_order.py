"""One chat at a time: a chat's updates, and the messages we start there, take turns."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from contextvars import ContextVar
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# The chats whose turn the current task holds: a handler that messages its own chat (through
# the outbox) goes on instead of waiting for itself.
_HELD: ContextVar[frozenset[int]] = ContextVar("telegram_chats_held", default=frozenset())


class PerChatOrder(BaseUpdateProcessor):
    """Chats are served side by side, but one chat's updates in the order they came: a
    reaction must not overtake the mood that made its card. A scheduled batch takes its turn
    too, so its six messages don't interleave with a reply's."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: Counter[int] = Counter()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        async with self.turn(chat.id):
            await coroutine

    @contextlib.asynccontextmanager
    async def turn(self, chat: int) -> AsyncIterator[None]:
        """Holds ``chat`` until the block ends (at once when this task holds it already)."""
        held = _HELD.get()
        if chat in held:
            yield
            return
        lock = self._locks.setdefault(chat, asyncio.Lock())
        self._users[chat] += 1
        token = _HELD.set(held | {chat})
        try:
            async with lock:
                yield
        finally:
            _HELD.reset(token)
            self._users[chat] -= 1
            if not self._users[chat]:
                del self._users[chat], self._locks[chat]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
