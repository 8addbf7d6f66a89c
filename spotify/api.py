"""What Wavelength needs from Spotify: one small interface, its values and its errors.

The real adapter (``spotify.spotipy_api``) speaks the 2026 Web API through spotipy; tests run
it against a local fake of the wire protocol (``tests/support/fake_spotify.py``). Nothing
outside ``spotify/`` sees a spotipy object or a raw JSON reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

# Spotify's documented per-request ceilings (a request past them answers 400).
MAX_ITEMS_PER_REQUEST = 100  # playlist items added, replaced or removed at once
MAX_PAGE = 50  # library, top, recently played, playlists and playlist-items pages
MAX_SEARCH_PAGE = 10  # /search in Development Mode since February 2026

# Everything Wavelength asks for: import (recently played, top, saved, playlists) and the
# playlists it writes. Private playlists only; nothing public is created.
SCOPES = (
    "user-read-recently-played",
    "user-top-read",
    "user-library-read",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-private",
    "playlist-modify-public",
)


class SpotifyError(Exception):
    """A Spotify call failed; subclasses say whether and when trying again can help."""


class RateLimited(SpotifyError):
    """429: wait ``retry_after`` seconds (Spotify's Retry-After) before the next call."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"rate limited by Spotify for {retry_after:g} s")


class Unavailable(SpotifyError):
    """5xx, a timeout or a dropped connection: the call may or may not have taken effect."""


class LinkRevoked(SpotifyError):
    """The user withdrew our access (or the refresh token is dead): link again."""


class NotLinked(SpotifyError):
    """There is no token for this user."""


class NotFound(SpotifyError):
    """404: the playlist or track does not exist (any more)."""


class Forbidden(SpotifyError):
    """403: not allowed for this app or user (e.g. not on the app's user list)."""


class BadRequest(SpotifyError):
    """400: Spotify refused the request as malformed; a bug on our side."""


class ConfigError(SpotifyError):
    """The app's client id, secret or redirect URI is wrong (invalid_client)."""


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    display_name: str | None


@dataclass(frozen=True, slots=True)
class SpotifyTrack:
    uri: str  # spotify:track:<id>, or spotify:local:... for a local file in a playlist
    name: str
    artists: tuple[str, ...]
    artist_uris: tuple[str, ...] = ()
    album: str | None = None
    album_uri: str | None = None
    year: int | None = None
    duration_ms: int | None = None
    explicit: bool | None = None
    playable: bool | None = None  # known only when the request named a market


@dataclass(frozen=True, slots=True)
class Played:
    track: SpotifyTrack
    at: datetime


@dataclass(frozen=True, slots=True)
class Saved:
    track: SpotifyTrack
    added_at: datetime


@dataclass(frozen=True, slots=True)
class PlaylistInfo:
    id: str
    name: str
    description: str
    owner: str  # the owner's Spotify user id
    total: int
    public: bool | None = None
    snapshot_id: str | None = None

    @property
    def url(self) -> str:
        return playlist_url(self.id)


def playlist_url(playlist_id: str) -> str:
    return f"https://open.spotify.com/playlist/{playlist_id}"


class SpotifyApi(Protocol):
    """One user's Spotify, as Wavelength uses it. Calls raise ``SpotifyError`` subclasses."""

    def profile(self) -> Profile: ...

    def recently_played(self, *, limit: int = MAX_PAGE) -> list[Played]:
        """Newest first, following the ``before`` cursor until ``limit`` or the end."""
        ...

    def top_tracks(self, *, time_range: str, limit: int = MAX_PAGE) -> list[SpotifyTrack]: ...

    def saved_tracks(self, *, limit: int) -> list[Saved]:
        """The user's Liked Songs, newest first, at most ``limit``."""
        ...

    def playlists(self) -> list[PlaylistInfo]:
        """Every playlist the user follows (their own and others'), in library order."""
        ...

    def playlist(self, playlist_id: str) -> PlaylistInfo:
        """One playlist by id (``GET /playlists/{id}``); NotFound once deleted."""
        ...

    def create_playlist(self, *, name: str, description: str) -> PlaylistInfo:
        """A new private playlist owned by the user (``POST /me/playlists``)."""
        ...

    def change_details(self, playlist_id: str, *, name: str, description: str) -> None: ...

    def playlist_items(self, playlist_id: str) -> list[SpotifyTrack]:
        """Every item, in playlist order (``GET /playlists/{id}/items``)."""
        ...

    def replace_items(self, playlist_id: str, uris: Sequence[str]) -> str:
        """Set the playlist to ``uris`` (at most 100); returns the new snapshot id."""
        ...

    def add_items(self, playlist_id: str, uris: Sequence[str]) -> str:
        """Append ``uris`` (at most 100); returns the new snapshot id."""
        ...

    def remove_items(self, playlist_id: str, uris: Sequence[str]) -> str:
        """Remove every occurrence of ``uris`` (at most 100); returns the new snapshot id."""
        ...

    def search_tracks(self, *, title: str, artist: str, limit: int = 5) -> list[SpotifyTrack]:
        """Tracks matching title and artist, with playability in the user's market."""
        ...

    def track(self, uri: str) -> SpotifyTrack:
        """One track with playability in the user's market (``GET /tracks/{id}``)."""
        ...

    def close(self) -> None: ...


def check_batch(uris: Sequence[str]) -> list[str]:
    """``uris`` as a list, refused when over Spotify's 100-items-per-request limit."""
    if len(uris) > MAX_ITEMS_PER_REQUEST:
        raise ValueError(
            f"{len(uris)} items in one request; Spotify takes at most {MAX_ITEMS_PER_REQUEST}"
        )
    return list(uris)
