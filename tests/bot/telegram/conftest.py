"""The Telegram frontend over the real PTB stack, talking HTTP to the fake Bot API.

``Harness`` plays people: it injects an update and waits until the bot has finished handling
it (a recorder in a later handler group sees the update after our handler returned), so tests
read what the bot sent without sleeping.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.telegram import RateLimits, TelegramFrontend, Webhook
from tests.support.fake_telegram import BotMessage, FakeTelegram, Limits

if TYPE_CHECKING:
    from bot.chat import ChatEngine

JSON = dict[str, Any]
# Telegram's limits and ours, 20 times faster: the same pacing logic, test-sized waits.
FAST = RateLimits(per_chat_per_s=20.0, group_per_min=20 * 20.0, burst=3, overall_per_s=600.0)
FAST_FAKE = Limits().scaled(20)


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB's opt-in to timedelta durations (the frontend sets it too); without it every
    RetryAfter warns, and warnings are errors here."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@dataclass
class Harness:
    tg: FakeTelegram
    frontend: TelegramFrontend
    handled: set[int] = field(default_factory=set)
    earlier: set[int] = field(default_factory=set)  # pushed before this bot ran

    def __post_init__(self) -> None:
        self.earlier = set(self.tg.pushed_ids)

    async def _recorded(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self.handled.add(update.update_id)
        self.tg.notify()

    async def settle(self, timeout: float = 15.0) -> None:
        """Until every update pushed so far has been through the bot's handlers."""
        pushed = self.tg.pushed_ids - self.earlier
        await self.tg.wait_until(lambda: pushed <= self.handled, timeout=timeout)

    async def say(self, user: JSON, text: str, chat: JSON | None = None) -> list[BotMessage]:
        """``user`` writes ``text``; what the bot sent to the chat in answer."""
        chat = chat or self.tg.private(user)
        before = len(self.tg.sent[chat["id"]])
        self.tg.send(user, text, chat=chat)
        await self.settle()
        return self.tg.sent[chat["id"]][before:]

    async def press(self, user: JSON, message: BotMessage, data: str) -> JSON:
        """``user`` taps a button; the answer toast the bot gave."""
        query_id = self.tg.press(user, message, data)
        await self.settle()
        return next(a for a in self.tg.callback_answers if a["callback_query_id"] == query_id)

    async def react(
        self, user: JSON, message: BotMessage, new: list[str], old: list[str] | None = None
    ) -> list[BotMessage]:
        before = len(self.tg.sent[message.chat_id])
        assert self.tg.react(user, message, new, old or [])
        await self.settle()
        return self.tg.sent[message.chat_id][before:]


def cards(messages: list[BotMessage]) -> list[BotMessage]:
    """The card messages among ``messages`` (those with reaction buttons)."""
    return [m for m in messages if m.buttons]


@contextlib.asynccontextmanager
async def running(
    engine: ChatEngine,
    tg: FakeTelegram,
    *,
    limits: RateLimits = FAST,
    webhook: Webhook | None = None,
    timeout: float = 5.0,
) -> AsyncIterator[Harness]:
    frontend = TelegramFrontend.build(
        token=tg.token,
        engine=engine,
        base_url=tg.base_url,
        base_file_url=tg.base_file_url,
        limits=limits,
        webhook=webhook,
        timeout=timeout,
    )
    harness = Harness(tg, frontend)
    frontend.application.add_handler(TypeHandler(Update, harness._recorded), group=1)
    async with frontend:
        yield harness


def fake_telegram(**kwargs: Any) -> FakeTelegram:
    """The fake with Telegram's limits sped up as much as ``FAST`` speeds up ours."""
    return FakeTelegram(limits=FAST_FAKE, **kwargs)


@contextlib.asynccontextmanager
async def telegram(
    engine: ChatEngine, *, fake_limits: Limits | None = FAST_FAKE, **kwargs: Any
) -> AsyncIterator[Harness]:
    """A fake Telegram and our bot polling it."""
    async with FakeTelegram(limits=fake_limits) as tg, running(engine, tg, **kwargs) as harness:
        yield harness
