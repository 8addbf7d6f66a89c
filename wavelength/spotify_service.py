"""Spotify for Wavelength: link an account, import what someone listens to, and keep one
playlist per purpose ("daily picks", a station) up to date in place.

Sync methods, called from worker threads (the chat engine, the scheduler). Errors a listener
should see are ``SpotifyServiceError`` subclasses whose message can be shown as it is.

Pushes are idempotent: the intended contents are written to the database before Spotify is
called, and a push cut short anywhere (a crash, a 429 storm, 500s, a timeout after Spotify
applied the change) is finished by reading the playlist and appending what is missing, or
replacing it when it holds anything but a prefix of what it should. Nothing is replayed
blindly, so nothing is added twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlencode

from spotify.api import (
    SCOPES,
    BadRequest,
    ConfigError,
    Forbidden,
    LinkRevoked,
    NotLinked,
    RateLimited,
    SpotifyApi,
    SpotifyError,
    Unavailable,
    playlist_url,
)
from spotify.auth import (
    STATE_TTL,
    DbTokenCache,
    SpotifyConfig,
    new_state,
    parse_redirect,
    state_hash,
)
from spotify.library import RADIO_PREFIX, Library, radio_tracks, read_library, save_history
from spotify.plan import MAX_DESCRIPTION, MAX_NAME, clip, unique
from spotify.push import Outcome, Playability, PlaylistWriter
from storage import spotify as repo
from wavelength.domain import PlaylistId, TrackId, UserId
from wavelength.ids import spotify_uri

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from spotify.crypto import TokenBox
    from wavelength.domain import Station, StationId
    from wavelength.settings import Settings

T = TypeVar("T")
Clock = Callable[[], datetime]
Connector = Callable[[SpotifyConfig, Any], SpotifyApi]  # (config, spotipy CacheHandler)
Exchanger = Callable[[SpotifyConfig, str], tuple[dict[str, Any], Any]]  # code -> token, Profile


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


class SpotifyService:
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

    # -- linking ------------------------------------------------------------------------------

    def _require_config(self) -> SpotifyConfig:
        if self._config is None:
            raise SpotifyNotConfigured
        return self._config

    def authorize_url(self, user: UserId) -> str:
        """Spotify's consent page for ``user``; its one-time state lasts ten minutes."""
        config = self._require_config()
        state, now = new_state(), self._clock()
        with self._engine.begin() as conn:
            repo.put_state(
                conn=conn, state_hash=state_hash(state), user=user, expires_at=now + STATE_TTL,
                now=now,
            )  # fmt: skip
        query = {
            "client_id": config.client_id,
            "response_type": "code",
            "redirect_uri": config.redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
            "show_dialog": "true",  # lets someone pick the right account on a shared browser
        }
        return f"{config.authorize_url}?{urlencode(query)}"

    def complete(self, state: str | None, code: str | None, error: str | None = None) -> LinkResult:
        """Finish a link from the callback's query parameters."""
        return self._complete(state, code, error, expected=None)

    def complete_pasted(self, user: UserId, url: str) -> LinkResult:
        """Finish a link from the address the browser was sent to, pasted in chat (for
        installations without a public callback URL)."""
        redirect = parse_redirect(url)
        if not redirect.state or not (redirect.code or redirect.error):
            return LinkResult(
                user, False,
                "That isn't the address Spotify sent you to. After you agree on Spotify's page, "
                "copy the whole address from the browser bar (it contains code=...) and send it.",
            )  # fmt: skip
        return self._complete(redirect.state, redirect.code, redirect.error, expected=user)

    def _complete(
        self, state: str | None, code: str | None, error: str | None, *, expected: UserId | None
    ) -> LinkResult:
        config = self._require_config()
        now = self._clock()
        with self._engine.begin() as conn:
            taken = repo.take_state(conn=conn, state_hash=state_hash(state or ""), now=now)
        again = "Send /link for a fresh link."
        if taken is None:
            return LinkResult(expected, False, f"This link is unknown or was used already. {again}")
        user, live = taken
        if expected is not None and user != expected:
            # Someone else's link: spent, so the code in it can't be used by anyone now.
            return LinkResult(expected, False, f"That link was made for someone else. {again}")
        if not live:
            return LinkResult(user, False, f"That link expired (links last 10 minutes). {again}")
        if error or not code:
            return LinkResult(user, False, f"Spotify says you didn't agree ({error}). {again}")
        try:
            token, profile = self._exchange(config, code)
        except LinkRevoked:
            return LinkResult(user, False, f"Spotify didn't accept that code. {again}")
        except Forbidden:
            return LinkResult(
                user, False,
                "Spotify refused: this app is in Development Mode and your account is not on its "
                "user list (at most 5 people). Ask whoever runs this Wavelength to add you.",
            )  # fmt: skip
        except (Unavailable, RateLimited, ConfigError, BadRequest) as exc:
            return LinkResult(user, False, f"Spotify couldn't be reached ({exc}). {again}")
        with self._engine.begin() as conn:
            try:
                repo.save_link(
                    conn=conn, user=user, spotify_id=profile.id, display_name=profile.display_name,
                    token=self._box.seal(token), now=now,
                )  # fmt: skip
            except repo.SpotifyAccountTaken:
                return LinkResult(
                    user, False, "That Spotify account is linked to another Wavelength user."
                )
        name = profile.display_name or profile.id
        return LinkResult(user, True, f"Linked to Spotify as {name}.", name)

    def unlink(self, user: UserId) -> bool:
        """Forget the token and the playlists kept; returns whether there was a link."""
        with self._user_lock(user), self._engine.begin() as conn:
            return repo.delete_link(conn=conn, user=user)

    def status(self, user: UserId) -> LinkStatus:
        with self._engine.connect() as conn:
            link = repo.get_link(conn=conn, user=user)
            pushes = repo.pushes_of(conn=conn, user=user) if link else []
        if link is None:
            return LinkStatus(linked=False, broken=False)
        return LinkStatus(
            linked=link.token is not None,
            broken=link.token is None,
            display_name=link.display_name,
            spotify_id=link.spotify_id,
            playlists=tuple(
                PlaylistStatus(
                    purpose=p.purpose,
                    url=playlist_url(p.playlist_id) if p.playlist_id else None,
                    done=p.state == repo.DONE,
                    tracks=len(p.uris),
                )
                for p in pushes
            ),
        )

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

    # -- pushing ------------------------------------------------------------------------------

    def push(
        self,
        user: UserId,
        purpose: str,
        name: str,
        description: str,
        track_ids: Sequence[TrackId],
    ) -> PushReport:
        """Make the user's playlist for ``purpose`` hold ``track_ids``, in order, in place."""
        if not purpose or len(purpose) > 40:
            raise ValueError("purpose must be 1-40 characters")
        name, description = clip(name, MAX_NAME) or "Wavelength", clip(description, MAX_DESCRIPTION)
        with self._user_lock(user), self._client(user) as (api, me):
            writer = self._writer(api, user, me)
            try:
                resolved = self._retrying(lambda _attempt: writer.resolve(track_ids))
            except (TryAgainLater, SpotifyUnavailable):
                # Matching failed before anything was recorded: record the tracks that are
                # Spotify URIs already, so the scheduled resume still makes the playlist (its
                # playability unchecked) instead of it never appearing.
                direct = [
                    spotify_uri(t, "track") for t in track_ids if t.startswith("spotify:track:")
                ]
                with self._engine.begin() as conn:
                    repo.plan_push(
                        conn=conn, user=user, purpose=purpose, name=name,
                        description=description, uris=unique([u for u in direct if u]),
                        now=self._clock(),
                    )  # fmt: skip
                raise
            now = self._clock()
            with self._engine.begin() as conn:
                before = repo.get_push(conn=conn, user=user, purpose=purpose)
                repo.plan_push(
                    conn=conn, user=user, purpose=purpose, name=name, description=description,
                    uris=resolved.uris, now=now,
                )  # fmt: skip
            resumed = before is not None and before.state != repo.DONE
            report = self._finish(writer, user, purpose, careful=resumed)
        return replace(
            report,
            unmatched=resolved.unmatched,
            unplayable=resolved.unplayable,
            resumed=resumed,
        )

    def resume(self, user: UserId, purpose: str) -> PushReport:
        """Finish the recorded push for (user, purpose): after a restart or ``TryAgainLater``."""
        with self._user_lock(user), self._client(user) as (api, me):
            with self._engine.connect() as conn:
                record = repo.get_push(conn=conn, user=user, purpose=purpose)
            if record is None:
                raise SpotifyServiceError("There is no playlist to update.")
            writer = self._writer(api, user, me)
            return replace(self._finish(writer, user, purpose, careful=True), resumed=True)

    def linked_users(self) -> list[UserId]:
        with self._engine.connect() as conn:
            return repo.linked_users(conn=conn)

    def unfinished(self) -> list[tuple[UserId, str, datetime | None]]:
        """(user, purpose, retry_at) of every push not confirmed done, for the scheduler."""
        with self._engine.connect() as conn:
            return [(p.user, p.purpose, p.retry_at) for p in repo.unfinished_pushes(conn=conn)]

    def _writer(self, api: SpotifyApi, user: UserId, me: str) -> PlaylistWriter:
        return PlaylistWriter(
            engine=self._engine, api=api, user=user, me=me, playability=self._playable,
            clock=self._clock,
        )  # fmt: skip

    def _finish(
        self, writer: PlaylistWriter, user: UserId, purpose: str, *, careful: bool
    ) -> PushReport:
        outcome = Outcome()
        attempts = 0

        def work(attempt: int) -> tuple[str, int]:
            nonlocal attempts
            attempts = attempt + 1
            return writer.sync(purpose, outcome, careful=careful or attempt > 0)

        def later(at: datetime) -> None:
            with self._engine.begin() as conn:
                repo.set_push_retry(
                    conn=conn, user=user, purpose=purpose, retry_at=at, now=self._clock()
                )

        playlist_id, tracks = self._retrying(work, later=later)
        return PushReport(
            purpose=purpose,
            playlist_id=playlist_id,
            tracks=tracks,
            created=outcome.created,
            recreated=outcome.recreated,
            attempts=attempts,
        )

    # -- importing ----------------------------------------------------------------------------

    def import_library(
        self, user: UserId, *, progress: Callable[[str], None] = lambda _m: None
    ) -> ImportReport:
        """Recently played, top and liked tracks into the listening history; playlists named
        "radio: <name>" become stations (once each). Safe to run again."""

        def read(call: Callable[[], T]) -> T:
            return self._retrying(lambda _attempt: call())

        with self._user_lock(user), self._client(user) as (api, _me):
            found = read_library(api, read, saved_limit=self._saved_limit, progress=progress)
        progress("Saving your history…")
        today = self._clock().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        with self._engine.begin() as conn:
            stored = save_history(conn=conn, user=user, library=found, today=today)
        made = self._radio_stations(user, found, stored.ids, progress)
        return ImportReport(
            recently_played=len(found.recent),
            top=len(found.top),
            saved=len(found.saved),
            playlists=len(found.playlists),
            events_added=stored.events_added,
            tracks_added=stored.tracks_added,
            stations=made,
        )

    def _radio_stations(
        self,
        user: UserId,
        found: Library,
        ids: dict[TrackId, TrackId],
        progress: Callable[[str], None],
    ) -> tuple[str, ...]:
        if self._stations is None or not found.radio:
            return ()
        existing, _active = self._stations.stations(user)
        seeded = {s.seed_playlist for s in existing}
        made = []
        for p in found.playlists:
            tracks = radio_tracks(found.radio.get(p.id, []), ids)
            pid = PlaylistId(f"spotify:playlist:{p.id}")
            if p.id not in found.radio or pid in seeded or not tracks:
                continue
            progress(f"Making a station from “{p.name}”…")
            # StationService strips a lower-case "radio:"; Spotify names may say "Radio:".
            title = RADIO_PREFIX + p.name[len(RADIO_PREFIX) :]
            self._stations.from_playlist(user, pid, title, tracks)
            seeded.add(pid)
            made.append(title[len(RADIO_PREFIX) :].strip() or p.name)
        return tuple(made)


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
