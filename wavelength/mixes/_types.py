"""What the mix service returns: the options it runs with, and the frozen mixes, nostalgia
mixes and playlist matches the chat layer renders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from wavelength.domain import PlaylistId, Track, TrackId


@dataclass(frozen=True, slots=True)
class MixOptions:
    """The knobs, at the values ``wavelength eval-mixes`` measured (docs/evaluation.md)."""

    mix_size: int = 25
    new_share: float = 0.2
    per_artist: int = 2
    max_centers: int = 8
    min_share: float = 0.05
    min_mix_tracks: int = 5  # a center with fewer familiar tracks is no mix yet
    half_life_days: float = 30.0
    exclude_days: float = 14.0  # "nothing played in the last weeks"
    max_tracks: int = 2000  # the heaviest tracks a fit reads; the rest weigh next to nothing
    like_weight: float = 3.0  # a like counts as three plays at that moment (love, favourite: 6)
    nostalgia_size: int = 30
    nostalgia_recent_days: float = 56.0
    long_history_days: float = 365.0  # less than this, and the nostalgia reply says so
    buddies_pool: int = 50  # neighbours KNN hands the ranker
    map_tracks: int = 300


@dataclass(frozen=True, slots=True)
class MixTrack:
    track: Track
    familiar: bool  # played or liked before (else new, near the center)
    score: float


@dataclass(frozen=True, slots=True)
class Mix:
    number: int  # 1-based, heaviest center first: what the taste map's discs show
    center: int  # the center's stable id: "Daily Mix" n stays the same taste day to day
    label: str  # its top artists, "A, B & C"
    share: float  # of the listening weight
    tracks: tuple[MixTrack, ...]


@dataclass(frozen=True, slots=True)
class NostalgiaMix:
    tracks: tuple[MixTrack, ...]
    period: tuple[date, date] | None  # the part of the past this listener goes back to
    history_days: int  # how far back the timestamped history reaches
    filled: int  # tracks added as neighbours of the past taste centers
    note: str | None  # set when the history is too short to be sure (say so to the user)


@dataclass(frozen=True, slots=True)
class PlaylistMatch:
    playlist: PlaylistId | None  # None for another listener's taste
    name: str
    by: str  # "playlist corpus", or the consenting listener's name
    match: int | None  # 0-100; None for cold-start picks
    why: str
    tracks: tuple[TrackId, ...]
