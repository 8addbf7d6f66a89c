"""Frozen domain values shared by every layer.

IDs are typed strings so a track id can never be passed where an artist id is expected.
Values are immutable; derive changed copies with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
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


# --- Stations -------------------------------------------------------------------------------

UserId = NewType("UserId", int)
StationId = NewType("StationId", int)


class Reaction(StrEnum):
    """What a listener said about one track. Emoji mapping lives in the frontends."""

    LIKE = "like"  # 👍
    LOVE = "love"  # ❤️  a stronger like, also saved to favourites
    DISLIKE = "dislike"  # 👎  never again for this user, anywhere
    SKIP = "skip"  # ⏭  a weak negative, this station only

    @property
    def positive(self) -> bool:
        return self in (Reaction.LIKE, Reaction.LOVE)


class Familiarity(StrEnum):
    """The familiar ↔ discovery knob: which rank band a batch is drawn from."""

    SAFE = "safe"
    BALANCED = "balanced"
    SURPRISE = "surprise"


@dataclass(frozen=True, slots=True)
class Tilt:
    """A wish about one audio feature: ``direction`` > 0 wants more of it, < 0 less."""

    feature: str  # a name in FEATURE_NAMES, or "year"
    direction: float


@dataclass(frozen=True, slots=True)
class Mood:
    """A station's request, parsed: what to encode, who it should sound like, hard limits.

    ``text`` is what is left to encode once names and limits are taken out (it may be empty
    when the request was only "like Daft Punk"); ``original`` is what the user typed.
    """

    original: str
    text: str
    seed_artists: tuple[ArtistId, ...] = ()
    seed_tracks: tuple[TrackId, ...] = ()
    avoid_artists: tuple[ArtistId, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    explicit: bool | None = None  # False: clean only
    instrumental: bool = False  # "no vocals"
    tilts: tuple[Tilt, ...] = ()


@dataclass(frozen=True, slots=True)
class Tuning:
    """How a station weighs its sources. Weights are 0..3; 1 is the default balance."""

    style: float = 1.0  # the mood text
    like: float = 1.0  # tracks liked on this station
    dislike: float = 1.0  # tracks disliked or skipped on this station
    familiarity: Familiarity = Familiarity.BALANCED


@dataclass(frozen=True, slots=True)
class Steer:
    """A refinement in words ("more upbeat", "less vocals"): encoded text added to or taken
    from the mood, plus feature tilts where the catalog knows the features."""

    phrase: str
    sign: int  # +1 toward, -1 away
    tilts: tuple[Tilt, ...] = ()


@dataclass(frozen=True, slots=True)
class Station:
    id: StationId
    owner: UserId
    name: str
    mood: Mood
    tuning: Tuning = Tuning()
    steers: tuple[Steer, ...] = ()
    banned_artists: tuple[ArtistId, ...] = ()  # "no more X" on this station
    seed_playlist: PlaylistId | None = None
    share_code: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Feedback:
    """One reaction by one user to one track, on the station where it was shown."""

    id: int
    user: UserId
    station: StationId | None  # None for reactions outside a station (daily picks)
    track: TrackId
    reaction: Reaction
    at: datetime
    copied: bool = False  # came with a copied station; never user-wide


@dataclass(frozen=True, slots=True)
class Pick:
    """One track a station chose, with the one-line reason a card shows."""

    track: TrackId
    artist: ArtistId
    score: float
    reason: str
    source: str  # which step proposed it: "mood", "liked", "seed", "playlists", ...


@dataclass(frozen=True, slots=True)
class UserPrefs:
    """What /settings holds: when daily deliveries arrive, and whether they do at all."""

    time_zone: str = "UTC"  # an IANA name, checked by the service
    delivery_minute: int = 9 * 60  # minutes after local midnight: 09:00
    daily: bool = False  # opt-in: nobody gets unasked-for DMs
    paused: bool = False

    @property
    def delivery_time(self) -> str:
        return f"{self.delivery_minute // 60:02d}:{self.delivery_minute % 60:02d}"
