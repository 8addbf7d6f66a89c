"""Messages Wavelength starts (daily picks, confirmations) through ``ChatEngine.message``, the
Telegram outbox, the real PTB stack and the fake Bot API: they arrive in the person's private
chat like any answer, and Telegram's refusals come back as a ``Delivered``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.chat import Delivered, Who
from bot.conversation import Reply
from bot.telegram import _render as tr
from bot.telegram._outbox import maybe_arrived
from jobs.delivery import ChatAndSpotify
from jobs.runner import DeliveryRunner
from jobs.schedule import DAILY
from storage import accounts, deliveries
from storage.accounts import unreachable_since
from storage.deliveries import Status
from tests.bot.telegram.conftest import Harness, cards, fake_telegram, running, telegram
from tests.bot.telegram.test_conversation import BUTTONS, labels, track
from wavelength.domain import UserId, UserPrefs

if TYPE_CHECKING:
    from bot.chat import ChatEngine
    from tests.support.world import World
    from wavelength.stations import Batch

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


# -- scheduled deliveries through the real runner: when "sending" starts, and timeouts ------

# Each test its own day: the world's database (and the runners' lease in it) is shared.
NINE = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class OneBatch:
    """The runner's composer: the batch made for each listener beforehand."""

    def __init__(self, batches: dict[UserId, Batch]) -> None:
        self.batches = batches

    def compose(self, kind: str, users: Sequence[UserId]) -> dict[UserId, object]:
        return {u: self.batches[u] for u in users if u in self.batches}


def opt_in(world: World, user: UserId, at: datetime) -> None:
    with world.engine.begin() as conn:
        prefs = UserPrefs(time_zone="UTC", delivery_minute=9 * 60, daily=True)
        accounts.put_prefs(conn=conn, user=user, prefs=prefs, now=at)


def delivery(world: World, engine: ChatEngine, reply: Reply, user: UserId, *,
             worker: str = "w1", at: datetime) -> DeliveryRunner:  # fmt: skip
    assert reply.batch is not None
    return DeliveryRunner(
        database=world.engine, composer=OneBatch({user: reply.batch}),
        sender=ChatAndSpotify(engine, clock=lambda: at), worker=worker, clock=lambda: at,
        kinds=(DAILY,),
    )  # fmt: skip


def ledger_status(world: World, user: UserId, at: datetime) -> Status | None:
    with world.engine.connect() as conn:
        return deliveries.status_of(conn=conn, user=user, kind=DAILY, day=f"{at:%Y-%m-%d}")


def picks_headers(h: Harness, chat: JSON) -> list[str]:
    return [t for t in h.tg.texts(chat) if t.startswith("☀️")]


def test_a_delivery_killed_while_it_waits_in_the_limiter_stays_claimed_and_arrives_once(
    chat_engine: ChatEngine, world: World
) -> None:
    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana = h.tg.user("Ana")
            chat = h.tg.private(ana)
            user, reply = await picks(chat_engine, h, ana)
            opt_in(world, user, NINE)
            # Telegram asks for a 2 s pause in her chat: the limiter holds everything for it.
            h.tg.fail("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2,
                      chat=chat)  # fmt: skip
            bot = h.frontend.application.bot
            held = asyncio.create_task(bot.send_message(chat_id=chat["id"], text="hello"))
            await h.tg.wait_until(
                lambda: any(c["text"] == "hello" for c in h.tg.calls("sendMessage"))
            )
            sent = len(h.tg.calls("sendMessage"))
            round_ = asyncio.create_task(
                delivery(world, chat_engine, reply, user, at=NINE).run_round(only=[user])
            )
            await h.tg.wait_until(lambda: ledger_status(world, user, NINE) is Status.CLAIMED)
            await asyncio.sleep(0.3)  # composed, handed to the outbox, waiting for its turn
            round_.cancel()  # the process is killed
            with contextlib.suppress(asyncio.CancelledError):
                await round_
            assert len(h.tg.calls("sendMessage")) == sent and picks_headers(h, chat) == []
            # Not "sending": nothing left, so nothing is lost or doubtful.
            assert ledger_status(world, user, NINE) is Status.CLAIMED
            await held
            # The next process, once the dead one's claim has run out, delivers it once.
            later = NINE + timedelta(minutes=11)
            report = await delivery(world, chat_engine, reply, user, worker="w2", at=later) \
                .run_round(only=[user])  # fmt: skip
            assert (report.settled_unknown, report.sent) == (0, 1)
            again = await delivery(world, chat_engine, reply, user, worker="w2", at=later) \
                .run_round(only=[user])  # fmt: skip
            assert again.claimed == 0 and len(picks_headers(h, chat)) == 1
            assert ledger_status(world, user, NINE) is Status.SENT

    asyncio.run(go())


