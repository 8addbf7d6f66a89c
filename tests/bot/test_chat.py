"""The async chat engine: people on platforms, posted cards and reactions to them."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from bot.chat import COMMANDS, FLOOD, OOPS, ChatEngine, Delivered, Where, Who, reaction_of
from bot.conversation import Reply
from bot.gate import NotSent, SendGate
from bot.throttle import Throttle
from storage import feedback as fb
from storage.models import IdentityRow
from tests.support.chat import make_chat_engine
from tests.support.world import World
from wavelength.domain import Reaction
from wavelength.stations import StationService

T = TypeVar("T")
_ids = itertools.count(1)
_messages = itertools.count(1000)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def person(platform: str = "telegram", name: str = "Ana") -> Who:
    return Who(platform, f"acct-{next(_ids)}", name)


async def post_batch(engine: ChatEngine, who: Who, reply: Reply, chat: str = "c1") -> list[Where]:
    """What a frontend does with a batch: one message per card, then ``posted``."""
    assert reply.batch is not None, reply.text
    wheres = [Where(who.platform, chat, str(next(_messages))) for _ in reply.batch.cards]
    await engine.posted(who, reply.batch, list(zip(wheres, reply.batch.cards, strict=True)))
    return wheres


def test_a_mood_then_a_reaction_to_a_posted_card_teaches_the_station(
    chat_engine: ChatEngine, service: StationService, world: World
) -> None:
    ana = person()

    async def scenario() -> tuple[Reply, Reply | None, list[Reply]]:
        [first] = await chat_engine.handle(ana, "/radio metal workout")
        wheres = await post_batch(chat_engine, ana, first)
        reacted = await chat_engine.react(ana, wheres[1], Reaction.LIKE)
        return first, reacted, await chat_engine.handle(ana, "/next")

    first, reacted, [second] = run(scenario())
    assert first.batch is not None and second.batch is not None
    liked = first.batch.cards[1].track
    assert reacted is not None and "Liked" in reacted.text and liked.name in reacted.text
    with world.engine.connect() as conn:
        feedback = fb.feedback_for_station(conn=conn, station=first.batch.station.id)
    assert [(f.track, f.reaction) for f in feedback] == [(liked.id, Reaction.LIKE)]
    assert any("because you liked" in c.reason for c in second.batch.cards)


def test_someone_elses_reaction_counts_for_their_own_taste_only(
    chat_engine: ChatEngine, world: World
) -> None:
    ana, ben = person(name="Ana"), person(name="Ben")

    async def scenario() -> tuple[Reply, Reply | None]:
        [first] = await chat_engine.handle(ana, "/radio cool jazz")
        wheres = await post_batch(chat_engine, ana, first, chat="group")
        return first, await chat_engine.react(ben, wheres[0], Reaction.DISLIKE)

    first, reacted = run(scenario())
    assert first.batch is not None and reacted is not None
    assert "your own taste" in reacted.text and "Ben" in reacted.text
    with world.engine.connect() as conn:
        assert fb.feedback_for_station(conn=conn, station=first.batch.station.id) == []
        ben_user = conn.execute(
            select(IdentityRow.user_id).where(IdentityRow.external_id == ben.account)
        ).scalar_one()
        assert fb.disliked_tracks(conn=conn, user=ben_user) == {first.batch.cards[0].track.id}


def test_reactions_to_other_messages_are_ignored(chat_engine: ChatEngine) -> None:
    ana = person()
    stranger = Where("telegram", "c1", "999999999")
    assert run(chat_engine.react(ana, stranger, Reaction.LIKE)) is None
    assert run(chat_engine.unreact(ana, stranger, Reaction.LIKE)) is None
    assert run(chat_engine.why(ana, stranger)) is None


def test_a_reaction_taken_off_a_card_is_taken_back_and_why_explains(
    chat_engine: ChatEngine, world: World
) -> None:
    ana = person("discord")

    async def scenario() -> tuple[Reply, Reply | None, Reply | None, Reply | None]:
        [first] = await chat_engine.handle(ana, "sleep")
        wheres = await post_batch(chat_engine, ana, first)
        await chat_engine.react(ana, wheres[2], Reaction.LOVE)
        undone = await chat_engine.unreact(ana, wheres[2], Reaction.LOVE)
        again = await chat_engine.unreact(ana, wheres[2], Reaction.LOVE)
        return first, undone, again, await chat_engine.why(ana, wheres[2])

    first, undone, again, why = run(scenario())
    assert first.batch is not None
    card = first.batch.cards[2]
    assert undone is not None and "Forgotten" in undone.text and card.track.name in undone.text
    assert again is None  # nothing left to take back: stay quiet
    assert why is not None and card.reason.casefold() in why.text.casefold()
    with world.engine.connect() as conn:
        assert fb.feedback_for_station(conn=conn, station=first.batch.station.id) == []


def test_cards_survive_a_new_engine(world: World, service: StationService) -> None:
    """A restart: the cards are in the database, so an old card still takes reactions."""
    ana = person()
    engine = make_chat_engine(world, service)
    [first] = run(engine.handle(ana, "/radio cool jazz"))
    wheres = run(post_batch(engine, ana, first))
    run(engine.close())
    restarted = make_chat_engine(world, service)
    try:
        reacted = run(restarted.react(ana, wheres[4], Reaction.SKIP))
    finally:
        run(restarted.close())
    assert reacted is not None and "Skipped" in reacted.text


def test_a_flood_gets_one_friendly_reply_then_silence(
    world: World, service: StationService
) -> None:
    now = [0.0]
    engine = make_chat_engine(
        world, service, throttle=Throttle(burst=3, per_second=1.0, clock=lambda: now[0])
    )
    ana = person()

    async def flood() -> list[list[Reply]]:
        return [await engine.handle(ana, "/help") for _ in range(6)]

    try:
        replies = run(flood())
        assert [len(r) for r in replies] == [1, 1, 1, 1, 0, 0]
        assert replies[3][0].text == FLOOD
        now[0] = 2.0  # two seconds later: two more
        assert "/radio" in run(engine.handle(ana, "/help"))[0].text
        # Someone else is not held back by Ana's flood.
        assert run(engine.handle(person(), "/help"))[0].text != FLOOD
    finally:
        run(engine.close())


def test_a_broken_dependency_gives_a_reply_not_a_crash(
    world: World, service: StationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_chat_engine(world, service)

    def broken(*_args: object) -> object:
        raise RuntimeError("database went away")

    monkeypatch.setattr(service, "user", broken)
    try:
        assert run(engine.handle(person(), "/help")) == [Reply(OOPS)]
        assert run(engine.react(person(), Where("telegram", "c", "1"), Reaction.LIKE)) in (
            None,
            Reply(OOPS),
        )
        assert run(engine.station_names(person())) == []
    finally:
        run(engine.close())


def test_unreachable_is_marked_and_cleared_when_they_write(
    chat_engine: ChatEngine, world: World
) -> None:
    ana = person()
    run(chat_engine.handle(ana, "/help"))

    def mark() -> object:
        with world.engine.connect() as conn:
            return conn.execute(
                select(IdentityRow.unreachable_since).where(IdentityRow.external_id == ana.account)
            ).scalar_one()

    run(chat_engine.unreachable(ana))
    assert mark() is not None
    run(chat_engine.handle(ana, "/help"))
    assert mark() is None


def test_one_person_on_two_platforms_connects_into_one_taste(chat_engine: ChatEngine) -> None:
    on_telegram, on_discord = person("telegram"), person("discord")

    async def scenario() -> tuple[str, str, str, list[str]]:
        await chat_engine.handle(on_discord, "/radio sleep")
        await chat_engine.handle(on_telegram, "/radio sleep")  # same name on both: kept apart
        [shown] = await chat_engine.handle(on_telegram, "/connect")
        code = re.search(r"/connect (\w+)", shown.text)
        assert code is not None
        [wrong] = await chat_engine.handle(on_discord, "/connect ZZZZZZ")
        [own] = await chat_engine.handle(on_telegram, f"/connect {code.group(1)}")
        [done] = await chat_engine.handle(on_discord, f"/connect {code.group(1)}")
        names = await chat_engine.station_names(on_telegram)
        assert names == await chat_engine.station_names(on_discord)
        [reused] = await chat_engine.handle(on_discord, f"/connect {code.group(1)}")
        return wrong.text, own.text, done.text + reused.text, names

    wrong, own, done, names = run(scenario())
    assert "doesn't work" in wrong
    assert "your own code" in own
    assert "Connected" in done and "Discord" in done and "Telegram" in done
    assert "doesn't work" in done  # a code works once
    assert sorted(names) == ["Sleep", "Sleep (2)"]


def test_settings_in_chat(chat_engine: ChatEngine) -> None:
    ana = person()

    async def say(text: str) -> str:
        [reply] = await chat_engine.handle(ana, text)
        return reply.text

    async def scenario() -> list[str]:
        return [
            await say("/settings"),
            await say("/settings tz=europe/berlin time=7pm daily=on"),
            await say("/settings tz=Mars/Olympus"),
            await say("/settings time=25:00"),
            await say("/settings colour=blue"),
            await say("/pause"),
            await say("/resume"),
        ]

    shown, saved, bad_zone, bad_time, bad_key, paused, resumed = run(scenario())
    assert "UTC" in shown and "09:00" in shown and "off" in shown
    assert "Europe/Berlin" in saved and "19:00" in saved and "daily DMs on" in saved
    assert "Mars/Olympus" in bad_zone and "Europe/Berlin" in bad_zone
    assert "isn't a time" in bad_time
    assert "colour" in bad_key
    assert "paused" in paused.lower()
    assert "Europe/Berlin" in resumed and "paused" not in resumed


def test_spotify_commands_say_when_spotify_is_not_set_up(chat_engine: ChatEngine) -> None:
    [sort] = run(chat_engine.handle(person(), "/sort"))
    assert "Sort your liked songs into your own lists" in sort.text
    for command in ("/link", "/unlink", "/spotify", "/save"):
        [reply] = run(chat_engine.handle(person(), command))
        assert "Spotify isn't set up on this Wavelength" in reply.text


@pytest.mark.parametrize(
    ("emoji", "reaction"),
    [("👍", Reaction.LIKE), ("👍🏽", Reaction.LIKE), ("❤️", Reaction.LOVE), ("❤", Reaction.LOVE),
     ("👎", Reaction.DISLIKE), ("⏭️", Reaction.SKIP), ("⏭", Reaction.SKIP), ("🥱", Reaction.SKIP),
     ("❤️‍🔥", Reaction.LOVE), ("🎉", None), ("", None), ("hello", None)],
)  # fmt: skip
def test_reaction_of(emoji: str, reaction: Reaction | None) -> None:
    assert reaction_of(emoji) is reaction


def test_command_descriptions_fit_the_platforms() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))
    for c in COMMANDS:
        assert re.fullmatch(r"[a-z]{1,32}", c.name)  # Telegram and Discord command names
        assert 3 <= len(c.description) <= 100
        assert c.usage.startswith(f"/{c.name}")


class Outbox:
    """A frontend's outbox that records what it sent and can refuse an account."""

    def __init__(self, platform: str, blocked: frozenset[str] = frozenset()) -> None:
        self.platform = platform
        self.blocked = blocked
        self.sent: list[tuple[str, str]] = []

    async def send(
        self, account: str, replies: Sequence[Reply], *, gate: SendGate | None = None
    ) -> Delivered:
        if gate is not None:
            await gate.open()  # as a request leaves (a refusal is raised: NotSent)
        if account in self.blocked:
            return Delivered(ok=False, unreachable=True, platform=self.platform)
        self.sent += [(account, r.text) for r in replies]
        return Delivered(ok=True, platform=self.platform)


