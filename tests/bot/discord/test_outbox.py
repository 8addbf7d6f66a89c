"""Messages Wavelength starts: ``ChatEngine.message`` through the Discord outbox, by DM, on
the fake Discord with the real bot; and what Discord's refusals become."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

import discord
import pytest

from bot.chat import ChatEngine, Delivered, Who
from bot.conversation import Reply
from bot.discord import WavelengthBot
from bot.gate import NotSent, SendGate
from storage import accounts
from storage import feedback as fb
from tests.bot.discord.conftest import note, play, running
from tests.support.fake_discord import FakeDiscord, FakeUser, Json, RequestRecord, fake_discord
from tests.support.world import World
from wavelength.domain import Reaction, UserId

REACTIONS = ["👍", "👎", "⏭️", "❤️"]
MESSAGES = r"^/channels/\d+/messages$"


async def wrote(engine: ChatEngine, account: str, text: str = "/radio cool jazz") -> Reply:
    """The person writes once (so they have an account to be messaged on); the reply."""
    replies = await engine.handle(Who("discord", account), text)
    return next((r for r in replies if r.batch is not None), replies[-1])


async def user_of(engine: ChatEngine, account: str) -> UserId:
    return await engine.user_of(Who("discord", account))


def dms(fake: FakeDiscord, account: str) -> list[Json]:
    channel = fake.dm_channels.get(int(account))
    return fake.channel_messages(channel) if channel is not None else []


def title(message: Json) -> str:
    return str(message["embeds"][0]["title"])


def unreachable_since(world: World, account: str) -> datetime | None:
    with world.engine.connect() as conn:
        return accounts.unreachable_since(conn=conn, provider="discord", external_id=account)


def test_a_batch_arrives_by_dm_as_cards_whose_reactions_teach_the_station(
    chat_engine: ChatEngine, world: World
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana", "Ana")
            account = str(ana.id)
            picks = await wrote(chat_engine, account, "/radio metal workout")
            batch = picks.batch
            assert batch is not None and len(batch.cards) == 5
            user = await user_of(chat_engine, account)

            assert await chat_engine.message(user, [picks]) == Delivered(
                ok=True, platform="discord"
            )

            header, *shown = dms(fake, account)
            assert f'"{batch.station.name}" · batch 1' in header["content"]
            assert "React under a card" in header["content"]
            assert [title(m) for m in shown] == [
                f"{c.position}. {c.track.name}" for c in batch.cards
            ]
            assert all(fake.bot_reactions(m) == REACTIONS for m in shown)
            assert all("guild_id" not in m for m in shown)  # a DM, not the server's channel
            assert fake.channel_messages(fake.channel_id) == []

            told = await note(fake, ana, fake.react(ana, shown[1], "👍"))
            assert told.startswith("👍 Liked") and batch.cards[1].track.name in told
            with world.engine.connect() as conn:
                taught = fb.feedback_for_station(conn=conn, station=batch.station.id)
            assert [(f.track, f.reaction) for f in taught] == [
                (batch.cards[1].track.id, Reaction.LIKE)
            ]
            after = await wrote(chat_engine, account, "/next")
            assert after.batch is not None
            assert any("because you liked" in c.reason.lower() for c in after.batch.cards)

    play(scenario)


def test_a_confirmation_is_one_plain_dm_and_goes_only_while_the_bot_runs(
    chat_engine: ChatEngine,
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake:
            ana = fake.new_user("ana")
            account = str(ana.id)
            await wrote(chat_engine, account, "/help")
            user = await user_of(chat_engine, account)
            linked = [Reply("Linked to Spotify ✓")]
            stopped = Delivered(ok=False, note="no frontend running")
            assert await chat_engine.message(user, linked) == stopped
            async with running(fake, chat_engine):
                assert await chat_engine.message(user, linked) == Delivered(
                    ok=True, platform="discord"
                )
            [shown] = dms(fake, account)
            assert shown["content"] == "Linked to Spotify ✓" and shown["embeds"] == []
            assert fake.bot_reactions(shown) == []
            assert await chat_engine.message(user, linked) == stopped  # unregistered on close

    play(scenario)


def test_closed_dms_and_unknown_accounts_are_unreachable_and_the_engine_marks_them(
    chat_engine: ChatEngine, world: World
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine) as bot:
            ben = fake.new_user("ben")
            fake.close_dms(ben)
            account = str(ben.id)
            picks = await wrote(chat_engine, account)
            user = await user_of(chat_engine, account)

            direct = await bot.outbox.send(account, [picks])
            assert direct.unreachable and not direct.ok and direct.retry_after is None
            assert direct.note is not None and "50007" in direct.note
            assert unreachable_since(world, account) is None  # the outbox leaves that to the engine

            gone = Delivered(ok=False, unreachable=True, note="no reachable account")
            assert await chat_engine.message(user, [picks]) == gone
            assert unreachable_since(world, account) is not None
            asked = len(fake.requests)
            assert await chat_engine.message(user, [picks]) == gone
            assert len(fake.requests) == asked  # Discord isn't asked again
            assert dms(fake, account) == []

            # An account Discord doesn't know (deleted): the DM can't even be opened.
            ghost = str(fake.snowflake())
            await wrote(chat_engine, ghost, "/help")
            assert await chat_engine.message(await user_of(chat_engine, ghost), [picks]) == gone
            assert unreachable_since(world, ghost) is not None
            opened = [r for r in fake.requests if r.path == "/users/@me/channels"]
            assert opened[-1].status == 400 and str(opened[-1].body["recipient_id"]) == ghost

    play(scenario)


def test_a_429_that_outlasts_discord_pys_retries_is_a_retry_later(
    chat_engine: ChatEngine, world: World
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            account = str(ana.id)
            picks = await wrote(chat_engine, account)
            user = await user_of(chat_engine, account)
            fake.fault("POST", MESSAGES, status=429, times=5, retry_after=0.01)

            limited = await chat_engine.message(user, [picks])
            assert not limited.ok and not limited.unreachable
            assert limited.retry_after == 1.0  # Discord's Retry-After header, whole seconds
            assert limited.note is not None and limited.note.startswith("429")
            sent = [r.status for r in fake.requests if r.method == "POST" and "/messages" in r.path]
            assert sent == [429] * 5  # discord.py waited out and retried four of them
            assert unreachable_since(world, account) is None
            # Later, it all arrives, once: nothing of the failed try was shown.
            assert (await chat_engine.message(user, [picks])).ok
            assert len(dms(fake, account)) == 6

    play(scenario)


def test_a_429_longer_than_the_bot_will_wait_comes_back_with_its_wait(
    chat_engine: ChatEngine,
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine, max_ratelimit_timeout=30.0):
            ana = fake.new_user("ana")
            account = str(ana.id)
            await wrote(chat_engine, account, "/help")
            fake.fault("POST", r"^/users/@me/channels$", status=429, retry_after=45.0)
            limited = await chat_engine.message(await user_of(chat_engine, account), [Reply("hi")])
            assert limited == Delivered(
                ok=False, retry_after=45.0, platform="discord", note="rate limited"
            )

    play(scenario)


def test_server_errors_fail_the_delivery_unless_discord_py_retries_them_away(
    chat_engine: ChatEngine,
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            account = str(ana.id)
            picks = await wrote(chat_engine, account)
            user = await user_of(chat_engine, account)

            fake.fault("POST", MESSAGES, status=503)  # discord.py doesn't retry a 503
            failed = await chat_engine.message(user, [picks])
            assert failed == Delivered(ok=False, platform="discord", note="503 (code 0)")
            assert dms(fake, account) == []

            # A 500 is retried once, a second later; a failing reaction button costs only
            # the buttons.
            fake.fault("POST", MESSAGES, status=500)
            fake.fault("PUT", r"/reactions/", status=503)
            assert (await chat_engine.message(user, [picks])).ok
            header, *shown = dms(fake, account)
            assert "React under a card" in header["content"]
            assert len(shown) == 5 and all(fake.bot_reactions(m) == [] for m in shown)

    play(scenario)


def test_a_failure_halfway_says_what_went_out_and_those_cards_still_count(
    chat_engine: ChatEngine, world: World
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            account = str(ana.id)
            picks = await wrote(chat_engine, account)
            user = await user_of(chat_engine, account)
            fake.fault("POST", MESSAGES, status=503, skip=3)  # the header and two cards pass

            failed = await chat_engine.message(user, [picks])
            assert not failed.ok and not failed.unreachable
            assert failed.note == "503 (code 0) after 3 messages were delivered"
            _, *shown = dms(fake, account)
            assert len(shown) == 2
            told = await note(fake, ana, fake.react(ana, shown[1], "❤️"))
            assert told.startswith("❤️")
            with world.engine.connect() as conn:
                [loved] = fb.recent_feedback(conn=conn, user=user)
            assert loved.reaction is Reaction.LOVE

    play(scenario)


# -- a scheduled delivery's gate, and timeouts ------------------------------------------------


class Gate:
    """A delivery's ``SendGate`` that records when it opened (and may refuse)."""

    def __init__(self, fake: FakeDiscord, *, allow: bool = True) -> None:
        self.opened_after: list[int] = []  # message requests the fake had seen by then
        self.gate = SendGate(self._open)
        self._fake, self._allow = fake, allow

    async def _open(self) -> bool:
        self.opened_after.append(len(posts(self._fake)))
        return self._allow


