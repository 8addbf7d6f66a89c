"""A local fake of Spotify: the accounts service (OAuth) and the Web API calls Wavelength
makes, on 127.0.0.1, with the 2026 Development Mode rules and request/response shapes.

What it models (tests/spotify/test_contract.py holds it to the documented behaviour):
- ``GET /authorize`` (consent simulated for the "logged-in" user) and ``POST /api/token``
  (authorization_code and refresh_token grants, HTTP Basic client credentials, refresh
  token rotation, ``invalid_grant`` once revoked);
- ``/v1``: ``/me``, recently played (cursor paging), top tracks, saved tracks and playlists
  (offset paging with ``next`` URLs), ``POST /me/playlists``, playlist details, playlist
  items (``item`` plus the deprecated ``track``; add/replace/remove at most 100 URIs),
  search (at most 10 per page), single tracks with ``is_playable`` for a market;
- what Development Mode refuses: 403 on ``/users/{id}/playlists``, ``/playlists/{id}/tracks``
  and the batch ``/tracks?ids=``; an allow-list of at most five users;
- Spotify's error bodies, bearer tokens and scopes checked on every call;
- faults per call or every N calls: 429 with Retry-After, 500/502/503 (before or after the
  change is applied), slow answers (decided and applied at once, delivered late), revoked
  tokens, expired tokens, deleted or unfollowed playlists.

State is plain Python objects that tests read and change directly.
"""

from __future__ import annotations

import base64
import html
import http.client
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from wavelength.ids import normalize_name

BASE62 = string.digits + string.ascii_letters
_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_TRACK_URI = re.compile(r"^spotify:track:([0-9A-Za-z]{22})$")
TOP_RANGES = ("short_term", "medium_term", "long_term")
CODE_TTL = 600.0  # seconds an authorization code stays good


def new_id() -> str:
    return "".join(secrets.choice(BASE62) for _ in range(22))


@dataclass
class FakeTrack:
    id: str
    name: str
    artists: list[tuple[str, str]]  # (id, name)
    album_id: str
    album_name: str
    release_date: str
    duration_ms: int = 200_000
    explicit: bool = False
    markets: frozenset[str] | None = None  # None: playable everywhere

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.id}"


@dataclass
class FakeUser:
    id: str
    display_name: str | None
    market: str = "DE"
    recent: list[tuple[str, datetime]] = field(default_factory=list)  # (track id, played at)
    top: dict[str, list[str]] = field(default_factory=dict)  # time range -> track ids
    saved: list[tuple[str, datetime]] = field(default_factory=list)  # (track id, added at)


@dataclass
class FakePlaylist:
    id: str
    owner: str
    name: str
    description: str
    public: bool
    collaborative: bool = False
    items: list[tuple[str, datetime, str]] = field(default_factory=list)  # uri, added, by
    version: int = 1
    deleted: bool = False

    @property
    def snapshot_id(self) -> str:
        return base64.urlsafe_b64encode(f"{self.version},{self.id}".encode()).decode()

    @property
    def uris(self) -> list[str]:
        return [uri for uri, _at, _by in self.items]


@dataclass
class Fault:
    """Answer matching requests with ``status`` (0: the normal answer) after ``delay`` s.

    ``after_apply``: the change is made first (Spotify committed, then the answer failed).
    ``times``: how many hits before the fault retires (None: until cleared); ``every``: hit
    only every Nth matching request."""

    status: int = 503
    method: str | None = None
    path: str | None = None  # a regex searched in the request path
    times: int | None = 1
    every: int = 1
    retry_after: int | None = None
    delay: float = 0.0
    after_apply: bool = False
    seen: int = 0


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int


@dataclass
class _Token:
    user: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class _Code:
    user: str
    scopes: frozenset[str]
    redirect_uri: str
    expires_at: float
    used: bool = False


