"""Discord for a process that only writes first (``wavelength serve --jobs-only``).

A plain ``discord.Client`` logged in over REST (the token checked, the application read) and
never connected to the gateway: it receives no events, answers no commands and syncs none.
DMs go out through the same ``DiscordOutbox`` as the bot's, and so through discord.py's rate
limiter; reactions under the cards reach the chat process, which finds them in the database.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.discord._bot import intents
from bot.discord._outbox import PLATFORM, DiscordOutbox

if TYPE_CHECKING:
    import asyncio

    from bot.discord._engine import Engine
    from wavelength.settings import Settings

log = logging.getLogger(__name__)


def rest_client() -> discord.Client:
    """A client for REST calls only. It never identifies on the gateway, so its intents ask
    for nothing; they are the bot's own (discord.py warns about a client without guilds)."""
    return discord.Client(
        intents=intents(),
        # Moods and station names are echoed back: they must never ping @everyone.
        allowed_mentions=discord.AllowedMentions.none(),
        max_messages=None,
    )


async def run_discord_sender(settings: Settings, engine: Engine, *, stop: asyncio.Event) -> None:
    """Discord's outbox until ``stop`` is set. A bad token raises ``discord.LoginFailure``."""
    if settings.discord_token is None:
        raise ValueError("DISCORD_TOKEN is not set")
    client = rest_client()
    outbox = DiscordOutbox(client, engine)
    async with client:  # closes the HTTP session on the way out
        await client.login(settings.discord_token.get_secret_value())
        engine.register_outbox(outbox)
        log.info("Discord bot %s is up (sending only)", client.user)
        try:
            await stop.wait()
        finally:
            engine.unregister_outbox(PLATFORM)
