"""The rate limiter's pacing in virtual time (Telegram's real limits, no waiting), and its
handling of 429s against the fake Bot API."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.gate import NotSent, SendGate
from bot.telegram import ChatRateLimiter, RateLimits


class VirtualTime:
    """A clock that jumps to the next wake-up once every task is waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._wakeups: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._wakeups, (self.now + seconds, next(self._order), future))
        await future

    def run(self, *coroutines: Coroutine[Any, Any, object]) -> list[object]:
        async def drive() -> list[object]:
            tasks = [asyncio.ensure_future(c) for c in coroutines]
            while not all(t.done() for t in tasks):
                for _ in range(50):  # let every task run until it waits
                    await asyncio.sleep(0)
                if self._wakeups:
                    at, _, future = heapq.heappop(self._wakeups)
                    self.now = max(self.now, at)
                    future.set_result(None)
            return [t.result() for t in tasks]

        return asyncio.run(drive())


def paced(times: list[float], *, interval: float, burst: int, slack: float = 1e-9) -> bool:
    """No stretch of the send times holds more than ``burst`` plus one per ``interval``
    (a token bucket's promise), give or take ``slack`` seconds (times taken on the far side
    of a socket arrive with jitter)."""
    times = sorted(times)
    return all(
        times[j] - times[i] >= (j - i - (burst - 1)) * interval - slack
        for i in range(len(times))
        for j in range(i + 1, len(times))
    )


def limiter(time: VirtualTime, limits: RateLimits | None = None) -> ChatRateLimiter:
    return ChatRateLimiter(limits, clock=time.clock, sleep=time.sleep)


async def _send(
    rl: ChatRateLimiter, time: VirtualTime, chat: int | str, log: list[tuple[Any, float]]
) -> bool:
    async def call(**_: Any) -> bool:
        log.append((chat, time.now))
        return True

    result = await rl.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)
    return bool(result)


def test_one_private_chat_gets_a_burst_then_one_message_a_second() -> None:
    time, log = VirtualTime(), []
    rl = limiter(time)  # the defaults: Telegram's limits

    async def go() -> None:
        for _ in range(10):
            assert await _send(rl, time, 42, log)

    time.run(go())
    times = [t - 1000.0 for _, t in log]
    assert times[:3] == [0.0, 0.0, 0.0]  # a burst of three goes at once
    assert times[3:] == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    assert paced(times, interval=1.0, burst=3)


def test_groups_get_twenty_a_minute_and_chats_do_not_wait_for_each_other() -> None:
    time, log = VirtualTime(), []
    rl = limiter(time)

    time.run(
        *(_send(rl, time, -100123, log) for _ in range(5)),
        *(_send(rl, time, 7, log) for _ in range(3)),
    )
    group = [t - 1000.0 for c, t in log if c == -100123]
    private = [t - 1000.0 for c, t in log if c == 7]
    assert private == [0.0, 0.0, 0.0]  # not queued behind the group
    assert group == pytest.approx([0.0, 0.0, 0.0, 3.0, 6.0])
    assert not paced([0.0, 0.0, 0.0, 0.5], interval=1.0, burst=3)  # the check can fail


def test_about_thirty_messages_a_second_overall() -> None:
    time, log = VirtualTime(), []
    rl = limiter(time)

    time.run(*(_send(rl, time, chat, log) for chat in range(1, 91)))
    times = sorted(t - 1000.0 for _, t in log)
    assert times[29] == 0.0  # a second's worth at once
    assert times[-1] == pytest.approx(2.0, abs=0.05)  # then 30 a second: 90 in two seconds
    assert paced(times, interval=1 / 30, burst=30)


def test_chat_actions_and_callback_answers_are_not_paced() -> None:
    time = VirtualTime()
    rl = limiter(time)
    calls: list[str] = []

    async def call(**_: Any) -> bool:
        calls.append("x")
        return True

    async def go() -> None:
        for endpoint in ["sendChatAction"] * 10 + ["answerCallbackQuery"] * 10:
            await rl.process_request(call, (), {}, endpoint, {"chat_id": 5}, None)

    time.run(go())
    assert len(calls) == 20 and time.sleeps == []