def test_messages_go_to_the_account_last_written_from(chat_engine: ChatEngine) -> None:
    tg, dc = person("telegram"), person("discord")
    telegram, discord = Outbox("telegram"), Outbox("discord", blocked=frozenset({dc.account}))

    async def scenario() -> list[Delivered]:
        [shown] = await chat_engine.handle(tg, "/connect")
        code = re.search(r"/connect (\w+)", shown.text)
        assert code is not None
        await chat_engine.handle(dc, f"/connect {code.group(1)}")  # Discord is the latest
        user = await chat_engine.user_of(tg)
        first = await chat_engine.message(user, [Reply("hello")])  # no frontend running yet
        chat_engine.register_outbox(telegram)
        chat_engine.register_outbox(discord)
        second = await chat_engine.message(user, [Reply("your picks")])
        third = await chat_engine.message(user, [Reply("again")])
        return [first, second, third]

    first, second, third = run(scenario())
    assert not first.ok and not first.unreachable and first.note == "no frontend running"
    # Discord was tried first (last written from), refused, got marked; Telegram delivered.
    assert second.ok and second.platform == "telegram"
    assert third.ok and third.platform == "telegram"
    assert discord.sent == [] and telegram.sent == [
        (tg.account, "your picks"),
        (tg.account, "again"),
    ]


