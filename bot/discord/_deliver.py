"""Getting replies to people: followups to a slash command or a DM we start (cards with
reactions under them, pictures as attachments), and short private notes for reactions."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import discord
from discord.utils import MISSING

from bot.chat import Where, Who
from bot.discord._cards import CARD_REACTIONS, card_embed, chunks, header

if TYPE_CHECKING:
    from bot.conversation import Reply
    from bot.discord._engine import Engine
    from wavelength.stations import Batch, Card

log = logging.getLogger(__name__)
CLOSED_DMS = 50007  # "Cannot send messages to this user": DMs closed, or the bot is blocked
PICTURE = "wavelength.png"  # every picture a reply carries is a PNG
ALT_TEXT_LIMIT = 1024  # Discord's limit for an attachment's description
REFUSED_UPLOAD = {400, 413}  # the file itself refused: a bad form, or "Request entity too large"


def who_of(user: discord.abc.User) -> Who:
    return Who("discord", str(user.id), user.display_name)


def describe(exc: discord.HTTPException) -> str:
    """An HTTP error for the log: status, Discord's code and message, never a URL or token."""
    return f"{exc.status} (code {exc.code}): {exc.text[:200]}"


class Post(Protocol):
    """Sends one message where the replies go (followups to a command, a DM) and returns it."""

    async def __call__(
        self,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        file: discord.File | None = None,
    ) -> discord.Message: ...


async def answer(
    interaction: discord.Interaction, engine: Engine, who: Who, replies: Sequence[Reply]
) -> None:
    """``replies`` as followups to a deferred interaction."""
    if not replies:
        # The engine stays silent during a flood; the "thinking..." message must still end.
        await interaction.delete_original_response()
        return

    async def followup(
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        file: discord.File | None = None,
    ) -> discord.Message:
        if embed is not None:
            return await interaction.followup.send(embed=embed, wait=True)
        if file is not None:
            return await interaction.followup.send(content or MISSING, file=file, wait=True)
        return await interaction.followup.send(content or "…", wait=True)

    await deliver(followup, engine, who, replies)


async def deliver(post: Post, engine: Engine, who: Who, replies: Sequence[Reply]) -> None:
    """``replies`` through ``post``: text in pieces Discord takes; a batch as a header and
    one message per card, registered with the engine for reactions to come and given the
    reaction buttons; a picture as an attachment with the text as its caption."""
    for reply in replies:
        if reply.batch is not None and reply.batch.cards:
            await _cards(post, engine, who, reply.text, reply.batch)
        elif reply.image is not None:
            await picture(post, reply.text, reply.image)
        else:
            for piece in chunks(reply.text):
                await post(piece)


async def picture(post: Post, caption: str, image: bytes) -> None:
    """``image`` as an attachment under the first piece of ``caption``; a caption longer than
    one message goes on in text messages right after it. A picture Discord refuses (too
    large, unreadable) leaves the caption, sent as text."""
    first, *rest = chunks(caption) if caption.strip() else [None]
    alt = caption.strip()[:ALT_TEXT_LIMIT] or None  # read out to people who can't see it
    try:
        await post(first, file=discord.File(io.BytesIO(image), filename=PICTURE, description=alt))
    except discord.HTTPException as exc:
        if exc.status not in REFUSED_UPLOAD or first is None:
            raise  # closed DMs, outages: the caller decides what those mean
        log.warning("Discord refused a picture, sending its caption alone: %s", describe(exc))
        await post(first)
    for piece in rest:
        await post(piece)


async def _cards(post: Post, engine: Engine, who: Who, text: str, batch: Batch) -> None:
    await post(header(text, batch))
    posted: list[tuple[Where, Card]] = []
    messages: list[discord.Message] = []
    try:
        for card in batch.cards:
            message = await post(embed=card_embed(card, batch))
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
            except discord.HTTPException as exc:
                # No Add Reactions permission here, or Discord failing after discord.py's
                # retries: the cards are out, and people can still add reactions by hand.
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
