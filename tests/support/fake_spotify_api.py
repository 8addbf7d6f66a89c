"""The fake's Web API routes (``/v1``), shapes as documented for the 2026 Web API."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tests.support.fake_spotify import (
    _ID,
    _TRACK_URI,
    TOP_RANGES,
    ApiError,
    FakePlaylist,
    FakeTrack,
    FakeUser,
    _Answer,
    _json,
    new_id,
    normalized,
)

if TYPE_CHECKING:
    from tests.support.fake_spotify import FakeSpotify

MAX_URIS = 100
READ_PRIVATE = ("playlist-read-private", "playlist-read-collaborative")


@dataclass
class Ctx:
    fake: FakeSpotify
    user: FakeUser
    scopes: frozenset[str]
    q: dict[str, str]
    body: bytes

    def need(self, *any_of: str) -> None:
        if not self.scopes & set(any_of):
            raise ApiError(403, "Insufficient client scope")

    def json_body(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(400, "Error parsing JSON.") from None

    def market(self) -> str | None:
        market = self.q.get("market")
        return self.user.market if market == "from_token" else market

    def limit(self, default: int, maximum: int) -> int:
        try:
            value = int(self.q.get("limit", default))
        except ValueError:
            raise ApiError(400, "Invalid limit") from None
        if not 1 <= value <= maximum:
            raise ApiError(400, "Invalid limit")
        return value

    def offset(self) -> int:
        try:
            value = int(self.q.get("offset", 0))
        except ValueError:
            raise ApiError(400, "Invalid offset") from None
        if value < 0:
            raise ApiError(400, "Invalid offset")
        return value


# -- objects ---------------------------------------------------------------------------------


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def user_json(fake: FakeSpotify, user_id: str) -> dict[str, Any]:
    user = fake.users.get(user_id)
    # Since February 2026 the profile has no country, email, product or followers.
    return {
        "display_name": user.display_name if user else user_id,
        "external_urls": {"spotify": f"https://open.spotify.com/user/{user_id}"},
        "href": f"{fake.api_url}users/{user_id}",
        "id": user_id,
        "images": [],
        "type": "user",
        "uri": f"spotify:user:{user_id}",
    }


def track_json(fake: FakeSpotify, t: FakeTrack, market: str | None) -> dict[str, Any]:
    artists = [
        {
            "external_urls": {"spotify": f"https://open.spotify.com/artist/{aid}"},
            "href": f"{fake.api_url}artists/{aid}",
            "id": aid,
            "name": name,
            "type": "artist",
            "uri": f"spotify:artist:{aid}",
        }
        for aid, name in t.artists
    ]
    obj: dict[str, Any] = {
        "album": {
            "album_type": "album",
            "artists": artists,
            "external_urls": {"spotify": f"https://open.spotify.com/album/{t.album_id}"},
            "href": f"{fake.api_url}albums/{t.album_id}",
            "id": t.album_id,
            "images": [],
            "name": t.album_name,
            "release_date": t.release_date,
            "release_date_precision": "day",
            "total_tracks": 1,
            "type": "album",
            "uri": f"spotify:album:{t.album_id}",
        },
        "artists": artists,
        "disc_number": 1,
        "duration_ms": t.duration_ms,
        "explicit": t.explicit,
        "external_urls": {"spotify": f"https://open.spotify.com/track/{t.id}"},
        "href": f"{fake.api_url}tracks/{t.id}",
        "id": t.id,
        "is_local": False,
        "name": t.name,
        "track_number": 1,
        "type": "track",
        "uri": t.uri,
    }
    if market is not None:  # playability is only told for a market
        obj["is_playable"] = t.markets is None or market in t.markets
        if not obj["is_playable"]:
            obj["restrictions"] = {"reason": "market"}
    return obj


def page(
    ctx: Ctx, path: str, items: list[Any], offset: int, limit: int, total: int, **extra: str
) -> dict[str, Any]:
    def link(at: int) -> str:
        params = "".join(f"&{k}={v}" for k, v in extra.items())
        return f"{ctx.fake.api_url}{path.lstrip('/')}?offset={at}&limit={limit}{params}"

    return {
        "href": link(offset),
        "items": items,
        "limit": limit,
        "next": link(offset + limit) if offset + limit < total else None,
        "offset": offset,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "total": total,
    }


def _item(ctx: Ctx, uri: str, added: datetime, by: str) -> dict[str, Any]:
    match = _TRACK_URI.match(uri)
    track = ctx.fake.tracks.get(match.group(1)) if match else None
    obj = track_json(ctx.fake, track, ctx.market()) if track else None
    # 2026 naming: "item"; "track" stays as the deprecated duplicate.
    return {
        "added_at": _stamp(added),
        "added_by": user_json(ctx.fake, by),
        "is_local": False,
        "item": obj,
        "track": obj,
    }


def playlist_json(ctx: Ctx, p: FakePlaylist, *, full: bool) -> dict[str, Any]:
    href = f"{ctx.fake.api_url}playlists/{p.id}/items"
    if full:
        items = [_item(ctx, *i) for i in p.items[:MAX_URIS]]
        summary: dict[str, Any] = page(
            ctx, f"playlists/{p.id}/items", items, 0, MAX_URIS, len(p.items)
        )
    else:
        summary = {"href": href, "total": len(p.items)}
    return {
        "collaborative": p.collaborative,
        # Spotify hands descriptions back HTML-escaped.
        "description": html.escape(p.description, quote=False),
        "external_urls": {"spotify": f"https://open.spotify.com/playlist/{p.id}"},
        "href": f"{ctx.fake.api_url}playlists/{p.id}",
        "id": p.id,
        "images": [],
        "name": p.name,
        "owner": user_json(ctx.fake, p.owner),
        "public": p.public,
        "snapshot_id": p.snapshot_id,
        "items": summary,
        "tracks": summary,  # deprecated name of "items"
        "type": "playlist",
        "uri": f"spotify:playlist:{p.id}",
    }


# -- routes ----------------------------------------------------------------------------------


def me(ctx: Ctx) -> _Answer:
    return _json(200, user_json(ctx.fake, ctx.user.id))


def recently_played(ctx: Ctx) -> _Answer:
    ctx.need("user-read-recently-played")
    limit = ctx.limit(20, 50)
    if "after" in ctx.q and "before" in ctx.q:
        raise ApiError(400, "Only one of after and before may be given")
    plays = sorted(ctx.user.recent, key=lambda p: p[1], reverse=True)
    ms = [(tid, at, int(at.timestamp() * 1000)) for tid, at in plays]
    if "before" in ctx.q:
        ms = [p for p in ms if p[2] < int(ctx.q["before"])]
    elif "after" in ctx.q:
        ms = [p for p in ms if p[2] > int(ctx.q["after"])]
    shown, more = ms[:limit], len(ms) > limit
    items = [
        {
            "track": track_json(ctx.fake, ctx.fake.tracks[tid], None),
            "played_at": _stamp(at),
            "context": None,
        }
        for tid, at, _ms in shown
    ]
    cursors = {"after": str(shown[0][2]), "before": str(shown[-1][2])} if shown else None
    base = f"{ctx.fake.api_url}me/player/recently-played"
    return _json(
        200,
        {
            "href": f"{base}?limit={limit}",
            "items": items,
            "limit": limit,
            "next": f"{base}?before={shown[-1][2]}&limit={limit}" if more and shown else None,
            "cursors": cursors,
        },
    )


def top_tracks(ctx: Ctx) -> _Answer:
    ctx.need("user-top-read")
    time_range = ctx.q.get("time_range", "medium_term")
    if time_range not in TOP_RANGES:
        raise ApiError(400, "Invalid time range")
    limit, offset = ctx.limit(20, 50), ctx.offset()
    ids = ctx.user.top.get(time_range, [])
    items = [track_json(ctx.fake, ctx.fake.tracks[t], None) for t in ids[offset : offset + limit]]
    return _json(
        200, page(ctx, "me/top/tracks", items, offset, limit, len(ids), time_range=time_range)
    )


def saved_tracks(ctx: Ctx) -> _Answer:
    ctx.need("user-library-read")
    limit, offset = ctx.limit(20, 50), ctx.offset()
    saved = sorted(ctx.user.saved, key=lambda s: s[1], reverse=True)
    items = [
        {"added_at": _stamp(at), "track": track_json(ctx.fake, ctx.fake.tracks[t], ctx.market())}
        for t, at in saved[offset : offset + limit]
    ]
    return _json(200, page(ctx, "me/tracks", items, offset, limit, len(saved)))


def my_playlists(ctx: Ctx) -> _Answer:
    ctx.need(*READ_PRIVATE)
    limit, offset = ctx.limit(20, 50), ctx.offset()
    ids = [p for p in ctx.fake.follows.get(ctx.user.id, []) if p not in ctx.fake.unlisted]
    items = [
        playlist_json(ctx, ctx.fake.playlists[p], full=False) for p in ids[offset : offset + limit]
    ]
    return _json(200, page(ctx, "me/playlists", items, offset, limit, len(ids)))


def create_playlist(ctx: Ctx) -> _Answer:
    body = ctx.json_body()
    if not isinstance(body, dict) or not str(body.get("name") or "").strip():
        raise ApiError(400, "Missing required field: name")
    public = bool(body.get("public", True))
    ctx.need("playlist-modify-public" if public else "playlist-modify-private")
    _check_details(body)
    pid = new_id()
    p = FakePlaylist(
        pid, ctx.user.id, str(body["name"]), str(body.get("description") or ""), public,
        collaborative=bool(body.get("collaborative", False)),
    )  # fmt: skip
    ctx.fake.playlists[pid] = p
    ctx.fake.follows.setdefault(ctx.user.id, []).insert(0, pid)
    return _json(201, playlist_json(ctx, p, full=True))


def _check_details(body: dict[str, Any]) -> None:
    if "name" in body and len(str(body["name"])) > 100:
        raise ApiError(400, "Playlist name too long (max 100 characters)")
    if "description" in body and len(str(body["description"])) > 300:
        raise ApiError(400, "Playlist description too long (max 300 characters)")


def _playlist(ctx: Ctx, pid: str, *, write: bool = False) -> FakePlaylist:
    p = ctx.fake.playlists.get(pid)
    if p is None or p.deleted:
        raise ApiError(404, "Resource not found")
    if write:
        if p.owner != ctx.user.id and not p.collaborative:
            raise ApiError(403, "You cannot modify a playlist you don't own.")
        ctx.need("playlist-modify-public" if p.public else "playlist-modify-private")
    elif not p.public and p.owner != ctx.user.id:
        ctx.need(*READ_PRIVATE)
    return p


def get_playlist(ctx: Ctx, pid: str) -> _Answer:
    return _json(200, playlist_json(ctx, _playlist(ctx, pid), full=True))


def change_playlist(ctx: Ctx, pid: str) -> _Answer:
    p = _playlist(ctx, pid, write=True)
    body = ctx.json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "Error parsing JSON.")
    _check_details(body)
    if "name" in body:
        p.name = str(body["name"])
    if "description" in body:
        p.description = str(body["description"])
    if "public" in body:
        p.public = bool(body["public"])
    if "collaborative" in body:
        p.collaborative = bool(body["collaborative"])
    return _Answer(200)


def get_items(ctx: Ctx, pid: str) -> _Answer:
    p = _playlist(ctx, pid)
    limit, offset = ctx.limit(20, 50), ctx.offset()
    items = [_item(ctx, *i) for i in p.items[offset : offset + limit]]
    return _json(200, page(ctx, f"playlists/{pid}/items", items, offset, limit, len(p.items)))


def _uris(values: Any) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(u, str) for u in values):
        raise ApiError(400, "Error parsing JSON.")
    if len(values) > MAX_URIS:
        raise ApiError(400, "You can add a maximum of 100 tracks per request.")
    for uri in values:
        match = _TRACK_URI.match(uri)
        if match is None:
            raise ApiError(400, f"Invalid track uri: {uri}")
    return values


def _changed(p: FakePlaylist, status: int) -> _Answer:
    p.version += 1
    return _json(status, {"snapshot_id": p.snapshot_id})


def add_items(ctx: Ctx, pid: str) -> _Answer:
    p = _playlist(ctx, pid, write=True)
    body = ctx.json_body()
    position: Any = ctx.q.get("position")
    if "uris" in ctx.q:
        uris = _uris(ctx.q["uris"].split(","))
    elif isinstance(body, list):  # what spotipy's playlist_add_items sends
        uris = _uris(body)
    elif isinstance(body, dict) and "uris" in body:
        uris, position = _uris(body["uris"]), body.get("position", position)
    else:
        raise ApiError(400, "Missing required field: uris")
    now = datetime.fromtimestamp(ctx.fake.now(), UTC)
    new = [(u, now, ctx.user.id) for u in uris]
    at = len(p.items) if position is None else int(position)
    if not 0 <= at <= len(p.items):
        raise ApiError(400, "Index out of bounds")
    p.items[at:at] = new
    return _changed(p, 201)


def put_items(ctx: Ctx, pid: str) -> _Answer:
    p = _playlist(ctx, pid, write=True)
    body = ctx.json_body() or {}
    if "uris" in ctx.q or (isinstance(body, dict) and "uris" in body):
        uris = _uris(ctx.q["uris"].split(",") if "uris" in ctx.q else body["uris"])
        now = datetime.fromtimestamp(ctx.fake.now(), UTC)
        p.items = [(u, now, ctx.user.id) for u in uris]
        return _changed(p, 200)
    if isinstance(body, dict) and "range_start" in body and "insert_before" in body:
        start, length = int(body["range_start"]), int(body.get("range_length", 1))
        before = int(body["insert_before"])
        moving = p.items[start : start + length]
        rest = p.items[:start] + p.items[start + length :]
        at = before if before <= start else before - length
        p.items = rest[:at] + moving + rest[at:]
        return _changed(p, 200)
    raise ApiError(400, "Missing required field: uris")


def remove_items(ctx: Ctx, pid: str) -> _Answer:
    p = _playlist(ctx, pid, write=True)
    body = ctx.json_body()
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise ApiError(400, "Missing required field: items")
    if len(body["items"]) > MAX_URIS:
        raise ApiError(400, "You can remove a maximum of 100 tracks per request.")
    gone = {str(i.get("uri")) for i in body["items"] if isinstance(i, dict)}
    p.items = [i for i in p.items if i[0] not in gone]
    return _changed(p, 200)


_FIELD = re.compile(r'(track|artist|album):(?:"([^"]*)"|(\S+))')


def search(ctx: Ctx) -> _Answer:
    q = ctx.q.get("q", "").strip()
    if not q:
        raise ApiError(400, "No search query")
    if "track" not in ctx.q.get("type", "").split(","):
        raise ApiError(400, "Missing parameter type")
    limit, offset = (
        ctx.limit(5 if ctx.fake.dev_mode else 20, 10 if ctx.fake.dev_mode else 50),
        ctx.offset(),
    )
    fields = {m.group(1): normalized(m.group(2) or m.group(3)) for m in _FIELD.finditer(q)}
    free = normalized(_FIELD.sub(" ", q))

    def fits(t: FakeTrack) -> bool:
        artists = " ".join(normalized(n) for _a, n in t.artists)
        text = f"{normalized(t.name)} {artists} {normalized(t.album_name)}"
        return (
            fields.get("track", "") in normalized(t.name)
            and fields.get("artist", "") in artists
            and fields.get("album", "") in normalized(t.album_name)
            and all(word in text for word in free.split())
        )

    found = [t for t in ctx.fake.tracks.values() if fits(t)]
    items = [track_json(ctx.fake, t, ctx.market()) for t in found[offset : offset + limit]]
    return _json(
        200,
        {"tracks": page(ctx, "search", items, offset, limit, len(found), q=q, type="track")},
    )


def track(ctx: Ctx, track_id: str) -> _Answer:
    if not _ID.match(track_id):
        raise ApiError(400, "Invalid base62 id")
    found = ctx.fake.tracks.get(track_id)
    if found is None:
        raise ApiError(404, "Resource not found")
    return _json(200, track_json(ctx.fake, found, ctx.market()))


def several_tracks(ctx: Ctx) -> _Answer:
    if ctx.fake.dev_mode:  # one of the batch endpoints Development Mode lost in 2026
        raise ApiError(403, "Forbidden")
    ids = [i for i in ctx.q.get("ids", "").split(",") if i]
    if not ids or len(ids) > 50:
        raise ApiError(400, "Too many ids requested" if ids else "Missing parameter ids")
    tracks = [ctx.fake.tracks.get(i) for i in ids]
    return _json(
        200, {"tracks": [track_json(ctx.fake, t, ctx.market()) if t else None for t in tracks]}
    )


def forbidden(ctx: Ctx, *_ids: str) -> _Answer:
    # Paths removed for Development Mode apps in 2026 answer 403 with the plain message.
    raise ApiError(403, "Forbidden")


Route = tuple[str, re.Pattern[str], Callable[..., _Answer]]
_P = "([^/]+)"
ROUTES: list[Route] = [
    ("GET", re.compile(r"/me"), me),
    ("GET", re.compile(r"/me/player/recently-played"), recently_played),
    ("GET", re.compile(r"/me/top/tracks"), top_tracks),
    ("GET", re.compile(r"/me/tracks"), saved_tracks),
    ("GET", re.compile(r"/me/playlists"), my_playlists),
    ("POST", re.compile(r"/me/playlists"), create_playlist),
    ("GET", re.compile(f"/playlists/{_P}"), get_playlist),
    ("PUT", re.compile(f"/playlists/{_P}"), change_playlist),
    ("GET", re.compile(f"/playlists/{_P}/items"), get_items),
    ("POST", re.compile(f"/playlists/{_P}/items"), add_items),
    ("PUT", re.compile(f"/playlists/{_P}/items"), put_items),
    ("DELETE", re.compile(f"/playlists/{_P}/items"), remove_items),
    ("GET", re.compile(r"/search"), search),
    ("GET", re.compile(f"/tracks/{_P}"), track),
    ("GET", re.compile(r"/tracks"), several_tracks),
]
REMOVED = [
    re.compile(f"/users/{_P}/playlists"),
    re.compile(f"/users/{_P}"),
    re.compile(f"/playlists/{_P}/tracks"),
]


def handle(
    fake: FakeSpotify,
    user: FakeUser,
    scopes: frozenset[str],
    method: str,
    path: str,
    q: dict[str, str],
    body: bytes,
) -> _Answer:
    ctx = Ctx(fake, user, scopes, q, body)
    if any(p.fullmatch(path) for p in REMOVED):
        return forbidden(ctx)
    known = False
    for verb, pattern, fn in ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        known = True
        if verb == method:
            return fn(ctx, *match.groups())
    if known:
        raise ApiError(405, "Method not allowed")
    raise ApiError(404, "Service not found")
