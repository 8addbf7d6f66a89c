"""Frozen domain values shared by every layer.

IDs are typed strings so a track id can never be passed where an artist id is expected.
Values are immutable; derive changed copies with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NewType

if TYPE_CHECKING:
    from datetime import datetime

TrackId = NewType("TrackId", str)
ArtistId = NewType("ArtistId", str)
AlbumId = NewType("AlbumId", str)
PlaylistId = NewType("PlaylistId", str)
UserName = NewType("UserName", str)

FEATURE_NAMES: tuple[str, ...] = (
    "danceability",
    "energy",
    "valence",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "liveness",
    "tempo",
    "loudness",
    "mode",
    "key",
)


@dataclass(frozen=True, slots=True)
class AudioFeatures:
    """Spotify-style audio features; 0..1 scales except tempo (BPM), loudness (dB), mode, key."""

    danceability: float | None = None
    energy: float | None = None
    valence: float | None = None
    acousticness: float | None = None
    instrumentalness: float | None = None
    speechiness: float | None = None
    liveness: float | None = None
    tempo: float | None = None
    loudness: float | None = None
    mode: int | None = None
    key: int | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in FEATURE_NAMES)


NO_FEATURES = AudioFeatures()


@dataclass(frozen=True, slots=True)
class Artist:
    id: ArtistId
    name: str
    spotify_uri: str | None = None
    genres: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Album:
    id: AlbumId
    name: str
    artist_id: ArtistId


@dataclass(frozen=True, slots=True)
class Track:
    """One recording. ``id`` is a Spotify URI when known, else a stable name-derived id."""

    id: TrackId
    name: str
    artist: Artist
    album: Album | None = None
    duration_ms: int | None = None
    popularity: int | None = None
    explicit: bool | None = None
    year: int | None = None
    decade: int | None = None
    genre: str | None = None
    features: AudioFeatures = NO_FEATURES


@dataclass(frozen=True, slots=True)
class Playlist:
    """A human-made playlist; ``tracks`` keeps the playlist's order."""

    id: PlaylistId
    name: str
    tracks: tuple[Track, ...]
    description: str | None = None
    num_followers: int | None = None
    modified_at: int | None = None
    collaborative: bool | None = None


@dataclass(frozen=True, slots=True)
class ListeningEvent:
    """One play of a track by a user at a point in time (UTC)."""

    track: Track
    played_at: datetime
    ms_played: int | None = None


@dataclass(frozen=True, slots=True)
class CatalogCounts:
    tracks: int
    artists: int
    albums: int
    playlists: int
    playlist_items: int
    users: int
    listening_events: int
