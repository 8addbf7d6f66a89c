"""What every part of the Spotify service stands on: its construction, one user's client at a
time (a revoked token marks the link broken; adapter errors become ``SpotifyServiceError``s)
and the retry loop that waits out short Retry-Afters and outages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from spotify.api import (
    Forbidden,
    LinkRevoked,
    NotLinked,
    RateLimited,
    SpotifyApi,
    SpotifyError,
    Unavailable,
)
from spotify.auth import DbTokenCache, SpotifyConfig
from spotify.push import Playability
from storage import spotify as repo
from wavelength.spotify_service._types import (
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

    from spotify.crypto import TokenBox
    from wavelength.domain import UserId

T = TypeVar("T")
Clock = Callable[[], datetime]
Connector = Callable[[SpotifyConfig, Any], SpotifyApi]  # (config, spotipy CacheHandler)
Exchanger = Callable[[SpotifyConfig, str], tuple[dict[str, Any], Any]]  # code -> token, Profile


class SpotifyCore:
    def __init__(
        self,
        *,
        engine: Engine,
        config: SpotifyConfig | None,
        box: TokenBox,
        stations: StationMaker | None = None,
        connect: Connector | None = None,
        exchange: Exchanger | None = None,
        clock: Clock = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 30.0,
        max_attempts: int = 6,
        saved_limit: int = 2000,
    ) -> None:
        from spotify import spotipy_api  # the real client only where no other is given

        self._engine = engine
        self._config = config
        self._box = box
        self._stations = stations
        self._connect = connect or spotipy_api.connect
        self._exchange = exchange or spotipy_api.exchange_code
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        self._max_attempts = max_attempts
        self._saved_limit = saved_limit
        self._playable = Playability(clock)
        self._locks: dict[UserId, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _require_config(self) -> SpotifyConfig:
        if self._config is None:
            raise SpotifyNotConfigured
        return self._config

    # -- one user's client --------------------------------------------------------------------

    def _user_lock(self, user: UserId) -> threading.Lock:
        # One call at a time per user: two concurrent token refreshes would rotate the refresh
        # token under each other and read as a revoked link.
        with self._locks_guard:
            return self._locks.setdefault(user, threading.Lock())

    @contextmanager
    def _client(self, user: UserId) -> Iterator[tuple[SpotifyApi, str]]:
        """The user's client and Spotify id; a revoked token marks the link broken."""
        config = self._require_config()
        with self._engine.connect() as conn:
            link = repo.get_link(conn=conn, user=user)
        if link is None:
            raise SpotifyNotLinked
        if link.token is None:
            raise SpotifyLinkBroken
        cache = DbTokenCache(engine=self._engine, user=user, box=self._box, clock=self._clock)
        api = self._connect(config, cache)
        try:
            yield api, link.spotify_id
        except LinkRevoked:
            with self._engine.begin() as conn:
                repo.mark_broken(conn=conn, user=user, now=self._clock())
            raise SpotifyLinkBroken from None
        except NotLinked:
            raise SpotifyNotLinked from None
        except Forbidden as exc:
            raise SpotifyServiceError(f"Spotify refused: {exc}") from None
        # Calls are retried inside; these are a safety net so no adapter error leaks out.
        except RateLimited as exc:
            raise TryAgainLater(self._clock() + timedelta(seconds=exc.retry_after)) from None
        except Unavailable:
            raise SpotifyUnavailable("Spotify isn't answering properly; try again later.") from None
        except SpotifyError as exc:
            raise SpotifyServiceError(f"Spotify rejected a request ({exc}).") from None
        finally:
            api.close()

    def _retrying(
        self, work: Callable[[int], T], *, later: Callable[[datetime], None] | None = None
    ) -> T:
        """``work(attempt)`` until it succeeds: short Retry-Afters and outages are waited out
        (within ``max_wait`` per wait and twice that in all); longer ones raise
        ``TryAgainLater`` after ``later(at)`` has recorded when."""
        waited, failures, attempt = 0.0, 0, 0
        while True:
            try:
                return work(attempt)
            except RateLimited as exc:
                pause = exc.retry_after
                if pause > self._max_wait or waited + pause > 2 * self._max_wait:
                    at = self._clock() + timedelta(seconds=pause)
                    if later is not None:
                        later(at)
                    raise TryAgainLater(at) from None
            except Unavailable as exc:
                failures += 1
                if failures >= self._max_attempts:
                    raise SpotifyUnavailable(
                        f"Spotify isn't answering properly ({exc}); I'll try again later."
                    ) from None
                pause = min(0.5 * 2 ** (failures - 1), self._max_wait)
            self._sleep(pause)
            waited += pause
            attempt += 1
