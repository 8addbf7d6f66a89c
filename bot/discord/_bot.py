"""The Discord bot: a ``commands.Bot`` with the station commands and the reaction listener as
cogs, and ``run_discord`` for the composition root's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat import OOPS
from bot.discord._commands import StationCommands
from bot.discord._deliver import describe
from bot.discord._outbox import DiscordOutbox
from bot.discord._reactions import Reactions

if TYPE_CHECKING:
    from bot.discord._engine import Engine
    from wavelength.settings import Settings

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """Servers, and reactions in servers and DMs; nothing privileged (no message content,
    no member list): everything else arrives as interactions."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_reactions = True
    wanted.dm_reactions = True
    return wanted


class Tree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """A command Discord still lists but this version doesn't have, or a bug: say so
        (only to the person) instead of leaving them with "The application did not respond"."""
        if isinstance(error, app_commands.CommandNotFound):
            text = f"I don't have /{error.name[:32]} any more (Discord's command list may lag behind). Type /help to see what I can do."
        else:
            log.error(
                "command %s failed", getattr(interaction.command, "name", "?"), exc_info=error
            )
            text = OOPS
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not report a command error: %s", describe(exc))


class WavelengthBot(commands.Bot):
    def __init__(
        self,
        engine: Engine,
        *,
        dev_guild: int | None = None,
        note_seconds: float = 20.0,
        **options: Any,
    ) -> None:
        """``dev_guild`` registers the commands in that one server (instantly) instead of
        globally; ``note_seconds`` is how long a reaction note stays in a channel when the
        person's DMs are closed."""
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            tree_cls=Tree,
            help_command=None,
            # Moods and station names are echoed back: they must never ping @everyone.
            allowed_mentions=discord.AllowedMentions.none(),
            max_messages=None,
            chunk_guilds_at_startup=False,
            **options,
        )
        self.engine = engine
        self.dev_guild = dev_guild
        self.note_seconds = note_seconds
        self.outbox = DiscordOutbox(self, engine)

    async def setup_hook(self) -> None:
        """Runs once logged in: the token works, so DMs can go out from here on."""
        await self.add_cog(StationCommands(self, self.engine))
        await self.add_cog(Reactions(self, self.engine, note_seconds=self.note_seconds))
        await self.sync_commands()
        self.engine.register_outbox(self.outbox)

    async def close(self) -> None:
        self.engine.unregister_outbox(self.outbox.platform)
        await super().close()

    async def sync_commands(self) -> None:
        """Overwrite the registered commands with these ones (one request, at startup)."""
        guild = discord.Object(self.dev_guild) if self.dev_guild else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            # The commands registered last time keep working; the log says why these didn't.
            log.error("could not register the slash commands: %s", describe(exc))
            return
        where = f"in server {self.dev_guild}" if guild else "globally"
        log.info("registered %d Discord commands %s", len(synced), where)


async def run_discord(settings: Settings, engine: Engine, *, stop: asyncio.Event) -> None:
    """Run the bot until ``stop`` is set. A bad token raises ``discord.LoginFailure``;
    lost connections are retried by discord.py."""
    if settings.discord_token is None:
        raise ValueError("DISCORD_TOKEN is not set")
    bot = WavelengthBot(engine, dev_guild=settings.discord_dev_guild)
    async with bot:
        runner = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({runner, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            await bot.close()
            with contextlib.suppress(asyncio.CancelledError):
                await stopped
        await runner  # re-raises a login failure
