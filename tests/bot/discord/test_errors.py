"""What goes wrong on Discord, and bad input: the bot answers or logs, and keeps running."""

from __future__ import annotations

import logging

import pytest

from bot.chat import FLOOD, ChatEngine
from bot.throttle import Throttle
from tests.bot.discord.conftest import answered, ask, cards, note, play, running, station, texts
from tests.support.chat import make_chat_engine
from tests.support.fake_discord import fake_discord
from tests.support.world import World
from wavelength.stations import StationService


def bot_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_command_discord_still_lists_but_the_bot_lacks_gets_a_kind_answer(
    chat_engine: ChatEngine,
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            stale = await fake.slash("dance", ana, {"style": "tango"})
            await fake.until(lambda: answered(stale))
            assert stale.callbacks[0].type == 4 and stale.callbacks[0].data["flags"] == 64
            assert "I don't have /dance" in texts(stale)[0]

    play(scenario)


@pytest.mark.parametrize(
    ("mood", "expected"),
    [
        ("   ", "Tell me a mood"),
        ("🎷🎷🎷", "Describe the mood in words"),
        ("\u200b\u200b\u202e\u2066", "Describe the mood in words"),
        ("ja\u0301zz for a r\u0336a\u0336i\u0336n\u0336y day", '📻 "'),
        ("ジャズ 雨の日 ☔ für Regentage", '📻 "'),
        ("rain " * 200, '📻 "'),
    ],
    ids=["blank", "emoji-only", "invisible", "combining", "other-scripts", "longest"],
)
def test_odd_moods_get_an_answer_not_a_crash(
    chat_engine: ChatEngine, caplog: pytest.LogCaptureFixture, mood: str, expected: str
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            assert expected in await ask(fake, ana, "radio", {"mood": mood})
            assert "Wavelength" in await ask(fake, ana, "help")

    play(scenario)
    assert bot_errors(caplog) == []


def test_discord_itself_refuses_what_the_command_does_not_allow(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            with pytest.raises(ValueError, match="length 1001"):
                await fake.slash("radio", ana, {"mood": "x" * 1001})
            with pytest.raises(ValueError, match="mood is required"):
                await fake.slash("radio", ana)
            with pytest.raises(ValueError, match="out of range"):
                await fake.slash("tune", ana, {"style": 3.5})
            with pytest.raises(ValueError, match="not a choice"):
                await fake.slash("tune", ana, {"discovery": "chaos"})

    play(scenario)


def test_a_rate_limited_followup_is_retried_and_every_card_arrives(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            fake.fault("POST", r"^/webhooks/", status=429, times=2, retry_after=0.05)
            fake.fault("PUT", r"/reactions/", status=429, times=1, retry_after=0.05)
            radio = await station(fake, ana, "radio", {"mood": "coffee jazz"})
            assert len(cards(radio)) == 5
            limited = [r for r in fake.requests if r.status == 429]
            assert [r.method for r in limited] == ["POST", "POST", "PUT"]
            # Each card went out once: a retry is not a duplicate.
            titles = [c["embeds"][0]["title"] for c in cards(radio)]
            assert len(set(titles)) == 5
            assert (await note(fake, ana, fake.react(ana, cards(radio)[0], "👍"))).startswith("👍")

    play(scenario)


def test_the_rate_limit_headers_are_obeyed_without_a_429(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            fake.rate_limit = (3, 0.1)  # three requests per bucket per 100 ms
            ana = fake.new_user("ana")
            await station(fake, ana, "radio", {"mood": "deep focus ambient"})
            assert [r for r in fake.requests if r.status == 429] == []

    play(scenario)


def test_a_deferral_past_discords_deadline_drops_the_command(
    chat_engine: ChatEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            fake.interaction_deadline = 0.0  # as if the bot had stalled for 3 seconds
            late = await fake.slash("radio", ana, {"mood": "metal workout"})
            await fake.until(lambda: bool(late.late_callbacks))
            await fake.until(lambda: "could not defer" in caplog.text)
            assert late.callbacks == [] and late.messages == []
            # Nothing was done behind the person's back: no station exists.
            assert await chat_engine.station_names(_who(ana.id)) == []
            fake.interaction_deadline = 3.0
            assert "Wavelength" in await ask(fake, ana, "help")
            assert "10062" in caplog.text
            assert fake.token not in caplog.text and late.token not in caplog.text

    play(scenario)


def _who(account: int) -> object:
    from bot.chat import Who

    return Who("discord", str(account))


def test_http_errors_are_logged_without_secrets_and_the_bot_goes_on(
    chat_engine: ChatEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            # No Add Reactions permission in this channel: the cards still count.
            fake.fault("PUT", r"/reactions/", status=403, code=50013, message="Missing Permissions")
            radio = await fake.slash("radio", ana, {"mood": "metal workout"})
            await fake.until(
                lambda: len(cards(radio)) == 5 and "can't add reactions" in caplog.text
            )
            assert all(fake.bot_reactions(c) == [] for c in cards(radio))
            assert (await note(fake, ana, fake.react(ana, cards(radio)[2], "👍"))).startswith("👍")
            # The interaction token stopped working (15 minutes passed): logged, nothing else.
            fake.fault("POST", r"^/webhooks/", status=404, code=10015, message="Unknown Webhook")
            gone = await fake.slash("stations", ana)
            await fake.until(lambda: "could not answer /stations" in caplog.text)
            assert gone.deferred_after is not None and gone.followups == []
            assert "Wavelength" in await ask(fake, ana, "help")
            for secret in (fake.token, radio.token, gone.token):
                assert secret not in caplog.text

    play(scenario)


def test_a_flood_gets_one_warning_then_silence(world: World, service: StationService) -> None:
    engine = make_chat_engine(world, service, throttle=Throttle(burst=1, per_second=0.01))

    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, engine):
            ana = fake.new_user("ana")
            assert "Wavelength" in await ask(fake, ana, "help")
            assert await ask(fake, ana, "help") == FLOOD
            quiet = await fake.slash("help", ana)
            await fake.until(lambda: answered(quiet))
            # "thinking..." is taken away rather than left spinning.
            assert quiet.original is not None and quiet.original.get("deleted")
            assert quiet.messages == []
        await engine.close()

    play(scenario)


def test_a_bad_token_fails_the_login(chat_engine: ChatEngine) -> None:
    import discord

    async def scenario() -> None:
        async with fake_discord(token="the-real-one") as fake:
            bot_options = {"token": "a-wrong-one"}
            from bot.discord import WavelengthBot

            bot = WavelengthBot(chat_engine)
            async with bot:
                with pytest.raises(discord.LoginFailure):
                    await bot.start(bot_options["token"])
            assert [r.status for r in fake.requests] == [401]

    play(scenario)
