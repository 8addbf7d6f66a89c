"""What a chat message asks for: one small frozen value per intent, and the ``Intent`` union.

Platform-neutral: Discord, Telegram and the console all receive these from
``bot.intents.parse_intent`` and hand them to the station engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from wavelength.domain import Familiarity, Reaction, Steer


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Stats:
    pass


@dataclass(frozen=True, slots=True)
class Next:
    """The next batch of the current station."""


@dataclass(frozen=True, slots=True)
class NewStation:
    text: str  # the mood as typed; recommender.mood.parse_mood reads it


@dataclass(frozen=True, slots=True)
class ListStations:
    pass


@dataclass(frozen=True, slots=True)
class Switch:
    target: str  # a station name as typed; may match none


@dataclass(frozen=True, slots=True)
class Rename:
    new: str
    target: str | None = None  # None: the current station


@dataclass(frozen=True, slots=True)
class Delete:
    target: str  # always named: deleting is never implied by "this"


@dataclass(frozen=True, slots=True)
class Share:
    target: str | None = None  # None: the current station


@dataclass(frozen=True, slots=True)
class Join:
    code: str


@dataclass(frozen=True, slots=True)
class Copy:
    code: str


@dataclass(frozen=True, slots=True)
class React:
    """A reaction to cards by their 1-based numbers; empty: the one card shown last (the
    caller decides what that means when several were shown)."""

    reaction: Reaction
    positions: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Undo:
    pass


@dataclass(frozen=True, slots=True)
class History:
    pass


@dataclass(frozen=True, slots=True)
class Refine:
    steer: Steer


@dataclass(frozen=True, slots=True)
class SetFamiliarity:
    familiarity: Familiarity


@dataclass(frozen=True, slots=True)
class MoreLikeThis:
    position: int | None = None  # None: the card shown last


@dataclass(frozen=True, slots=True)
class NoMore:
    name: str  # an artist as typed; the engine resolves it (and may ask "did you mean")


@dataclass(frozen=True, slots=True)
class Why:
    position: int | None = None


@dataclass(frozen=True, slots=True)
class Tune:
    """New weights (0..3) for the current station; all None: show the current tuning."""

    style: float | None = None
    like: float | None = None
    dislike: float | None = None
    familiarity: Familiarity | None = None


@dataclass(frozen=True, slots=True)
class FromPlaylist:
    name: str


@dataclass(frozen=True, slots=True)
class Connect:
    """No code: show a one-time code. A code: join this account to the one that showed it."""

    code: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """All None: show the settings."""

    time_zone: str | None = None
    at: str | None = None  # delivery time as typed; the account service parses it
    daily: bool | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop daily deliveries for now (settings are kept)."""


@dataclass(frozen=True, slots=True)
class Resume:
    pass


@dataclass(frozen=True, slots=True)
class SpotifyLink:
    pass


@dataclass(frozen=True, slots=True)
class SpotifyPasted:
    """The address Spotify redirected the browser to, pasted into the chat."""

    url: str


@dataclass(frozen=True, slots=True)
class SpotifyUnlink:
    pass


@dataclass(frozen=True, slots=True)
class SpotifyStatus:
    pass


@dataclass(frozen=True, slots=True)
class SaveToSpotify:
    """Save the station playing as a Spotify playlist (updated in place next time)."""


@dataclass(frozen=True, slots=True)
class Picks:
    """Today's picks now (the next batch of the user's "Daily picks" station)."""


@dataclass(frozen=True, slots=True)
class Mixes:
    pass


@dataclass(frozen=True, slots=True)
class Nostalgia:
    pass


@dataclass(frozen=True, slots=True)
class Buddies:
    """Playlists from people with similar taste; ``share`` turns matching others to this
    user's taste on or off (None: just show)."""

    share: bool | None = None


@dataclass(frozen=True, slots=True)
class TasteMap:
    pass


@dataclass(frozen=True, slots=True)
class Sort:
    """``/sort ...``: the sorter's own sub-commands, read by ``bot.sort_chat``."""

    args: str = ""


@dataclass(frozen=True, slots=True)
class Unknown:
    """Nothing we can act on; ``reason`` is a friendly reply that says what would work."""

    text: str
    reason: str


Intent: TypeAlias = (
    Help
    | Stats
    | Next
    | NewStation
    | ListStations
    | Switch
    | Rename
    | Delete
    | Share
    | Join
    | Copy
    | React
    | Undo
    | History
    | Refine
    | SetFamiliarity
    | MoreLikeThis
    | NoMore
    | Why
    | Tune
    | FromPlaylist
    | Connect
    | Settings
    | Pause
    | Resume
    | SpotifyLink
    | SpotifyPasted
    | SpotifyUnlink
    | SpotifyStatus
    | SaveToSpotify
    | Picks
    | Mixes
    | Nostalgia
    | Buddies
    | TasteMap
    | Sort
    | Unknown
)
