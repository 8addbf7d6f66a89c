"""One chat at a time: a chat's updates, and the messages we start there, take turns."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.turns import Turns


class PerChatOrder(BaseUpdateProcessor):
    """Chats are served side by side, but one chat's updates in the order they came: a
    reaction must not overtake the mood that made its card. A scheduled batch takes its turn
    too, so its six messages don't interleave with a reply's."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._turns = Turns()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        async with self.turn(chat.id):
            await coroutine

    def turn(self, chat: int) -> contextlib.AbstractAsyncContextManager[None]:
        """Holds ``chat`` until the block ends (at once when this task holds it already)."""
        return self._turns.turn(chat)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
