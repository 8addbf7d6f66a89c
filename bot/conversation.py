"""The platform-neutral conversation engine.

Discord, Telegram and the console all hand a user's message to ``Conversation.handle`` and
render the replies it returns; nothing here knows which platform it runs on.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from wavelength.domain import CatalogCounts


class CatalogStats(Protocol):
    def counts(self) -> CatalogCounts: ...


@dataclass(frozen=True, slots=True)
class Reply:
    text: str


HELP = """\
Wavelength: describe a mood, get a radio station that learns from your reactions.

Commands:
  /help   this text
  /stats  what the catalog holds: tracks, artists, playlists, users, plays
  /quit   leave the console

Stations from plain-language moods ("rainy sunday jazz for reading") arrive with the
station engine; this build knows its catalog and can tell you about it."""


def clean(text: str) -> str:
    """NFC-normalize and drop control and format characters (zero-width joiners stay out
    of commands), keeping the emoji and scripts people actually type."""
    normalized = unicodedata.normalize("NFC", text)
    kept = (
        c
        for c in normalized
        if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn")
    )
    return "".join(kept).strip()


class Conversation:
    """Turns one message into replies. Commands start with '/'; anything else is a request."""

    def __init__(self, *, catalog: CatalogStats, max_chars: int = 2000) -> None:
        self._catalog = catalog
        self._max_chars = max_chars
        self._commands: dict[str, Callable[[str, str], list[Reply]]] = {
            "help": self._help,
            "start": self._help,
            "stats": self._stats,
        }

    @property
    def commands(self) -> tuple[str, ...]:
        return tuple(self._commands)

    def handle(self, user: str, message: str) -> list[Reply]:
        """Replies to ``message`` from ``user``; never raises for bad input."""
        if len(message) > self._max_chars * 4:
            return [self._too_long(len(message))]
        text = clean(message)
        if not text:
            return [Reply("I didn't catch anything there. Describe a mood, or type /help.")]
        if len(text) > self._max_chars:
            return [self._too_long(len(text))]
        if text.startswith("/"):
            name, _, rest = text[1:].partition(" ")
            command = self._commands.get(name.split("@", 1)[0].lower())
            if command is None:
                return [
                    Reply(
                        f"I don't know the command /{name[:40]}. Type /help to see what I can do."
                    )
                ]
            return command(user, rest.strip())
        return [
            Reply(
                "I can't compose stations from a mood yet: the station engine isn't part of this "
                "build. Your message was not stored. Try /stats or /help."
            )
        ]

    def _too_long(self, length: int) -> Reply:
        return Reply(
            f"That message is {length:,} characters; I read up to {self._max_chars:,}. "
            "A sentence or two about the mood is plenty."
        )

    def _help(self, _user: str, _args: str) -> list[Reply]:
        return [Reply(HELP)]

    def _stats(self, _user: str, _args: str) -> list[Reply]:
        c = self._catalog.counts()
        return [
            Reply(
                "Catalog:\n"
                f"  tracks            {c.tracks:>12,}\n"
                f"  artists           {c.artists:>12,}\n"
                f"  albums            {c.albums:>12,}\n"
                f"  playlists         {c.playlists:>12,}  ({c.playlist_items:,} track rows)\n"
                f"  users             {c.users:>12,}\n"
                f"  listening events  {c.listening_events:>12,}"
            )
        ]
