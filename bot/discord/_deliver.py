"""Getting replies to people: followups to a slash command (cards with reactions under them),
and short private notes for reactions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.chat import Where, Who
from bot.discord._cards import CARD_REACTIONS, card_embed, chunks, header

if TYPE_CHECKING:
    from bot.conversation import Reply
    from bot.discord._engine import Engine
    from wavelength.stations import Batch, Card

log = logging.getLogger(__name__)
CLOSED_DMS = 50007  # "Cannot send messages to this user": DMs closed, or the bot is blocked


def who_of(user: discord.abc.User) -> Who:
    return Who("discord", str(user.id), user.display_name)


def describe(exc: discord.HTTPException) -> str:
    """An HTTP error for the log: status, Discord's code and message, never a URL or token."""
    return f"{exc.status} (code {exc.code}): {exc.text[:200]}"


async def answer(
    interaction: discord.Interaction, engine: Engine, who: Who, replies: Sequence[Reply]
) -> None:
    """``replies`` as followups to a deferred interaction. Cards are one message each, get
    the reaction buttons, and are registered with the engine for reactions to come."""
    if not replies:
        # The engine stays silent during a flood; the "thinking..." message must still end.
        await interaction.delete_original_response()
        return
    for reply in replies:
        if reply.batch is not None and reply.batch.cards:
            await _cards(interaction, engine, who, reply.text, reply.batch)
            continue
        for piece in chunks(reply.text):
            await interaction.followup.send(piece)


async def _cards(
    interaction: discord.Interaction, engine: Engine, who: Who, text: str, batch: Batch
) -> None:
    await interaction.followup.send(header(text, batch))
    posted: list[tuple[Where, Card]] = []
    messages: list[discord.Message] = []
    try:
        for card in batch.cards:
            message = await interaction.followup.send(embed=card_embed(card, batch), wait=True)
            messages.append(message)
            posted.append((Where("discord", str(message.channel.id), str(message.id)), card))
    finally:
        # Whatever made it to the channel can be reacted to, even if a later card failed.
        if posted:
            await engine.posted(who, batch, posted)
    await add_reactions(messages)


async def add_reactions(messages: Sequence[discord.Message]) -> None:
    """The four reaction buttons under each card, so people only have to click."""
    for message in messages:
        for emoji in CARD_REACTIONS:
            try:
                await message.add_reaction(emoji)
            except discord.Forbidden as exc:
                # No Add Reactions permission here: people can still add them by hand.
                log.warning(
                    "can't add reactions in channel %s: %s", message.channel.id, describe(exc)
                )
                return


async def tell(
    client: discord.Client,
    engine: Engine,
    who: Who,
    event: discord.RawReactionActionEvent,
    reply: Reply,
    *,
    note_seconds: float,
) -> None:
    """Answer a reaction privately: in the DM the card is in, or by DM for a card in a server
    (a note per click in a shared channel would bury the cards). Closed DMs mark the person
    unreachable and fall back to a short note in the channel that deletes itself."""
    try:
        if event.guild_id is None:
            channel: discord.abc.Messageable = client.get_partial_messageable(event.channel_id)
        else:
            channel = await client.create_dm(discord.Object(event.user_id))
        for piece in chunks(reply.text):
            await channel.send(piece)
    except discord.Forbidden as exc:
        if exc.code != CLOSED_DMS:
            raise
        await engine.unreachable(who)
        if event.guild_id is None:
            return
        note = chunks(f"<@{event.user_id}> {reply.text}")[0]
        here = client.get_partial_messageable(event.channel_id, guild_id=event.guild_id)
        mention = discord.AllowedMentions(users=[discord.Object(event.user_id)])
        await here.send(note, delete_after=note_seconds, allowed_mentions=mention)