def test_a_timeout_on_a_message_telegram_took_is_unknown_and_never_sent_again(
    chat_engine: ChatEngine, world: World
) -> None:
    nine = NINE + timedelta(days=1)

    async def go() -> None:
        async with telegram(chat_engine, timeout=0.5) as h:
            ana = h.tg.user("Ana")
            chat = h.tg.private(ana)
            user, reply = await picks(chat_engine, h, ana)
            opt_in(world, user, nine)
            h.tg.answer_late("sendMessage", 1.5, chat=chat)  # shown, answered too late
            report = await delivery(world, chat_engine, reply, user, at=nine).run_round(only=[user])
            assert (report.sent, report.unknown, report.failed) == (0, 1, 0)
            assert report.notes and "TimedOut" in report.notes[0]
            assert ledger_status(world, user, nine) is Status.UNKNOWN
            assert len(picks_headers(h, chat)) == 1  # it did arrive
            for minutes in (11, 60, 11 * 60):  # later rounds: nothing is sent again
                later = nine + timedelta(minutes=minutes)
                again = await delivery(world, chat_engine, reply, user, worker="w2", at=later) \
                    .run_round(only=[user])  # fmt: skip
                assert again.claimed == 0
            await asyncio.sleep(1.2)  # the late answer goes out (to nobody)
            assert len(picks_headers(h, chat)) == 1

    asyncio.run(go())


def test_a_server_error_before_telegram_took_it_is_retried_and_arrives_once(
    chat_engine: ChatEngine, world: World
) -> None:
    nine = NINE + timedelta(days=2)

    async def go() -> None:
        async with telegram(chat_engine) as h:
            ana = h.tg.user("Ana")
            chat = h.tg.private(ana)
            user, reply = await picks(chat_engine, h, ana)
            opt_in(world, user, nine)
            h.tg.fail("sendMessage", 500, "Internal Server Error", chat=chat)
            first = await delivery(world, chat_engine, reply, user, at=nine).run_round(only=[user])
            assert (first.sent, first.failed) == (0, 1)
            assert (
                ledger_status(world, user, nine) is Status.FAILED and picks_headers(h, chat) == []
            )
            later = nine + timedelta(minutes=6)  # past the retry time
            retry = await delivery(world, chat_engine, reply, user, at=later) \
                .run_round(only=[user])  # fmt: skip
            assert retry.sent == 1 and len(picks_headers(h, chat)) == 1
            assert ledger_status(world, user, nine) is Status.SENT

    asyncio.run(go())


def test_which_failures_may_have_reached_telegram() -> None:
    def caused(exc: TelegramError, cause: BaseException | None) -> TelegramError:
        exc.__cause__ = cause
        return exc

    request = httpx.Request("POST", "https://api.telegram.org/bot1:x/sendMessage")
    never_left = [
        caused(TimedOut(), httpx.ConnectTimeout("connect", request=request)),
        caused(TimedOut("Pool timeout"), httpx.PoolTimeout("pool", request=request)),
        caused(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused", request=request)),
        NetworkError("Internal Server Error"),  # Telegram's own answer: it did nothing
        RetryAfter(30),
        Forbidden("Forbidden: bot was blocked by the user"),
        BadRequest("Bad Request: chat not found"),
    ]
    maybe = [
        caused(TimedOut(), httpx.ReadTimeout("read", request=request)),
        caused(TimedOut(), httpx.WriteTimeout("write", request=request)),
        caused(NetworkError("dropped"), httpx.RemoteProtocolError("gone", request=request)),
        caused(NetworkError("Bad Gateway (502)"), TelegramError("not JSON")),  # a proxy's page
    ]
    assert [maybe_arrived(e) for e in never_left] == [False] * len(never_left)
    assert [maybe_arrived(e) for e in maybe] == [True] * len(maybe)
