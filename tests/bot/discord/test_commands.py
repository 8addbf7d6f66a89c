"""Slash commands end to end: the real discord.py bot on the fake Discord, a person typing."""

from __future__ import annotations

import pytest

from bot.chat import COMMANDS, ChatEngine
from tests.bot.discord.conftest import answered, ask, cards, note, play, running, station, texts
from tests.support.fake_discord import fake_discord

REACTIONS = ["👍", "👎", "⏭️", "❤️"]


def test_a_mood_is_deferred_at_once_and_answered_with_one_card_per_message(
    chat_engine: ChatEngine,
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana", "Ana")
            radio = await station(fake, ana, "radio", {"mood": "rainy day jazz for reading"})

            assert [c.type for c in radio.callbacks] == [5]  # deferred, "thinking..."
            assert radio.deferred_after is not None and radio.deferred_after < 1.0
            assert radio.late_callbacks == []
            header, *shown = radio.messages
            assert '📻 "Rainy day jazz for reading" · batch 1' in header["content"]
            assert "React under a card" in header["content"]
            assert len(shown) == 5 and all(len(m["embeds"]) == 1 for m in shown)
            for n, message in enumerate(shown, 1):
                embed = message["embeds"][0]
                assert embed["title"].startswith(f"{n}. ")
                fields = {f["name"]: f["value"] for f in embed["fields"]}
                assert fields["Artist"] and fields["Year"]
                assert embed["description"]  # the reason
                assert embed["footer"]["text"] == "Rainy day jazz for reading · batch 1"
                assert fake.bot_reactions(message) == REACTIONS
                assert message["channel_id"] == str(fake.channel_id)
            # The known-answer world: a jazz mood plays mostly cool jazz.
            jazz = {"Miles Quiet", "Bill Soft", "Chet Low", "Ella Hush", "Dizzy Calm", "Monk Still"}
            artists = [m["embeds"][0]["fields"][0]["value"] for m in shown]
            assert sum(a in jazz for a in artists) >= 3
            assert fake.unhandled == []

    play(scenario)


def test_commands_are_registered_once_with_the_engines_descriptions(
    chat_engine: ChatEngine,
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            puts = [r for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands")]
            assert len(puts) == 1 and puts[0].status == 200
            slash = {c["name"]: c for c in fake.global_commands if c["type"] == 1}
            wanted = {c.name: c.description for c in COMMANDS}
            assert set(slash) == set(wanted)
            assert {n: c["description"] for n, c in slash.items()} == wanted
            tune = {o["name"]: o for o in slash["tune"]["options"]}
            assert tune["style"]["type"] == 10 and tune["style"]["min_value"] == 0
            assert tune["style"]["max_value"] == 3 and not tune["style"].get("required")
            assert [c["value"] for c in tune["discovery"]["choices"]] == [
                "safe",
                "balanced",
                "surprise",
            ]
            radio = slash["radio"]["options"][0]
            assert radio["name"] == "mood" and radio["required"] and radio["max_length"] == 1000
            assert slash["switch"]["options"][0]["autocomplete"] is True
            menus = [c["name"] for c in fake.global_commands if c["type"] == 3]
            assert menus == ["Why this card?"]

    play(scenario)


def test_a_dev_guild_gets_the_commands_instead_of_everyone(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine, dev_guild=fake.guild_id):
            assert fake.global_commands == []
            names = {c["name"] for c in fake.guild_commands[fake.guild_id]}
            assert {"radio", "next", "tune", "Why this card?"} <= names
            # Commands registered in the guild carry its id; the bot still finds them.
            ana = fake.new_user("ana")
            assert "Wavelength" in await ask(fake, ana, "help")

    play(scenario)


def test_the_same_station_works_in_a_dm(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            radio = await station(fake, ana, "radio", {"mood": "metal workout"}, dm=True)
            dm = fake.dm_channel(ana)
            assert all(m["channel_id"] == str(dm) for m in radio.messages)
            assert all("guild_id" not in m for m in radio.messages)
            # In a DM the note about a reaction comes in the same DM, under the cards.
            liked = await note(fake, ana, fake.react(ana, cards(radio)[0], "👍"))
            assert liked.startswith("👍 Liked")

    play(scenario)


def test_options_become_the_engines_command_text(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            await station(fake, ana, "radio", {"mood": "deep focus ambient"})
            tuned = await station(fake, ana, "tune", {"style": 1.5, "discovery": "surprise"})
            assert tuned.messages[0]["content"].startswith("Retuned.")
            shown = await ask(fake, ana, "tune")
            assert "style=1.5" in shown and "discovery=surprise" in shown
            await ask(fake, ana, "rename", {"name": "Night shift"})
            listing = await ask(fake, ana, "stations")
            assert "Night shift" in listing
            settings = await ask(
                fake,
                ana,
                "settings",
                {"time_zone": "Europe/Berlin", "time": "08:30", "daily": False},
            )
            assert "Europe/Berlin" in settings and "08:30" in settings
            assert (await ask(fake, ana, "why", {"card": 2})).startswith("Why #2")

    play(scenario)


def test_station_names_are_suggested_as_you_type(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana, ben = fake.new_user("ana"), fake.new_user("ben")
            await station(fake, ana, "radio", {"mood": "rainy day jazz"})
            await station(fake, ana, "radio", {"mood": "metal workout"})
            typing = await fake.autocomplete("switch", ana, {"station": "me"}, focused="station")
            await fake.until(lambda: bool(typing.callbacks))
            assert typing.callbacks[0].type == 8 and typing.callbacks[0].after < 3.0
            assert [c["name"] for c in typing.choices] == ["Metal workout"]
            everything = await fake.autocomplete("delete", ana, {"station": ""}, focused="station")
            await fake.until(lambda: bool(everything.callbacks))
            assert {c["value"] for c in everything.choices} == {"Rainy day jazz", "Metal workout"}
            # Only your own stations, never someone else's.
            theirs = await fake.autocomplete("switch", ben, {"station": ""}, focused="station")
            await fake.until(lambda: bool(theirs.callbacks))
            assert theirs.choices == []
            switched = await station(fake, ana, "switch", {"station": "Rainy day jazz"})
            assert '"Rainy day jazz" · batch 2' in switched.messages[0]["content"]

    play(scenario)


def test_why_this_card_answers_only_the_person_who_asked(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana, ben = fake.new_user("ana"), fake.new_user("ben")
            radio = await station(fake, ana, "radio", {"mood": "90s hip hop for the gym"})
            card = cards(radio)[1]
            asked = await fake.message_command("Why this card?", ben, card)
            await fake.until(lambda: answered(asked))
            assert asked.callbacks[0].type == 5 and asked.callbacks[0].data["flags"] == 64
            [why] = texts(asked)
            title = card["embeds"][0]["title"].split(". ", 1)[1]
            assert why.startswith("Why #2") and title in why
            assert asked.original is not None and asked.original["flags"] & 64  # ephemeral
            other = await fake.message_command("Why this card?", ana, radio.messages[0])
            await fake.until(lambda: answered(other))
            assert "isn't one of my cards" in texts(other)[0]

    play(scenario)


def test_moods_never_ping_anyone(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            await ask(fake, ana, "radio", {"mood": "@everyone party like <@&123> jazz"})
            sent = [r for r in fake.requests if r.method == "POST" and "/webhooks/" in r.path]
            assert sent and all(r.body["allowed_mentions"] == {"parse": []} for r in sent)

    play(scenario)


@pytest.mark.parametrize("name", ["help", "stations", "undo", "next", "picks", "link", "pause"])
def test_every_simple_command_answers(chat_engine: ChatEngine, name: str) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            interaction = await fake.slash(name, ana)
            await fake.until(lambda: answered(interaction))
            assert interaction.deferred_after is not None
            assert interaction.messages and interaction.messages[0]["content"]

    play(scenario)
