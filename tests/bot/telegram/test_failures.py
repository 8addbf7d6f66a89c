"""Bad input and Telegram's bad days: the bot answers what it can, marks blocked people,
waits out flood limits, logs the rest without the token, and keeps polling."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import pytest
from telegram import Update
from telegram.error import InvalidToken
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.chat import FLOOD
from bot.telegram import RateLimits, TelegramFrontend
from bot.telegram._handlers import OLD_BUTTON, TEXT_ONLY
from bot.throttle import Throttle
from storage.accounts import unreachable_since
from tests.bot.telegram.conftest import FAST, cards, fake_telegram, running, telegram
from tests.bot.telegram.test_limiter import paced
from tests.support.chat import make_chat_engine
from tests.support.fake_telegram import FakeTelegram, Limits

if TYPE_CHECKING:
    from bot.chat import ChatEngine
    from tests.support.world import World
    from wavelength.stations import StationService


def test_bad_input_gets_clear_replies_and_nothing_breaks(chat_engine: ChatEngine) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana = h.tg.user("Ana")
            chat = h.tg.private(ana)
            blank = await h.say(ana, "\u200b\u200b")  # looks empty: zero-width spaces
            assert len(blank) == 1 and "/help" in blank[0].text
            long = await h.say(ana, "x" * 5000)
            assert len(long) == 1 and "5,000 characters" in long[0].text
            odd = await h.say(ana, "ﷺ 𝔧𝔞𝔷𝔷 ب\u202e\u0301🎷\U0001f3fd")
            assert odd and all(m.text for m in odd)
            unknown = await h.say(ana, "/frobnicate@wavelength_test_bot now")
            assert len(unknown) == 1 and "/help" in unknown[0].text
            sent = await h.say(ana, "jazz for reading")
            header, card = sent[0], cards(sent)[0]
            # callback data from no button of ours (an old version, a forged client)
            h.tg.press(ana, card, "zz:9")
            await h.settle()
            assert h.tg.callback_answers[-1]["text"] == OLD_BUTTON
            # a reaction to a message that isn't a card: nothing happens, quietly
            before = len(h.tg.sent[chat["id"]])
            await h.react(ana, header, ["👍"])
            assert len(h.tg.sent[chat["id"]]) == before
            # a reaction that isn't an emoji (custom emoji, paid stars) is ignored too
            h.tg.push_raw(
                {
                    "message_reaction": {
                        "chat": chat,
                        "message_id": card.message_id,
                        "user": ana,
                        "date": int(time.time()),
                        "old_reaction": [],
                        "new_reaction": [{"type": "custom_emoji", "custom_emoji_id": "5368"}],
                    }
                }
            )
            await h.settle()
            assert len(h.tg.sent[chat["id"]]) == before
            # a sticker: no text to read
            h.tg.push_raw(
                {
                    "message": {
                        "message_id": 900,
                        "from": ana,
                        "chat": chat,
                        "date": int(time.time()),
                        "sticker": {
                            "file_id": "s",
                            "file_unique_id": "s",
                            "type": "regular",
                            "width": 512,
                            "height": 512,
                            "is_animated": False,
                            "is_video": False,
                        },
                    }
                }
            )
            await h.settle()
            assert h.tg.texts(chat)[-1] == TEXT_ONLY
            # and the bot is still fine
            assert "/radio" in (await h.say(ana, "/help"))[0].text

    asyncio.run(go())


def test_a_blocked_chat_is_marked_unreachable_and_others_still_served(
    chat_engine: ChatEngine, world: World
) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana, bo = h.tg.user("Ana"), h.tg.user("Bo")
            h.tg.block(h.tg.private(ana))
            assert await h.say(ana, "jazz for reading") == []
            with world.engine.connect() as conn:
                since = unreachable_since(
                    conn=conn, provider="telegram", external_id=str(ana["id"])
                )
            assert since is not None
            # the first refusal ended the reply: no card was tried after it
            assert len(h.tg.calls("sendMessage")) == 1
            assert len(cards(await h.say(bo, "jazz for reading"))) == 5

    asyncio.run(go())


def test_a_429_is_waited_out_and_the_message_still_arrives(chat_engine: ChatEngine) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana = h.tg.user("Ana")
            chat = h.tg.private(ana)
            h.tg.fail(
                "sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat=chat
            )
            started = time.monotonic()
            said = await h.say(ana, "/help")
            assert time.monotonic() - started >= 1.0
            assert len(said) == 1 and "/radio" in said[0].text
            assert len(h.tg.calls("sendMessage")) == 2  # refused once, then sent

    asyncio.run(go())


def test_timeouts_and_server_errors_are_logged_without_the_token(
    chat_engine: ChatEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def go() -> str:
        async with telegram(chat_engine, timeout=0.3) as h:
            ana = h.tg.user("Ana")
            h.tg.slow("sendMessage", 1.0)  # the header times out
            h.tg.fail("sendMessage", 500, "Internal Server Error", times=1)  # so does card 1
            sent = await h.say(ana, "jazz for reading")
            assert len(sent) == 4 and all(m.buttons for m in sent)  # cards 2-5 made it
            h.tg.fail("sendMessage", 400, "Bad Request: odd", times=1)
            h.tg.fail("getUpdates", 502, "Bad Gateway", times=1)  # polling goes on
            assert (await h.say(ana, "/help")) == []
            assert "/radio" in (await h.say(ana, "/help"))[0].text
            # the cards that did go out were registered: reacting to them works
            toast = await h.press(ana, sent[0], "r:like")
            assert toast["text"].startswith("👍 Liked")
            return h.tg.token

    token = asyncio.run(go())
    assert "Telegram refused a message to chat" in caplog.text
    assert "Timed out" in caplog.text or "TimedOut" in caplog.text
    assert "httpx" in {r.name for r in caplog.records}  # the library logged URLs...
    assert token not in caplog.text  # ...and not one of them shows the token
    assert token.split(":")[1] not in caplog.text
    assert "<telegram-token>" in caplog.text


def test_a_flood_from_one_person_gets_one_friendly_reply(
    world: World, service: StationService
) -> None:
    engine = make_chat_engine(world, service, throttle=Throttle(burst=3, per_second=0.01))

    async def go() -> None:
        async with telegram(engine) as h:
            ana, bo = h.tg.user("Ana"), h.tg.user("Bo")
            chat = h.tg.private(ana)
            for _ in range(8):
                h.tg.send(ana, "/help")
            await h.settle()
            texts = h.tg.texts(chat)
            assert texts.count(FLOOD) == 1 and len(texts) == 4  # three answers, one warning
            assert "/radio" in (await h.say(bo, "/help"))[0].text  # others aren't slowed
        await engine.close()

    asyncio.run(go())


def test_the_rate_limiter_keeps_a_batch_within_the_per_chat_limit(
    chat_engine: ChatEngine,
) -> None:
    limits = RateLimits(per_chat_per_s=10.0, burst=3)  # Telegram's shape, ten times faster

    async def go() -> None:
        # The fake enforces a little less than the bot keeps to: requests leave the limiter
        # paced but reach the server with loopback jitter (a loaded CI machine saw one
        # arrive early enough to trip an exact 10/s).
        async with FakeTelegram(limits=Limits(per_chat_per_s=12.0, chat_burst=3)) as tg:
            async with running(chat_engine, tg, limits=limits) as h:
                ana = tg.user("Ana")
                sent = await h.say(ana, "jazz for reading")
                sent += await h.say(ana, "next")
                assert len(sent) == 12 and tg.throttled == []
                times = tg.send_times[ana["id"]]
                # Taken where the fake receives them: a request delayed on loopback makes the
                # next gap look short by as much (CI saw 95.7 ms after a late third request).
                # Unpaced, the gaps are ~3 ms, so a 10 ms slack still fails them.
                assert paced(times, interval=0.1, burst=3, slack=0.01)
                assert times[-1] - times[0] >= (12 - 3) * 0.1 - 0.01
            # without pacing the same batch runs into Telegram's limit (and the 429 is then
            # waited out): the check above is one that can fail
            async with running(chat_engine, tg, limits=RateLimits(per_chat_per_s=1000.0)) as h:
                bo = tg.user("Bo")
                assert len(await h.say(bo, "jazz for reading")) == 6
                assert tg.throttled

    asyncio.run(go())


def test_the_fast_test_limits_are_the_real_shape() -> None:
    """The suite's sped-up limits keep Telegram's proportions (burst, private vs group)."""
    assert FAST.burst == RateLimits().burst
    assert FAST.per_chat_per_s / RateLimits().per_chat_per_s == pytest.approx(
        FAST.group_per_min / RateLimits().group_per_min
    )
    assert fake_telegram().limits == Limits().scaled(20)


def test_whatever_escapes_a_handler_is_logged_and_polling_goes_on(
    chat_engine: ChatEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise RuntimeError("a bug in some handler")

    async def go() -> None:
        async with telegram(chat_engine) as h:
            h.frontend.application.add_handler(MessageHandler(filters.Regex("^boom$"), boom), -1)
            ana = h.tg.user("Ana")
            await h.say(ana, "boom")
            assert "/radio" in (await h.say(ana, "/help"))[0].text

    asyncio.run(go())
    failed = [r for r in caplog.records if r.getMessage() == "handler failed"]
    assert len(failed) == 1 and failed[0].levelno == logging.ERROR
    assert "a bug in some handler" in caplog.text  # with its traceback


def test_a_wrong_token_fails_at_start_without_showing_it(
    chat_engine: ChatEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = "999:WrongTokenWrongTokenWrong"

    async def go() -> None:
        async with fake_telegram() as tg:
            frontend = TelegramFrontend.build(token=token, engine=chat_engine, base_url=tg.base_url)
            with pytest.raises(InvalidToken):
                await frontend.start()
            assert tg.calls("getMe") and not tg.calls("getUpdates")

    asyncio.run(go())
    assert "WrongToken" not in caplog.text
