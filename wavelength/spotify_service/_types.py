"""The Spotify service's errors, whose messages are shown to listeners as they are, the values
it returns, and what an import needs from the station service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from spotify.api import playlist_url

if TYPE_CHECKING:
    from wavelength.domain import PlaylistId, Station, StationId, TrackId, UserId


class SpotifyServiceError(Exception):
    """Something Spotify-related can't be done now; ``str(error)`` says why, kindly."""


class SpotifyNotConfigured(SpotifyServiceError):
    def __init__(self) -> None:
        super().__init__("Spotify isn't set up on this Wavelength (no app client id/secret).")


class SpotifyNotLinked(SpotifyServiceError):
    def __init__(self) -> None:
        super().__init__("Your Spotify account isn't linked yet. Send /link to link it.")


class SpotifyLinkBroken(SpotifyServiceError):
    def __init__(self) -> None:
        super().__init__(
            "Spotify no longer accepts my access to your account (it was removed or expired). "
            "Send /link to link it again."
        )


class SpotifyUnavailable(SpotifyServiceError):
    pass


class TryAgainLater(SpotifyServiceError):
    """Spotify asked for a pause longer than we wait in one go; ``at`` is when to resume."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        super().__init__(
            f"Spotify asked me to slow down; I'll carry on at {at:%H:%M} UTC. Nothing is lost."
        )


class StationMaker(Protocol):
    """The part of ``StationService`` an import needs."""

    def from_playlist(
        self, user: UserId, playlist: PlaylistId, title: str, tracks: Sequence[TrackId]
    ) -> object: ...

    def stations(self, user: UserId) -> tuple[list[Station], StationId | None]: ...


@dataclass(frozen=True, slots=True)
class LinkResult:
    user: UserId | None  # None when the callback can't be tied to anyone
    linked: bool
    message: str  # what to tell the user, in the browser and in chat
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class PlaylistStatus:
    purpose: str
    url: str | None
    done: bool
    tracks: int


@dataclass(frozen=True, slots=True)
class LinkStatus:
    linked: bool  # a working link
    broken: bool  # linked once, but Spotify revoked the token
    display_name: str | None = None
    spotify_id: str | None = None
    playlists: tuple[PlaylistStatus, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportReport:
    recently_played: int
    top: int
    saved: int
    playlists: int
    events_added: int
    tracks_added: int
    stations: tuple[str, ...] = ()

    def summary(self) -> str:
        made = f"; new stations: {', '.join(self.stations)}" if self.stations else ""
        return (
            f"Imported {self.recently_played} recent plays, {self.top} top tracks and "
            f"{self.saved} liked songs ({self.events_added} new to your history, "
            f"{self.tracks_added} new to the catalog) from {self.playlists} playlists read{made}."
        )


@dataclass(frozen=True, slots=True)
class PushReport:
    purpose: str
    playlist_id: str
    tracks: int  # what the playlist holds now
    unmatched: int = 0  # catalog tracks Spotify search could not find
    unplayable: int = 0  # found, but not playable in the user's market
    created: bool = False  # a new playlist (first push)
    recreated: bool = False  # the user had deleted it; a new one was made
    resumed: bool = False  # finished a push an earlier run left unfinished
    attempts: int = 1

    @property
    def url(self) -> str:
        return playlist_url(self.playlist_id)
