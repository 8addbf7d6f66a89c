"""What the station service returns and raises: values a frontend renders, and errors whose
message can be shown as it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wavelength.domain import Reaction, Station, Track

if TYPE_CHECKING:
    from recommender.mood import Unresolved


class StationError(Exception):
    """Something the listener asked for cannot be done; ``str(error)`` says why, kindly."""


class NoStation(StationError):
    def __init__(self) -> None:
        super().__init__(
            'You have no station playing. Tell me a mood ("rainy sunday jazz for reading") '
            "or pick one from /stations."
        )


class NotFound(StationError):
    pass


class ReadOnly(StationError):
    pass


class DidYouMean(StationError):
    """Names in a request that could not be pinned down; nothing was created."""

    def __init__(self, unresolved: tuple[Unresolved, ...]) -> None:
        self.unresolved = unresolved
        super().__init__(self._text())

    def _text(self) -> str:
        parts = []
        for u in self.unresolved:
            if u.suggestions:
                options = ", ".join(u.suggestions[:3])
                parts.append(f'I\'m not sure who "{u.text}" is. Did you mean: {options}?')
            else:
                parts.append(f'I don\'t know "{u.text}" in this catalog.')
        return " ".join(parts) + " Try again with the exact name, or leave it out."


@dataclass(frozen=True, slots=True)
class Card:
    position: int  # 1-based within its batch: what people type to react ("👍 2")
    track: Track
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class Batch:
    station: Station
    number: int
    cards: tuple[Card, ...]
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class Reacted:
    reaction: Reaction
    tracks: tuple[Track, ...]
    banned_artist: str | None = None  # set when this dislike stopped an artist here


@dataclass(frozen=True, slots=True)
class Explanation:
    card: Card
    station: Station
    liked_on_station: int
    disliked_on_station: int
