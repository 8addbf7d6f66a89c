"""The real ``SpotifyApi``: spotipy's client code path, with our own limits.

spotipy's default session retries 429 and 5xx inside urllib3, sleeping for whatever
Retry-After says (hours, at worst) and replaying POSTs whose first attempt may have landed.
Here urllib3 retries only connections that never reached Spotify; every HTTP status comes
back to us as a typed error, and the caller decides whether to wait, resume or reschedule.

Paths follow the 2026 Web API: ``POST /me/playlists`` and ``/playlists/{id}/items``, never
``/users/{id}/playlists`` or ``/playlists/{id}/tracks`` (403 for Development Mode apps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import requests
import spotipy  # type: ignore[import-untyped]
from spotipy.cache_handler import CacheHandler, MemoryCacheHandler  # type: ignore[import-untyped]
from spotipy.exceptions import SpotifyException, SpotifyOauthError  # type: ignore[import-untyped]
from urllib3.util.retry import Retry

from spotify.api import (
    MAX_PAGE,
    MAX_SEARCH_PAGE,
    SCOPES,
    BadRequest,
    ConfigError,
    Forbidden,
    LinkRevoked,
    NotFound,
    NotLinked,
    Played,
    PlaylistInfo,
    Profile,
    RateLimited,
    Saved,
    SpotifyError,
    SpotifyTrack,
    Unavailable,
    check_batch,
)
from spotify.auth import SpotifyConfig
from spotify.redact import install_redaction
from wavelength.telemetry import TELEMETRY

T = TypeVar("T")
_DEFAULT_RETRY_AFTER = 5.0  # a 429 without Retry-After (Spotify always sends one)


def _session() -> requests.Session:
    session = requests.Session()
    # Connection errors only: the request never reached Spotify, so a retry can't double it.
    retry = Retry(
        total=2,
        connect=2,
        read=False,
        status=0,
        other=0,
        backoff_factor=0.2,
        status_forcelist=(),
        respect_retry_after_header=False,  # else urllib3 sleeps on any 429 with Retry-After
        allowed_methods=None,
    )
    adapter = requests.adapters.HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _ServerOAuth(spotipy.SpotifyOAuth):  # type: ignore[misc]
    """SpotifyOAuth pointed at ``config.accounts_url`` that never prompts on a terminal."""

    def __init__(self, config: SpotifyConfig, cache: CacheHandler, session: requests.Session):
        super().__init__(
            client_id=config.client_id,
            client_secret=config.client_secret,
            redirect_uri=config.redirect_uri,
            scope=list(SCOPES),
            cache_handler=cache,
            requests_session=session,
            requests_timeout=(config.connect_timeout, config.read_timeout),
            open_browser=False,
        )
        self.OAUTH_AUTHORIZE_URL = config.authorize_url
        self.OAUTH_TOKEN_URL = config.token_url

    def get_auth_response(self, open_browser: bool | None = None) -> str:
        # spotipy falls back to an interactive prompt when the cached token lacks a scope.
        raise NotLinked("the stored Spotify token does not cover what Wavelength needs; link again")


def _oauth_error(exc: SpotifyOauthError) -> SpotifyError:
    if exc.error == "invalid_grant":
        return LinkRevoked("Spotify refused the token (access revoked or code used)")
    if exc.error == "invalid_client":
        return ConfigError("Spotify rejected the app's client id or secret")
    return Unavailable("Spotify's accounts service failed")


def _api_error(exc: SpotifyException) -> SpotifyError:
    status = exc.http_status
    if status == 429:
        header = (exc.headers or {}).get("Retry-After")
        try:
            wait = float(header) if header is not None else _DEFAULT_RETRY_AFTER
        except ValueError:
            wait = _DEFAULT_RETRY_AFTER
        TELEMETRY.rate_limited()
        return RateLimited(max(wait, 0.0))
    if status is not None and status >= 500:
        return Unavailable(f"Spotify answered {status}")
    if status == 404:
        return NotFound(str(exc.msg))
    if status == 403:
        return Forbidden(str(exc.msg))
    if status == 401:
        return LinkRevoked("Spotify no longer accepts the token")
    return BadRequest(f"Spotify answered {status}: {exc.msg}")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _track(obj: dict[str, Any] | None) -> SpotifyTrack | None:
    if not obj or obj.get("type", "track") != "track":
        return None  # episodes, and slots whose track Spotify no longer has
    album = obj.get("album") or {}
    released = str(album.get("release_date") or "")[:4]
    return SpotifyTrack(
        uri=str(obj.get("uri") or ""),
        name=str(obj.get("name") or ""),
        artists=tuple(str(a.get("name") or "") for a in obj.get("artists") or ()),
        artist_uris=tuple(str(a.get("uri") or "") for a in obj.get("artists") or ()),
        album=album.get("name"),
        album_uri=album.get("uri"),
        year=int(released) if released.isdigit() else None,
        duration_ms=obj.get("duration_ms"),
        explicit=obj.get("explicit"),
        playable=obj.get("is_playable"),
    )


def _playlist(obj: dict[str, Any]) -> PlaylistInfo:
    # 2026 responses call the item summary "items"; older ones "tracks".
    summary = obj.get("items") or obj.get("tracks") or {}
    return PlaylistInfo(
        id=str(obj["id"]),
        name=str(obj.get("name") or ""),
        description=str(obj.get("description") or ""),
        owner=str((obj.get("owner") or {}).get("id") or ""),
        total=int(summary.get("total") or 0),
        public=obj.get("public"),
        snapshot_id=obj.get("snapshot_id"),
    )


class SpotipyApi:
    """``SpotifyApi`` for one user, whose token lives in ``cache``. Close it when done."""

    def __init__(self, config: SpotifyConfig, cache: CacheHandler) -> None:
        install_redaction()
        self._cache = cache
        self._session = _session()
        self._oauth = _ServerOAuth(config, cache, self._session)
        self._sp = spotipy.Spotify(
            auth_manager=self._oauth,
            requests_session=self._session,
            requests_timeout=(config.connect_timeout, config.read_timeout),
            retries=0,
            status_retries=0,
        )
        self._sp.prefix = config.api_url.rstrip("/") + "/"

    def __enter__(self) -> SpotipyApi:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # -- calls --------------------------------------------------------------------------------

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn`` with errors mapped; one forced refresh when Spotify says the token is dead
        before our clock does (a 401 was never applied, so repeating the call is safe)."""
        for attempt in range(2):
            try:
                return fn(*args, **kwargs)
            except SpotifyOauthError as exc:
                raise _oauth_error(exc) from None
            except SpotifyException as exc:
                if exc.http_status == 401 and attempt == 0:
                    self._refresh()
                    continue
                raise _api_error(exc) from None
            except requests.RequestException as exc:
                raise Unavailable(f"no answer from Spotify ({type(exc).__name__})") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _refresh(self) -> None:
        token = self._cache.get_cached_token()
        if not token or not token.get("refresh_token"):
            raise LinkRevoked("no refresh token")
        try:
            self._oauth.refresh_access_token(token["refresh_token"])
        except SpotifyOauthError as exc:
            raise _oauth_error(exc) from None
        except requests.RequestException as exc:
            raise Unavailable(f"no answer from Spotify ({type(exc).__name__})") from None

    def exchange(self, code: str) -> None:
        """Trade an authorization code for a token, saved to this client's cache."""
        try:
            self._oauth.get_access_token(code, as_dict=False, check_cache=False)
        except SpotifyOauthError as exc:
            raise _oauth_error(exc) from None
        except requests.RequestException as exc:
            raise Unavailable(f"no answer from Spotify ({type(exc).__name__})") from None

    def _items(self, first: dict[str, Any], limit: int) -> Iterator[dict[str, Any]]:
        """Items across pages (the ``next`` URL, offset or cursor alike) up to ``limit``."""
        page: dict[str, Any] | None = first
        seen = 0
        while page:
            for item in page.get("items") or ():
                yield item
                seen += 1
                if seen >= limit:
                    return
            if not page.get("next"):
                return
            page = self._call(self._sp.next, page)

    # -- SpotifyApi ---------------------------------------------------------------------------

    def profile(self) -> Profile:
        me = self._call(self._sp.current_user)
        return Profile(id=str(me["id"]), display_name=me.get("display_name"))

    def recently_played(self, *, limit: int = MAX_PAGE) -> list[Played]:
        first = self._call(self._sp.current_user_recently_played, limit=min(limit, MAX_PAGE))
        out = []
        for item in self._items(first, limit):
            track = _track(item.get("track"))
            if track is not None and item.get("played_at"):
                out.append(Played(track=track, at=_time(item["played_at"])))
        return out

    def top_tracks(self, *, time_range: str, limit: int = MAX_PAGE) -> list[SpotifyTrack]:
        first = self._call(
            self._sp.current_user_top_tracks, limit=min(limit, MAX_PAGE), time_range=time_range
        )
        return [t for t in map(_track, self._items(first, limit)) if t is not None]

    def saved_tracks(self, *, limit: int) -> list[Saved]:
        first = self._call(self._sp.current_user_saved_tracks, limit=min(limit, MAX_PAGE))
        out = []
        for item in self._items(first, limit):
            track = _track(item.get("track"))
            if track is not None and item.get("added_at"):
                out.append(Saved(track=track, added_at=_time(item["added_at"])))
        return out

    def playlists(self) -> list[PlaylistInfo]:
        first = self._call(self._sp.current_user_playlists, limit=MAX_PAGE)
        return [_playlist(p) for p in self._items(first, 100_000) if p]

    def playlist(self, playlist_id: str) -> PlaylistInfo:
        # Only the summary fields: the first page of items is not needed here.
        fields = "id,name,description,owner(id),public,snapshot_id,items(total),tracks(total)"
        return _playlist(self._call(self._sp.playlist, playlist_id, fields=fields))

    def create_playlist(self, *, name: str, description: str) -> PlaylistInfo:
        created = self._call(
            self._sp.current_user_playlist_create,
            name,
            public=False,
            collaborative=False,
            description=description,
        )
        return _playlist(created)

    def change_details(self, playlist_id: str, *, name: str, description: str) -> None:
        self._call(
            self._sp.playlist_change_details, playlist_id, name=name, description=description
        )

    def playlist_items(self, playlist_id: str) -> list[SpotifyTrack]:
        # No market: with one, Spotify relinks tracks and the URIs would not be the ones added.
        first = self._call(
            self._sp.playlist_items, playlist_id, limit=MAX_PAGE, additional_types=("track",)
        )
        out = []
        for element in self._items(first, 100_000):
            # 2026 responses name the entry "item"; "track" is the deprecated duplicate.
            track = _track(element.get("item") or element.get("track"))
            out.append(track or SpotifyTrack(uri="", name="", artists=()))  # keeps positions
        return out

    def replace_items(self, playlist_id: str, uris: Sequence[str]) -> str:
        result = self._call(self._sp.playlist_replace_items, playlist_id, check_batch(uris))
        return str((result or {}).get("snapshot_id") or "")

    def add_items(self, playlist_id: str, uris: Sequence[str]) -> str:
        # The documented body ({"uris": [...]}); spotipy's playlist_add_items posts a bare list.
        result = self._call(
            self._sp._post, f"playlists/{playlist_id}/items", payload={"uris": check_batch(uris)}
        )
        return str((result or {}).get("snapshot_id") or "")

    def remove_items(self, playlist_id: str, uris: Sequence[str]) -> str:
        result = self._call(
            self._sp.playlist_remove_all_occurrences_of_items, playlist_id, check_batch(uris)
        )
        return str((result or {}).get("snapshot_id") or "")

    def search_tracks(self, *, title: str, artist: str, limit: int = 5) -> list[SpotifyTrack]:
        def quoted(text: str) -> str:
            return '"' + text.replace('"', " ").strip() + '"'

        result = self._call(
            self._sp.search,
            f"track:{quoted(title)} artist:{quoted(artist)}",
            limit=min(limit, MAX_SEARCH_PAGE),
            type="track",
            market="from_token",
        )
        items = ((result or {}).get("tracks") or {}).get("items") or ()
        return [t for t in map(_track, items) if t is not None]

    def track(self, uri: str) -> SpotifyTrack:
        found = _track(self._call(self._sp.track, uri, market="from_token"))
        if found is None:
            raise NotFound(f"no track {uri}")
        return found


def connect(config: SpotifyConfig, cache: CacheHandler) -> SpotipyApi:
    """The default connector the service uses: a client for the user behind ``cache``."""
    return SpotipyApi(config, cache)


def exchange_code(config: SpotifyConfig, code: str) -> tuple[dict[str, Any], Profile]:
    """Trade an authorization code for a token and read whose account it opens."""
    cache = MemoryCacheHandler()
    with SpotipyApi(config, cache) as api:
        api.exchange(code)
        profile = api.profile()
    token = cache.get_cached_token()
    if not token:
        raise LinkRevoked("Spotify returned no token")
    return token, profile