@dataclass
class _Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _json(status: int, obj: Any, headers: dict[str, str] | None = None) -> _Answer:
    return _Answer(
        status,
        json.dumps(obj).encode(),
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> _Answer:
    # Spotify's Web API error object.
    return _json(status, {"error": {"status": status, "message": message}}, headers)


def _oauth_error(error: str, description: str, status: int = 400) -> _Answer:
    # The accounts service answers in OAuth 2.0's own shape.
    return _json(status, {"error": error, "error_description": description})


class FakeSpotify:
    """Start with ``with FakeSpotify() as fake:``; point the client at ``api_url`` and
    ``accounts_url``."""

    def __init__(
        self,
        *,
        client_id: str = "wavelength-test-client",
        client_secret: str = "fake-client-secret-0123456789",  # noqa: S107 (the fake's own)
        redirect_uris: tuple[str, ...] = ("http://127.0.0.1:8888/spotify/callback",),
        token_ttl: int = 3600,
        rotate_refresh_tokens: bool = True,
        dev_mode: bool = True,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uris = set(redirect_uris)
        self.token_ttl = token_ttl
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.dev_mode = dev_mode
        self.allowlist: set[str] | None = None  # Development Mode's user list (None: anyone)
        self.users: dict[str, FakeUser] = {}
        self.tracks: dict[str, FakeTrack] = {}
        self.playlists: dict[str, FakePlaylist] = {}
        self.follows: dict[str, list[str]] = {}  # user -> playlist ids, newest first
        # Followed playlists /me/playlists doesn't list yet (a listing lagging a create).
        self.unlisted: set[str] = set()
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.chaos: Callable[[str, str], Fault | None] | None = None
        self.browser_user: str | None = None  # who is "logged in" at /authorize
        self.deny_consent = False
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self._codes: dict[str, _Code] = {}
        self._offset = 0.0
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeSpotify:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for it, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes slow answers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSpotify:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/v1/"

    @property
    def accounts_url(self) -> str:
        return self.base_url

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (token and code expiry) forward."""
        self._offset += seconds

    # -- the world ----------------------------------------------------------------------------

    def add_user(
        self, user_id: str, display_name: str | None = None, market: str = "DE"
    ) -> FakeUser:
        with self._lock:
            user = FakeUser(user_id, display_name if display_name is not None else user_id, market)
            self.users[user_id] = user
            self.follows.setdefault(user_id, [])
            return user

    def add_track(
        self,
        name: str,
        artist: str,
        *,
        album: str | None = None,
        year: int = 2001,
        markets: frozenset[str] | None = None,
        explicit: bool = False,
        track_id: str | None = None,
    ) -> str:
        """A catalog track; returns its URI."""
        with self._lock:
            artist_id = next(
                (a for t in self.tracks.values() for a, n in t.artists if n == artist), new_id()
            )
            track = FakeTrack(
                id=track_id or new_id(),
                name=name,
                artists=[(artist_id, artist)],
                album_id=new_id(),
                album_name=album or f"{name} (single)",
                release_date=f"{year}-05-01",
                explicit=explicit,
                markets=markets,
            )
            self.tracks[track.id] = track
            return track.uri

    def add_playlist(
        self, owner: str, name: str, uris: list[str] | tuple[str, ...] = (), *, public: bool = False
    ) -> str:
        with self._lock:
            pid = new_id()
            now = datetime.fromtimestamp(self.now(), UTC)
            self.playlists[pid] = FakePlaylist(
                pid, owner, name, "", public, items=[(u, now, owner) for u in uris]
            )
            self.follows.setdefault(owner, []).insert(0, pid)
            return pid

    def delete_playlist(self, playlist_id: str) -> None:
        """Gone for good: 404 on every call."""
        with self._lock:
            self.playlists[playlist_id].deleted = True
            for followed in self.follows.values():
                if playlist_id in followed:
                    followed.remove(playlist_id)

    def unfollow(self, user_id: str, playlist_id: str) -> None:
        """What "delete" in Spotify's apps does: off the user's list, still served by id."""
        with self._lock:
            self.follows[user_id].remove(playlist_id)

    def uris(self, playlist_id: str) -> list[str]:
        with self._lock:
            return self.playlists[playlist_id].uris

    def owned(self, user_id: str) -> list[FakePlaylist]:
        """Playlists the user owns and still has (not deleted, not unfollowed)."""
        with self._lock:
            return [
                self.playlists[p]
                for p in self.follows.get(user_id, [])
                if self.playlists[p].owner == user_id
            ]

    # -- auth controls ------------------------------------------------------------------------

    def revoke(self, user_id: str) -> None:
        """The user removed the app at spotify.com/account/apps: every token dies."""
        with self._lock:
            for tokens in (self._access, self._refresh):
                for key in [k for k, t in tokens.items() if t.user == user_id]:
                    del tokens[key]

    def expire_access_tokens(self) -> None:
        """Access tokens die early (Spotify may end them before expires_in says)."""
        with self._lock:
            for token in self._access.values():
                token.expires_at = 0.0

    def consent(self, authorize_url: str, user: str, *, deny: bool = False) -> str:
        """Open the consent page as ``user`` and agree (or not); returns the redirect URL.
        Plain http.client, so no logger ever sees the code."""
        self.browser_user, self.deny_consent = user, deny
        parts = urlsplit(authorize_url)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
        try:
            conn.request("GET", f"{parts.path}?{parts.query}")
            response = conn.getresponse()
            response.read()
            location = response.getheader("Location")
        finally:
            conn.close()
        if response.status != 303 or not location:
            raise AssertionError(f"consent page answered {response.status}")
        return location

    # -- faults -------------------------------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
            return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()
            self.chaos = None

    def _fault_for(self, method: str, path: str) -> Fault | None:
        for fault in list(self.faults):
            if fault.method and fault.method != method:
                continue
            if fault.path and not re.search(fault.path, path):
                continue
            fault.seen += 1
            if fault.seen % fault.every:
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            return fault
        return self.chaos(method, path) if self.chaos else None

    # -- serving ------------------------------------------------------------------------------

    def serve(self, method: str, target: str, headers: Any, body: bytes) -> tuple[_Answer, float]:
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            fault = self._fault_for(method, path)
            if fault is not None and fault.status and not fault.after_apply:
                answer = self._fault_answer(fault)
            else:
                answer = self._route(method, path, query, headers, body)
                if fault is not None and fault.status:
                    answer = self._fault_answer(fault)
            self.calls.append(Call(method, path, query, _decoded(body), answer.status))
        return answer, fault.delay if fault is not None else 0.0

    def _fault_answer(self, fault: Fault) -> _Answer:
        if fault.status == 429:
            wait = str(fault.retry_after if fault.retry_after is not None else 1)
            return _error(429, "API rate limit exceeded", {"Retry-After": wait})
        if fault.status == 502:  # gateways answer in HTML, not Spotify's JSON
            return _Answer(
                502, b"<html><body>Bad Gateway</body></html>", {"Content-Type": "text/html"}
            )
        return _error(
            fault.status, "Server error." if fault.status == 500 else "Service unavailable"
        )

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> _Answer:
        if path == "/authorize":
            return self._authorize(method, query)
        if path == "/api/token":
            return self._token(method, headers, body)
        if not path.startswith("/v1/"):
            return _error(404, "Service not found")
        try:
            return self._api(method, path[3:], query, headers, body)
        except ApiError as exc:
            return _error(exc.status, exc.message)

    # -- accounts service ---------------------------------------------------------------------

    def _authorize(self, method: str, query: dict[str, list[str]]) -> _Answer:
        q = {k: v[0] for k, v in query.items()}
        if method != "GET":
            return _Answer(405)
        if q.get("client_id") != self.client_id:
            return _Answer(400, b"INVALID_CLIENT: Invalid client")
        redirect = q.get("redirect_uri", "")
        if redirect not in self.redirect_uris:
            return _Answer(400, b"INVALID_CLIENT: Invalid redirect URI")
        back: dict[str, str] = {}
        if q.get("response_type") != "code":
            back["error"] = "unsupported_response_type"
        elif self.deny_consent:
            back["error"] = "access_denied"
        elif self.browser_user not in self.users:
            return _Answer(400, b"fake: nobody is logged in (set browser_user)")
        else:
            code = secrets.token_urlsafe(32)
            scopes = frozenset((q.get("scope") or "").split())
            self._codes[code] = _Code(
                self.browser_user or "", scopes, redirect, self.now() + CODE_TTL
            )
            back["code"] = code
        if "state" in q:
            back["state"] = q["state"]
        return _Answer(303, b"", {"Location": f"{redirect}?{urlencode(back)}"})

    def _client_ok(self, headers: Any, form: dict[str, str]) -> bool:
        auth = headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
        else:
            cid, secret = form.get("client_id", ""), form.get("client_secret", "")
        return cid == self.client_id and secret == self.client_secret

    def _token(self, method: str, headers: Any, body: bytes) -> _Answer:
        if method != "POST":
            return _Answer(405)
        if "application/x-www-form-urlencoded" not in (headers.get("Content-Type") or ""):
            return _oauth_error(
                "invalid_request", "Content-Type must be application/x-www-form-urlencoded"
            )
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if not self._client_ok(headers, form):
            return _oauth_error("invalid_client", "Invalid client")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self._codes.get(form.get("code", ""))
            if code is None or code.used or code.expires_at < self.now():
                return _oauth_error("invalid_grant", "Invalid authorization code")
            if code.redirect_uri != form.get("redirect_uri"):
                return _oauth_error("invalid_grant", "Invalid redirect URI")
            code.used = True
            return self._issue(code.user, code.scopes, refresh=None)
        if grant == "refresh_token":
            old = form.get("refresh_token", "")
            token = self._refresh.get(old)
            if token is None:
                return _oauth_error("invalid_grant", "Refresh token revoked")
            if self.rotate_refresh_tokens:
                del self._refresh[old]
                return self._issue(token.user, token.scopes, refresh=None)
            return self._issue(token.user, token.scopes, refresh=old)
        return _oauth_error("unsupported_grant_type", f"grant_type {grant!r} is not supported")

    def _issue(self, user: str, scopes: frozenset[str], *, refresh: str | None) -> _Answer:
        access = secrets.token_urlsafe(40)
        self._access[access] = _Token(user, scopes, self.now() + self.token_ttl)
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "scope": " ".join(sorted(scopes)),
            "expires_in": self.token_ttl,
        }
        if refresh is None:  # a new refresh token (first grant, or rotation)
            refresh = secrets.token_urlsafe(40)
            self._refresh[refresh] = _Token(user, scopes, float("inf"))
            answer["refresh_token"] = refresh
        return _json(200, answer)

    # -- Web API ------------------------------------------------------------------------------

    def _api(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> _Answer:
        from tests.support.fake_spotify_api import handle  # the routes, kept in their own file

        user, scopes = self._bearer(headers)
        return handle(self, user, scopes, method, path, {k: v[0] for k, v in query.items()}, body)

    def _bearer(self, headers: Any) -> tuple[FakeUser, frozenset[str]]:
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            raise ApiError(401, "No token provided")
        token = self._access.get(auth[7:])
        if token is None:
            raise ApiError(401, "Invalid access token")
        if token.expires_at <= self.now():
            raise ApiError(401, "The access token expired")
        if self.allowlist is not None and token.user not in self.allowlist:
            raise ApiError(403, "User not registered in the Developer Dashboard")
        return self.users[token.user], token.scopes


def _decoded(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


class _Handler(BaseHTTPRequestHandler):
    owner: FakeSpotify
    protocol_version = "HTTP/1.1"  # keep-alive, as requests' pool expects
    timeout = 5  # idle keep-alive connections end, so their threads do too
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer, delay = self.owner.serve(self.command, self.path, self.headers, body)
        if delay:
            self.owner._stopping.wait(delay)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines carry codes and states; tests read ``calls`` instead


def normalized(text: str) -> str:
    return normalize_name(html.unescape(text))
