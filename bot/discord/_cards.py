"""Replies as Discord messages: a station batch is a header and one embed per card, so each
card is its own message that reactions can point at. Pure functions, no I/O."""

from __future__ import annotations

import discord
from discord.utils import escape_markdown

from bot import render
from wavelength.domain import Reaction
from wavelength.stations import Batch, Card

# Discord stores these two with their variation selector, and sends them back that way in
# reaction events; adding them in the same form keeps the bot's reaction and the user's one
# the same reaction (one counter under the card, not two).
EMOJI: dict[Reaction, str] = {
    Reaction.LIKE: "👍",
    Reaction.DISLIKE: "👎",
    Reaction.SKIP: "⏭️",
    Reaction.LOVE: "❤️",
}
CARD_REACTIONS = (
    EMOJI[Reaction.LIKE],
    EMOJI[Reaction.DISLIKE],
    EMOJI[Reaction.SKIP],
    EMOJI[Reaction.LOVE],
)
REACT_HINT = "React under a card: 👍 like · ❤️ love · 👎 never again · ⏭️ skip. /next for more, /why N for a reason."
MESSAGE_LIMIT = 2000
_SPOTIFY_TRACK = "spotify:track:"
_COLOUR = discord.Colour(0x1DB954)


def header(text: str, batch: Batch) -> str:
    """The message above the cards: the reply's intro ("Retuned."), the station's title and
    how to react (Discord people react under each card, not by number)."""
    plain = render.batch_text(batch)
    title, last = plain.split("\n", 1)[0], plain.rsplit("\n", 1)[-1]
    intro = text.partition(title)[0].strip()
    tail = last if batch.read_only else REACT_HINT
    lines = [escape_markdown(intro), escape_markdown(title), tail]
    return "\n".join(line for line in lines if line)[:MESSAGE_LIMIT]


def card_embed(card: Card, batch: Batch) -> discord.Embed:
    track = card.track
    url = None
    if track.id.startswith(_SPOTIFY_TRACK):
        url = "https://open.spotify.com/track/" + track.id.removeprefix(_SPOTIFY_TRACK)
    embed = discord.Embed(
        title=f"{card.position}. {escape_markdown(track.name)}"[:256],
        description=escape_markdown(card.reason[:1].upper() + card.reason[1:])[:4096] or None,
        url=url,
        colour=_COLOUR,
    )
    embed.add_field(name="Artist", value=escape_markdown(track.artist.name)[:1024] or "?")
    year = track.year or (f"{track.decade}s" if track.decade else None)
    if year:
        embed.add_field(name="Year", value=str(year))
    embed.set_footer(text=f"{batch.station.name} · batch {batch.number}"[:2048])
    return embed


def chunks(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` in pieces Discord accepts, split at line ends where it can be."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current.strip():
        pieces.append(current)
    return [p.rstrip("\n") for p in pieces if p.strip()] or ["…"]
