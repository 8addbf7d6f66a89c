"""Messages Wavelength starts (daily picks, confirmations) through ``ChatEngine.message``, the
Telegram outbox, the real PTB stack and the fake Bot API: they arrive in the person's private
chat like any answer, and Telegram's refusals come back as a ``Delivered``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.chat import Delivered, Who
from bot.conversation import Reply
from bot.telegram import _render as tr
from storage.accounts import unreachable_since
from tests.bot.telegram.conftest import Harness, cards, fake_telegram, running, telegram
from tests.bot.telegram.test_conversation import BUTTONS, labels, track

if TYPE_CHECKING:
    from bot.chat import ChatEngine
    from tests.support.world import World
    from wavelength.domain import UserId

JSON = dict[str, object]
OK = Delivered(ok=True, platform="telegram")


async def picks(engine: ChatEngine, h: Harness, person: JSON) -> tuple[UserId, Reply]:
    """``person`` has written to the bot once; their user and a batch made for them."""
    await h.say(person, "/help")
    who = Who("telegram", str(person["id"]))
    reply = next(r for r in await engine.handle(who, "/radio cool jazz") if r.batch)
    return await engine.user_of(who), reply


def marked(world: World, person: JSON) -> bool:
    with world.engine.connect() as conn:
        since = unreachable_since(conn=conn, provider="telegram", external_id=str(person["id"]))
    return since is not None


def test_a_batch_arrives_as_cards_whose_reactions_teach_the_station(
    chat_engine: ChatEngine,
) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana = h.tg.user("Ana")
            chat = h.tg.private(ana)
            user, reply = await picks(chat_engine, h, ana)
            assert reply.batch is not None
            before = len(h.tg.sent[chat["id"]])
            assert await chat_engine.message(user, [reply]) == OK
            sent = h.tg.sent[chat["id"]][before:]
            assert len(sent) == 6 and not sent[0].buttons
            assert sent[0].text.startswith('📻 "Cool jazz"') and "Tap 👍" in sent[0].text
            assert [c.text for c in sent[1:]] == [tr.card_message(c) for c in reply.batch.cards]
            assert [labels(c) for c in sent[1:]] == [BUTTONS] * 5
            assert h.tg.throttled == []  # paced by the frontend's limiter
            # a native reaction and a button: both teach her own station
            said = await h.react(ana, sent[1], ["👍"])
            assert said[-1].text.startswith(f'👍 Liked "{track(sent[1])[0]}"')
            toast = await h.press(ana, sent[2], "r:dislike")
            assert toast["text"].startswith("👎 Got it: I won't play")
            history = (await h.say(ana, "/history"))[0].text
            assert track(sent[1])[0] in history and track(sent[2])[0] in history
            # and the station plays on from the delivered batch
            later = cards(await h.say(ana, "/next"))
            assert len(later) == 5
            assert track(sent[2])[1] not in {track(c)[1] for c in later}

    asyncio.run(go())


def test_a_message_we_start_waits_for_the_reply_being_written(chat_engine: ChatEngine) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana = h.tg.user("Ana")
            chat = h.tg.private(ana)
            user, reply = await picks(chat_engine, h, ana)
            before = len(h.tg.sent[chat["id"]])
            # she asks for a station; the bot is still "typing" when the picks are due
            typing = len(h.tg.calls("sendChatAction"))
            h.tg.slow("sendChatAction", 0.4, chat=chat)
            h.tg.send(ana, "rainy day jazz")
            await h.tg.wait_until(lambda: len(h.tg.calls("sendChatAction")) > typing)
            assert await chat_engine.message(user, [reply]) == OK
            await h.settle()
            sent = h.tg.sent[chat["id"]][before:]
            headers = [i for i, m in enumerate(sent) if not m.buttons]
            assert headers == [0, 6] and len(sent) == 12  # two batches, not interleaved
            assert '"Rainy day jazz"' in sent[0].text and '"Cool jazz"' in sent[6].text

    asyncio.run(go())


def test_a_handler_may_message_its_own_chat_without_waiting_for_itself(
    chat_engine: ChatEngine,
) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            results: list[Delivered] = []

            async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
                assert update.effective_user is not None
                account = str(update.effective_user.id)
                sending = h.frontend.outbox.send(account, [Reply("pong")])
                results.append(await asyncio.wait_for(sending, 2))  # a deadlock fails, not hangs

            h.frontend.application.add_handler(MessageHandler(filters.Regex("^ping$"), ping), -1)
            ana = h.tg.user("Ana")
            h.tg.send(ana, "ping")
            await h.settle(timeout=3)
            assert results == [OK] and "pong" in h.tg.texts(h.tg.private(ana))

    asyncio.run(go())


def test_a_blocked_or_unknown_person_is_unreachable(chat_engine: ChatEngine, world: World) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana = h.tg.user("Ana")
            await h.say(ana, "/help")
            user = await chat_engine.user_of(Who("telegram", str(ana["id"])))
            h.tg.block(h.tg.private(ana))
            calls = len(h.tg.calls("sendMessage"))
            delivered = await chat_engine.message(user, [Reply("Linked to Spotify")])
            assert not delivered.ok and delivered.unreachable
            assert marked(world, ana)  # the engine marked her identity
            assert len(h.tg.calls("sendMessage")) == calls + 1  # one try, no retries
            # someone who never started the bot (Telegram: "chat not found"), and no user id
            stranger = h.tg.user("Cy")
            delivered = await h.frontend.outbox.send(str(stranger["id"]), [Reply("hi")])
            assert delivered.unreachable and not delivered.ok
            assert delivered.note is not None and "not found" in delivered.note.lower()
            assert (await h.frontend.outbox.send("@cy", [Reply("hi")])).unreachable

    asyncio.run(go())


def test_a_long_flood_wait_a_server_error_and_a_timeout_are_reported(
    chat_engine: ChatEngine, world: World
) -> None:
    async def go() -> None:
        async with telegram(chat_engine, timeout=0.5) as h:
            ana = h.tg.user("Ana")
            chat = h.tg.private(ana)
            user, reply = await picks(chat_engine, h, ana)
            sent = h.tg.sent[chat["id"]]
            before = len(sent)
            # a flood wait longer than the limiter waits out: the scheduler retries later
            h.tg.fail("sendMessage", 429, "Too Many Requests: retry after 120", retry_after=120)
            delivered = await chat_engine.message(user, [reply])
            assert delivered == Delivered(
                ok=False, retry_after=120.0, platform="telegram", note=delivered.note
            )
            # Telegram's bad hour: a 500, then a timeout
            h.tg.fail("sendMessage", 500, "Internal Server Error")
            delivered = await chat_engine.message(user, [Reply("Linked to Spotify")])
            assert not delivered.ok and not delivered.unreachable and delivered.retry_after is None
            assert delivered.note == "NetworkError: Internal Server Error"
            h.tg.slow("sendMessage", 1.0)
            delivered = await chat_engine.message(user, [Reply("Linked to Spotify")])
            assert not delivered.ok and delivered.note and "TimedOut" in delivered.note
            assert len(sent) == before and not marked(world, ana)
            # a failure in the middle of a batch: said, and the cards that went out work
            h.tg.fail("sendMessage", 500, "Internal Server Error", after=2)
            delivered = await chat_engine.message(user, [reply])
            assert not delivered.ok and delivered.note
            assert delivered.note.endswith("(after 2 message(s) went out)")
            assert len(sent) == before + 2 and sent[-1].buttons
            said = await h.react(ana, sent[-1], ["❤"])
            assert said[-1].text.startswith("❤️ Loved")
            # and the retry goes through
            assert await chat_engine.message(user, [reply]) == OK
            assert len(cards(sent[before:])) == 6

    asyncio.run(go())


def test_the_outbox_is_offered_only_while_the_bot_runs(chat_engine: ChatEngine) -> None:
    async def go() -> None:
        async with fake_telegram() as tg:
            bo = tg.user("Bo")
            chat = tg.private(bo)
            user = await chat_engine.user_of(Who("telegram", str(bo["id"])))
            note = "no frontend running"
            assert (await chat_engine.message(user, [Reply("hi")])).note == note
            async with running(chat_engine, tg):
                assert await chat_engine.message(user, [Reply("hi")]) == OK
            assert (await chat_engine.message(user, [Reply("hi")])).note == note
            assert tg.texts(chat) == ["hi"]

    asyncio.run(go())
