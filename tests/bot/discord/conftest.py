"""The real bot on the fake Discord: helpers that run a scenario and wait for what a person
would see."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.discord import WavelengthBot
from bot.discord._engine import Engine
from tests.support.fake_discord import FakeDiscord, FakeInteraction, FakeUser, Json

if TYPE_CHECKING:
    pass

SCENARIO_TIMEOUT = 20.0


def play(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run one async scenario with a hard time limit."""

    async def bounded() -> None:
        await asyncio.wait_for(scenario(), SCENARIO_TIMEOUT)

    asyncio.run(bounded())


@contextlib.asynccontextmanager
async def running(
    fake: FakeDiscord, engine: Engine, **options: Any
) -> AsyncIterator[WavelengthBot]:
    """The bot logged in to ``fake`` (token, application, command sync) and connected to its
    gateway (IDENTIFY answered with READY)."""
    bot = WavelengthBot(engine, **options)
    before = fake.identifies
    async with bot:
        task = asyncio.create_task(bot.start(fake.token))
        try:
            await fake.until(lambda: fake.identifies > before or task.done())
            if task.done():
                task.result()
            yield bot
        finally:
            await bot.close()
            await task
    # Routes the fake lacks, or a fake that crashed (discord.py retries a 500 quietly).
    assert fake.unhandled == [], fake.unhandled


def cards(interaction: FakeInteraction) -> list[Json]:
    return [m for m in interaction.messages if m["embeds"]]


def texts(interaction: FakeInteraction) -> list[str]:
    return [m["content"] for m in interaction.messages if m["content"]]


def answered(interaction: FakeInteraction) -> bool:
    """The "thinking..." state is over (filled in or deleted)."""
    original = interaction.original
    return original is not None and (original.get("deleted") or not original["flags"] & 128)


async def station(
    fake: FakeDiscord,
    user: FakeUser,
    name: str,
    options: dict[str, object] | None = None,
    *,
    dm: bool = False,
    n: int = 5,
) -> FakeInteraction:
    """Run a command that answers with ``n`` cards; return once each card has its four
    reaction buttons."""
    interaction = await fake.slash(name, user, options, dm=dm)

    def done() -> bool:
        shown = cards(interaction)
        return len(shown) == n and all(len(fake.bot_reactions(m)) == 4 for m in shown)

    await fake.until(done)
    return interaction


async def ask(
    fake: FakeDiscord,
    user: FakeUser,
    name: str,
    options: dict[str, object] | None = None,
    *,
    dm: bool = False,
) -> str:
    """Run a command that answers in text; return the text."""
    interaction = await fake.slash(name, user, options, dm=dm)
    await fake.until(lambda: answered(interaction))
    await quiet(fake)  # longer answers come as more followups right behind
    return "\n".join(texts(interaction))


async def quiet(fake: FakeDiscord, *, for_seconds: float = 0.05) -> None:
    """Wait until the bot has sent nothing for ``for_seconds`` (it is done, or has nothing
    to say about what just happened)."""
    loop = asyncio.get_running_loop()
    count, since = len(fake.requests), loop.time()
    while loop.time() - since < for_seconds:
        await asyncio.sleep(0.01)
        if len(fake.requests) != count:
            count, since = len(fake.requests), loop.time()


async def note(fake: FakeDiscord, user: FakeUser, act: Awaitable[None]) -> str:
    """Do ``act`` (a reaction) and return the private note the bot sends ``user`` by DM."""
    channel = fake.dm_channel(user)
    seen = len(fake.channel_messages(channel)) if channel else 0
    await act

    def arrived() -> bool:
        dm = fake.dm_channel(user)
        return dm is not None and len(fake.channel_messages(dm)) > seen

    await fake.until(arrived)
    dm = fake.dm_channel(user)
    assert dm is not None
    return str(fake.channel_messages(dm)[-1]["content"])
