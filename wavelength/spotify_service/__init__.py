"""Spotify for Wavelength: link an account, import what someone listens to, and keep one
playlist per purpose ("daily picks", a station) up to date in place.

Sync methods, called from worker threads (the chat engine, the scheduler). Errors a listener
should see are ``SpotifyServiceError`` subclasses whose message can be shown as it is.

Pushes are idempotent: the intended contents are written to the database before Spotify is
called, and a push cut short anywhere (a crash, a 429 storm, 500s, a timeout after Spotify
applied the change) is finished by reading the playlist and appending what is missing, or
replacing it when it holds anything but a prefix of what it should. Nothing is replayed
blindly, so nothing is added twice.

The service is assembled from its parts, one private module each: ``_core`` (construction,
one user's client, retries), ``_linking``, ``_pushing`` and ``_importing``; ``_types`` holds
the errors and the values returned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spotify.api import SpotifyError
from spotify.auth import SpotifyConfig
from wavelength.spotify_service._importing import Importing
from wavelength.spotify_service._linking import Linking
from wavelength.spotify_service._pushing import Pushing
from wavelength.spotify_service._types import (
    ImportReport,
    LinkResult,
    LinkStatus,
    PlaylistStatus,
    PushReport,
    SpotifyLinkBroken,
    SpotifyNotConfigured,
    SpotifyNotLinked,
    SpotifyServiceError,
    SpotifyUnavailable,
    StationMaker,
    TryAgainLater,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from wavelength.settings import Settings


class SpotifyService(Linking, Pushing, Importing):
    """Link, push and import for every listener (see the module docstring)."""


def build_spotify_service(
    settings: Settings, engine: Engine, *, stations: StationMaker | None = None
) -> SpotifyService | None:
    """The service from settings, or None when no Spotify app is configured."""
    from spotify.crypto import TokenBox, development_secret
    from wavelength.settings import Environment

    if not settings.spotify_enabled or settings.spotify_client_secret is None:
        return None
    if settings.secret_key is not None:
        secret = settings.secret_key.get_secret_value()
    elif settings.environment is Environment.PRODUCTION:  # Settings refuses this already
        raise ValueError("WAVELENGTH_SECRET_KEY is required in production")
    else:
        secret = development_secret(settings.secret_key_path)
    config = SpotifyConfig(
        client_id=settings.spotify_client_id or "",
        client_secret=settings.spotify_client_secret.get_secret_value(),
        redirect_uri=settings.spotify_redirect_uri,
        api_url=settings.spotify_api_url,
        accounts_url=settings.spotify_accounts_url,
        read_timeout=settings.spotify_timeout_s,
    )
    return SpotifyService(
        engine=engine,
        config=config,
        box=TokenBox(secret),
        stations=stations,
        max_wait=settings.spotify_max_wait_s,
    )


__all__ = [
    "ImportReport",
    "LinkResult",
    "LinkStatus",
    "PlaylistStatus",
    "PushReport",
    "SpotifyError",
    "SpotifyLinkBroken",
    "SpotifyNotConfigured",
    "SpotifyNotLinked",
    "SpotifyService",
    "SpotifyServiceError",
    "SpotifyUnavailable",
    "StationMaker",
    "TryAgainLater",
    "build_spotify_service",
]