def test_retry_after_is_waited_out_then_the_call_retried() -> None:
    time = VirtualTime()
    rl = limiter(time)
    attempts: list[float] = []

    async def flaky(**_: Any) -> bool:
        attempts.append(time.now)
        if len(attempts) < 3:
            raise RetryAfter(7)
        return True

    async def go() -> object:
        return await rl.process_request(flaky, (), {}, "sendMessage", {"chat_id": 9}, None)

    assert time.run(go()) == [True]
    assert [t - 1000.0 for t in attempts] == pytest.approx([0.0, 7.0, 14.0])


@pytest.mark.parametrize(
    ("limits", "retry_after", "expected_attempts"),
    [
        (RateLimits(max_retries=2), 1, 3),  # two retries, then the error is the caller's
        (RateLimits(max_retry_after=30), 45, 1),  # too long a wait: fail fast
    ],
)
def test_retries_are_bounded(limits: RateLimits, retry_after: int, expected_attempts: int) -> None:
    time = VirtualTime()
    rl = limiter(time, limits)
    attempts: list[float] = []

    async def always(**_: Any) -> bool:
        attempts.append(time.now)
        raise RetryAfter(retry_after)

    async def go() -> object:
        return await rl.process_request(always, (), {}, "sendMessage", {"chat_id": 9}, None)

    with pytest.raises(RetryAfter):
        time.run(go())
    assert len(attempts) == expected_attempts


def test_a_flood_wait_without_a_chat_holds_every_call() -> None:
    time = VirtualTime()
    rl = limiter(time)
    seen: list[tuple[str, float]] = []

    async def go() -> None:
        first = True

        async def global_limit(**_: Any) -> bool:
            nonlocal first
            seen.append(("setMyCommands", time.now))
            if first:
                first = False
                raise RetryAfter(5)
            return True

        async def answer(**_: Any) -> bool:
            seen.append(("answerCallbackQuery", time.now))
            return True

        await rl.process_request(global_limit, (), {}, "setMyCommands", {}, None)
        await rl.process_request(answer, (), {}, "answerCallbackQuery", {}, None)

    time.run(go())
    assert [(m, t - 1000.0) for m, t in seen] == [
        ("setMyCommands", 0.0),
        ("setMyCommands", 5.0),
        ("answerCallbackQuery", 5.0),
    ]


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimits(per_chat_per_s=0)
    with pytest.raises(ValueError, match="burst"):
        RateLimits(burst=0)


def test_a_gate_opens_after_the_wait_right_before_the_request_and_can_stop_it() -> None:
    time = VirtualTime()
    rl = limiter(time, RateLimits(per_chat_per_s=1.0, burst=1))
    events: list[tuple[str, float]] = []

    def gate(name: str, allow: bool = True) -> SendGate:
        async def opening() -> bool:
            events.append((f"{name} opens", time.now))
            return allow

        return SendGate(opening)

    async def request(name: str, through: SendGate | None) -> str:
        async def call(**_: Any) -> str:
            events.append((f"{name} leaves", time.now))
            return name

        try:
            result = await rl.process_request(call, (), {}, "sendMessage", {"chat_id": 7}, through)
        except NotSent:
            return f"{name} not sent"
        return str(result)

    first, second = gate("first"), gate("second")
    results = time.run(
        request("reply", None),  # takes the chat's slot: the others wait their turn
        request("first", first),
        request("first again", first),  # the same delivery's next message: opened already
        request("second", second),
        request("refused", gate("refused", allow=False)),
    )
    assert results == ["reply", "first", "first again", "second", "refused not sent"]
    start = 1000.0
    assert events == [
        ("reply leaves", start),
        ("first opens", start + 1),  # after its wait, not when it was queued
        ("first leaves", start + 1),
        ("first again leaves", start + 2),
        ("second opens", start + 3),
        ("second leaves", start + 3),
        ("refused opens", start + 4),
    ]
