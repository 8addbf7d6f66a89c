"""Reactions under cards: raw gateway events from the fake, through the real bot, into the
engine; what the person is told, and what the station learned."""

from __future__ import annotations

from bot.chat import ChatEngine
from storage import accounts
from storage import feedback as fb
from tests.bot.discord.conftest import cards, note, play, quiet, running, station
from tests.support.chat import make_chat_engine
from tests.support.fake_discord import FakeUser, fake_discord
from tests.support.world import World
from wavelength.domain import Reaction
from wavelength.stations import StationService


def feedback_of(
    world: World, service: StationService, user: FakeUser
) -> list[tuple[str, Reaction]]:
    listener = service.user("discord", str(user.id))
    with world.engine.connect() as conn:
        return [(f.track, f.reaction) for f in fb.recent_feedback(conn=conn, user=listener)]


def title(card: dict) -> str:
    return str(card["embeds"][0]["title"]).split(". ", 1)[1]


def test_a_like_teaches_the_station_and_the_note_comes_by_dm(
    chat_engine: ChatEngine, world: World, service: StationService
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana", "Ana")
            radio = await station(fake, ana, "radio", {"mood": "metal workout"})
            second = cards(radio)[1]
            told = await note(fake, ana, fake.react(ana, second, "👍"))
            assert told.startswith("👍 Liked") and title(second) in told
            # The note went to Ana's DMs, not into the shared channel.
            assert fake.channel_messages(fake.channel_id) == radio.messages
            assert [r for _, r in feedback_of(world, service, ana)] == [Reaction.LIKE]
            after = await station(fake, ana, "next", {})
            reasons = [c["embeds"][0]["description"] for c in cards(after)]
            assert any("because you liked" in r.lower() for r in reasons)

    play(scenario)


def test_taking_a_reaction_off_takes_it_back(
    chat_engine: ChatEngine, world: World, service: StationService
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            radio = await station(fake, ana, "radio", {"mood": "deep focus ambient"})
            card = cards(radio)[0]
            await note(fake, ana, fake.react(ana, card, "❤️"))
            assert [r for _, r in feedback_of(world, service, ana)] == [Reaction.LOVE]
            told = await note(fake, ana, fake.unreact(ana, card, "❤️"))
            assert told.startswith("↩️ Forgotten") and title(card) in told
            assert feedback_of(world, service, ana) == []

    play(scenario)


def test_an_old_card_still_counts_after_a_restart(
    chat_engine: ChatEngine, world: World, service: StationService
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake:
            ana = fake.new_user("ana")
            async with running(fake, chat_engine):
                radio = await station(fake, ana, "radio", {"mood": "coffee jazz"})
            assert fake.connected == 0
            # A new process: new bot, new chat engine, same database; discord.py's message
            # cache is empty, so only the raw event can find the card.
            fresh = make_chat_engine(world, service)
            try:
                async with running(fake, fresh):
                    assert fake.identifies == 2
                    card = cards(radio)[3]
                    told = await note(fake, ana, fake.react(ana, card, "👎"))
                    assert told.startswith("👎") and title(card) in told
            finally:
                await fresh.close()
            [(_, reaction)] = feedback_of(world, service, ana)
            assert reaction is Reaction.DISLIKE

    play(scenario)


def test_someone_elses_reaction_counts_for_their_own_taste_only(
    chat_engine: ChatEngine, world: World, service: StationService
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana, ben = fake.new_user("ana", "Ana"), fake.new_user("ben", "Ben")
            radio = await station(fake, ana, "radio", {"mood": "rainy day jazz"})
            told = await note(fake, ben, fake.react(ben, cards(radio)[0], "👎"))
            assert "your own taste" in told and "Ben" in told
            assert feedback_of(world, service, ana) == []
            assert [r for _, r in feedback_of(world, service, ben)] == [Reaction.DISLIKE]
            ana_station = service.stations(service.user("discord", str(ana.id)))[0][0]
            with world.engine.connect() as conn:
                assert fb.feedback_for_station(conn=conn, station=ana_station.id) == []

    play(scenario)


def test_reactions_that_are_not_about_cards_are_ignored(
    chat_engine: ChatEngine, world: World, service: StationService
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            radio = await station(fake, ana, "radio", {"mood": "metal workout"})
            header, card = radio.messages[0], cards(radio)[0]
            someones = fake.user_message(ana, "hello")
            await fake.react(ana, header, "👍")  # our message, but not a card
            await fake.react(ana, someones, "👍")  # not our message at all
            await fake.react(ana, card, "🎉")  # an emoji that means nothing to us
            await fake.react(ana, card, "🦆")
            await quiet(fake)
            assert feedback_of(world, service, ana) == []
            assert fake.dm_channel(ana) is None  # nobody was told anything
            # The bot's own 20 buttons under the cards were dispatched too, and ignored.
            assert feedback_of(world, service, fake.bot) == []
            # An emoji the engine reads as a reaction (🔥 is a like) still works.
            told = await note(fake, ana, fake.react(ana, card, "🔥"))
            assert told.startswith("👍 Liked")

    play(scenario)


def test_closed_dms_mark_the_person_unreachable_and_a_note_in_the_channel_goes_away(
    chat_engine: ChatEngine, world: World
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine, note_seconds=0.2):
            ana, ben = fake.new_user("ana"), fake.new_user("ben", "Ben")
            fake.close_dms(ben)
            radio = await station(fake, ana, "radio", {"mood": "coffee jazz"})
            await fake.react(ben, cards(radio)[0], "👍")

            def in_channel() -> list[dict]:
                return [
                    m
                    for m in fake.channel_messages(fake.channel_id)
                    if f"<@{ben.id}>" in m["content"]
                ]

            await fake.until(lambda: bool(in_channel()))
            [shown] = in_channel()
            assert "your own taste" in shown["content"]
            refused = [r for r in fake.requests if r.status == 403]
            assert refused and refused[0].path == f"/channels/{fake.dm_channel(ben)}/messages"
            with world.engine.connect() as conn:
                since = accounts.unreachable_since(
                    conn=conn, provider="discord", external_id=str(ben.id)
                )
            assert since is not None
            await fake.until(lambda: not in_channel(), timeout=3.0)  # it deleted itself

    play(scenario)
