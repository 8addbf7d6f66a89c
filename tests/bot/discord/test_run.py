"""``run_discord``: what the composition root runs in its event loop."""

from __future__ import annotations

import asyncio

import discord
import pytest
from pydantic import SecretStr

from bot.chat import ChatEngine
from bot.discord import intents, run_discord
from tests.bot.discord.conftest import ask, play, running
from tests.support.fake_discord import fake_discord
from wavelength.settings import Settings


def test_run_discord_serves_until_stopped(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake:
            stop = asyncio.Event()
            settings = Settings(discord_token=SecretStr(fake.token))
            running = asyncio.create_task(run_discord(settings, chat_engine, stop=stop))
            await fake.until(lambda: fake.connected == 1)
            [session] = fake.sessions
            assert session.intents == intents().value
            assert session.compressor is not None  # discord.py asked for zlib-stream
            ana = fake.new_user("ana")
            assert "Wavelength" in await ask(fake, ana, "help")
            assert fake.heartbeats >= 1  # sent right after HELLO, answered with an ACK
            stop.set()
            await asyncio.wait_for(running, 5)
            assert running.result() is None
            await fake.until(lambda: fake.connected == 0)

    play(scenario)


def test_run_discord_with_a_bad_token_raises(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake:
            settings = Settings(discord_token=SecretStr("not-" + fake.token))
            with pytest.raises(discord.LoginFailure):
                await run_discord(settings, chat_engine, stop=asyncio.Event())

    play(scenario)


def test_only_unprivileged_intents_are_asked_for() -> None:
    wanted = intents()
    assert wanted.guilds and wanted.guild_reactions and wanted.dm_reactions
    assert not (wanted.message_content or wanted.members or wanted.presences)
    assert not (wanted.guild_messages or wanted.dm_messages)


def test_a_gateway_reconnect_resumes_the_session(chat_engine: ChatEngine) -> None:
    async def scenario() -> None:
        async with fake_discord() as fake, running(fake, chat_engine):
            ana = fake.new_user("ana")
            await fake.reconnect()
            await fake.until(lambda: fake.resumes == 1 and fake.connected == 1)
            assert fake.identifies == 1  # resumed, not a new session
            assert "Wavelength" in await ask(fake, ana, "help")

    play(scenario)