def posts(fake: FakeDiscord) -> list[RequestRecord]:
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]


async def spend_the_bucket(
    fake: FakeDiscord, bot: WavelengthBot, user: FakeUser, *, seconds: float
) -> asyncio.Task[discord.Message]:
    """One request per DM channel per ``seconds``, and a message that spends it: discord.py
    sleeps the bucket off (inside that send, which is returned running) and holds every
    other message to the channel back meanwhile."""
    fake.rate_limit = (1, seconds)
    channel = await bot.create_dm(discord.Object(user.id))
    seen = len(posts(fake))
    linked = asyncio.create_task(channel.send("Linked to Spotify ✓"))
    await fake.until(lambda: len(posts(fake)) > seen)
    return linked


def test_the_gate_opens_once_as_the_first_message_leaves_after_discord_pys_wait(
    chat_engine: ChatEngine,
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine) as bot:
            ana = fake.new_user("ana")
            account = str(ana.id)
            picks = await wrote(chat_engine, account)
            user = await user_of(chat_engine, account)
            linked = await spend_the_bucket(fake, bot, ana, seconds=2.0)
            before = len(posts(fake))
            # Her DM channel's bucket is spent: discord.py holds the next message back.
            gate = Gate(fake)
            sending = asyncio.create_task(bot.outbox.send(account, [picks], gate=gate.gate))
            await asyncio.sleep(0.5)
            assert gate.opened_after == [] and len(posts(fake)) == before  # still waiting
            sending.cancel()  # the process dies: nothing left, the gate never opened
            with contextlib.suppress(asyncio.CancelledError):
                await sending
            assert gate.gate.opened is False and len(dms(fake, account)) == 1
            fake.rate_limit = (1000, 1.0)
            await linked
            gate = Gate(fake)
            assert (await chat_engine.message(user, [picks], gate=gate.gate)).ok
            assert gate.opened_after == [before]  # once, right before the header went
            assert len(dms(fake, account)) == 1 + 6
            refused = Gate(fake, allow=False)  # a claim taken over meanwhile
            with pytest.raises(NotSent):
                await chat_engine.message(user, [picks], gate=refused.gate)
            assert len(dms(fake, account)) == 1 + 6

    play(scenario)


def test_a_timeout_is_in_doubt_only_when_a_message_left_without_an_answer(
    chat_engine: ChatEngine,
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine) as bot:
            ana = fake.new_user("ana")
            account = str(ana.id)
            picks = await wrote(chat_engine, account)
            user = await user_of(chat_engine, account)
            bot.outbox.timeout = 0.5
            # Discord posts the header and answers after the client has given up.
            fake.fault("POST", MESSAGES, late=1.5)
            late = await chat_engine.message(user, [picks], gate=Gate(fake).gate)
            assert not late.ok and late.in_doubt and late.sent == 0
            assert late.note == "TimeoutError"
            assert len(dms(fake, account)) == 1  # it did arrive
            # Timed out while discord.py still held it back: nothing left, safe to retry.
            linked = await spend_the_bucket(fake, bot, ana, seconds=3.0)
            queued = await chat_engine.message(user, [picks], gate=Gate(fake).gate)
            assert not queued.ok and not queued.in_doubt and queued.note == "TimeoutError"
            await linked
            assert len(dms(fake, account)) == 2

    play(scenario)
