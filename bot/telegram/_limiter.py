"""Outgoing flood control for the Bot API: Telegram's limits, kept before it has to say so.

Telegram answers 429 with ``retry_after`` when a bot sends more than about one message a
second to a chat (twenty a minute to a group; short bursts pass) or about thirty a second in
all. A batch is six messages (a header and five cards), so without pacing every new station
would hit the limit. Each chat gets a GCRA schedule (a token bucket expressed as the time the
next message may go), the bot one more for the overall rate; a request reserves its slot
before it waits, so concurrent handlers queue fairly without locks. A 429 that still comes is
honoured: that chat (or, without a chat, the whole bot) waits ``retry_after`` and the call is
retried a bounded number of times.

A message we start (a scheduled delivery) comes with a ``SendGate`` as PTB's
``rate_limit_args``: it is opened here, after the wait and right before the HTTP call, so the
ledger says "sending" only once something is really about to leave.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.gate import SendGate

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
_PACED_PREFIXES = ("send", "edit", "copy", "forward")
_UNPACED = frozenset({"sendChatAction"})  # no message, and it should not wait behind one
_MAX_CHATS = 4096


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Telegram's documented limits, with a small burst."""

    per_chat_per_s: float = 1.0
    group_per_min: float = 20.0
    burst: int = 3
    overall_per_s: float = 30.0
    max_retries: int = 3
    # A longer flood wait fails the call: holding a handler for minutes helps nobody.
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if min(self.per_chat_per_s, self.group_per_min, self.overall_per_s) <= 0:
            raise ValueError("rates must be positive")
        if self.burst < 1 or self.max_retries < 0:
            raise ValueError("burst must be >= 1 and max_retries >= 0")


class _Schedule:
    """GCRA: ``tat`` is when the bucket would be empty again; a request may go ``tolerance``
    before it."""

    __slots__ = ("interval", "tat", "tolerance")

    def __init__(self, interval: float, burst: int) -> None:
        self.interval = interval
        self.tolerance = (burst - 1) * interval
        self.tat = float("-inf")

    def reserve(self, at: float) -> float:
        """The time a request arriving ``at`` may go; the slot is taken."""
        allowed = max(at, self.tat - self.tolerance)
        self.tat = max(self.tat, allowed) + self.interval
        return allowed

    def hold_until(self, at: float) -> None:
        self.tat = max(self.tat, at + self.tolerance)


class ChatRateLimiter(BaseRateLimiter[SendGate | None]):
    """Paces messages per chat and overall; retries after a 429 (bounded). A request's
    ``rate_limit_args`` may be a ``SendGate``, opened right before the request leaves."""

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.limits = limits or RateLimits()
        self._clock = clock
        self._sleep = sleep
        self._chats: dict[int | str, _Schedule] = {}
        self._overall = _Schedule(
            1.0 / self.limits.overall_per_s, max(1, int(self.limits.overall_per_s))
        )
        self._held_until = float("-inf")

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        self._chats.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: SendGate | None,
    ) -> JSONResult:
        chat = _chat_of(data) if _paced(endpoint) else None
        attempt = 0
        while True:
            await self._turn(chat)
            if rate_limit_args is not None:
                await rate_limit_args.open()  # may refuse (NotSent): then nothing leaves
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = _seconds(exc)
                if attempt >= self.limits.max_retries or wait > self.limits.max_retry_after:
                    raise
                attempt += 1
                log.warning(
                    "Telegram flood wait: %s must wait %.0f s (retry %d of %d)",
                    endpoint,
                    wait,
                    attempt,
                    self.limits.max_retries,
                )
                until = self._clock() + wait
                if chat is None:
                    self._held_until = max(self._held_until, until)
                else:
                    self._schedule(chat).hold_until(until)

    async def _turn(self, chat: int | str | None) -> None:
        await self._until(max(self._clock(), self._held_until))
        if chat is not None:
            await self._until(self._schedule(chat).reserve(self._clock()))
            # The overall slot is taken when the chat's turn has come, not in advance: a
            # message queued behind its chat must not hold up other chats.
            await self._until(self._overall.reserve(self._clock()))

    async def _until(self, at: float) -> None:
        wait = at - self._clock()
        if wait > 0:
            await self._sleep(wait)

    def _schedule(self, chat: int | str) -> _Schedule:
        schedule = self._chats.get(chat)
        if schedule is None:
            if len(self._chats) >= _MAX_CHATS:
                self._forget_idle()
            group = isinstance(chat, str) or chat < 0
            per_s = self.limits.group_per_min / 60 if group else self.limits.per_chat_per_s
            schedule = self._chats[chat] = _Schedule(1.0 / per_s, self.limits.burst)
        return schedule

    def _forget_idle(self) -> None:
        """A schedule whose slots all lie in the past is the same as a fresh one."""
        now = self._clock()
        for chat in [c for c, s in self._chats.items() if s.tat <= now]:
            del self._chats[chat]


def _paced(endpoint: str) -> bool:
    return endpoint.startswith(_PACED_PREFIXES) and endpoint not in _UNPACED


def _chat_of(data: dict[str, Any]) -> int | str | None:
    chat = data.get("chat_id")
    if isinstance(chat, int | str):
        try:
            return int(chat)
        except ValueError:
            return chat  # "@channelname"
    return None


def _seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
