"""Reactions under cards teach the station. Raw events, so a card posted before a restart
(not in discord.py's message cache) still counts."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.chat import Where, Who, reaction_of
from bot.discord._deliver import describe, tell

if TYPE_CHECKING:
    from bot.discord._engine import Engine

log = logging.getLogger(__name__)


class Reactions(commands.Cog):
    def __init__(self, bot: commands.Bot, engine: Engine, *, note_seconds: float) -> None:
        self.bot = bot
        self.engine = engine
        self.note_seconds = note_seconds

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, event: discord.RawReactionActionEvent) -> None:
        await self.relay(event, added=True)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, event: discord.RawReactionActionEvent) -> None:
        await self.relay(event, added=False)

    async def relay(self, event: discord.RawReactionActionEvent, *, added: bool) -> None:
        """One person's reaction to one of our cards → the engine → a private note."""
        me = self.bot.user
        if me is None or event.user_id == me.id:
            return  # the bot's own buttons under each card
        if event.message_author_id is not None and event.message_author_id != me.id:
            return  # someone else's message: never a card (Discord says so on adds only)
        reaction = reaction_of(event.emoji.name) if event.emoji.is_unicode_emoji() else None
        if reaction is None:
            return
        name = event.member.display_name if event.member is not None else None
        who = Who("discord", str(event.user_id), name)
        where = Where("discord", str(event.channel_id), str(event.message_id))
        act = self.engine.react if added else self.engine.unreact
        reply = await act(who, where, reaction)
        if reply is None:
            return
        try:
            await tell(self.bot, self.engine, who, event, reply, note_seconds=self.note_seconds)
        except discord.HTTPException as exc:
            log.warning("could not answer a reaction in %s: %s", event.channel_id, describe(exc))