def test_a_gate_goes_with_the_message_and_its_refusal_is_raised(chat_engine: ChatEngine) -> None:
    who = person("telegram")
    outbox = Outbox("telegram")
    opened: list[str] = []

    def gate(allow: bool) -> SendGate:
        async def opening() -> bool:
            opened.append("open")
            return allow

        return SendGate(opening)

    async def scenario() -> Delivered:
        await chat_engine.handle(who, "/help")
        user = await chat_engine.user_of(who)
        chat_engine.register_outbox(outbox)
        with pytest.raises(NotSent):  # not swallowed into a Delivered: nothing may go out
            await chat_engine.message(user, [Reply("stale")], gate=gate(False))
        return await chat_engine.message(user, [Reply("your picks")], gate=gate(True))

    assert run(scenario()).ok
    assert opened == ["open", "open"] and outbox.sent == [(who.account, "your picks")]


def test_where_they_wrote_is_written_once_not_on_every_message(
    chat_engine: ChatEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wavelength.accounts import AccountService

    writes: list[str] = []
    real = AccountService.reachable

    def counted(self: AccountService, provider: str, external_id: str) -> None:
        writes.append(external_id)
        real(self, provider, external_id)

    monkeypatch.setattr(AccountService, "reachable", counted)
    ana = person()
    for _ in range(3):
        run(chat_engine.handle(ana, "/help"))
    assert writes == [ana.account]
    run(chat_engine.unreachable(ana))  # a block forgets it: the next message clears the mark
    run(chat_engine.handle(ana, "/help"))
    assert writes == [ana.account, ana.account]
