"""OAuth pieces: the app's configuration, one-time ``state`` values, the redirect URL a user
pastes, and a spotipy ``CacheHandler`` that keeps each user's token encrypted in the database.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from spotipy.cache_handler import CacheHandler  # type: ignore[import-untyped]

from spotify.api import LinkRevoked, NotLinked
from spotify.crypto import UnreadableToken
from storage import spotify as repo

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from spotify.crypto import TokenBox
    from wavelength.domain import UserId

STATE_TTL = timedelta(minutes=10)
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class SpotifyConfig:
    """The Spotify app (developer dashboard) and where its services live."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    # Both are settings so tests (and nothing else) can point them at a local fake.
    api_url: str = "https://api.spotify.com/v1/"
    accounts_url: str = "https://accounts.spotify.com"
    connect_timeout: float = 5.0
    read_timeout: float = 15.0

    @property
    def authorize_url(self) -> str:
        return self.accounts_url.rstrip("/") + "/authorize"

    @property
    def token_url(self) -> str:
        return self.accounts_url.rstrip("/") + "/api/token"


def new_state() -> str:
    """An unguessable one-time ``state`` for an authorize URL."""
    return secrets.token_urlsafe(24)


def state_hash(state: str) -> str:
    # Only the hash is stored: a leaked database row can't be replayed as a callback.
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Redirect:
    """What Spotify appended to the redirect URI."""

    state: str | None
    code: str | None
    error: str | None


def parse_redirect(text: str) -> Redirect:
    """The state, code and error in a pasted redirect URL (or just its query string)."""
    text = text.strip().strip("<>\"'")
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    values = parse_qs(query, keep_blank_values=False)

    def one(name: str) -> str | None:
        found = values.get(name)
        return found[0].strip() if found else None

    return Redirect(state=one("state"), code=one("code"), error=one("error"))


class DbTokenCache(CacheHandler):  # type: ignore[misc]
    """One user's token, sealed with the installation's key in ``spotify_links``.

    spotipy refreshes a token a minute before it expires and saves the new one here; a token
    that can't be decrypted (the secret key changed) reads as a revoked link."""

    def __init__(
        self,
        *,
        engine: Engine,
        user: UserId,
        box: TokenBox,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._user = user
        self._box = box
        self._clock = clock

    def get_cached_token(self) -> dict[str, Any]:
        with self._engine.connect() as conn:
            link = repo.get_link(conn=conn, user=self._user)
        if link is None:
            raise NotLinked("no Spotify account is linked")
        if link.token is None:
            raise LinkRevoked("the Spotify link is broken; link again")
        try:
            return self._box.open(link.token)
        except UnreadableToken as exc:
            raise LinkRevoked(str(exc)) from None

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        with self._engine.begin() as conn:
            repo.set_token(
                conn=conn, user=self._user, token=self._box.seal(token_info), now=self._clock()
            )
