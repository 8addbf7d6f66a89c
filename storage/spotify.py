"""Repository functions for Spotify links, OAuth states, playlist pushes and search matches.

Functions take a Core ``Connection``; callers own the transaction. Tokens arrive here sealed
(``spotify.crypto``): this module never sees a readable token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage import catalog
from storage._sql import dialect_insert, utc
from storage.models import (
    ArtistRow,
    Base,
    SpotifyAuthStateRow,
    SpotifyLinkRow,
    SpotifyMatchRow,
    SpotifyPushRow,
    TrackRow,
)
from wavelength.domain import TrackId, UserId
from wavelength.ids import match_key

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.engine import Connection

    from wavelength.domain import Track

_LINKS = Base.metadata.tables["spotify_links"]
_PUSHES = Base.metadata.tables["spotify_pushes"]
_MATCHES = Base.metadata.tables["spotify_matches"]


class SpotifyAccountTaken(Exception):
    """The Spotify account is already linked to another Wavelength user."""


# --- links ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkRecord:
    user: UserId
    spotify_id: str
    display_name: str | None
    token: str | None  # sealed; None once broken
    linked_at: datetime
    broken_at: datetime | None


def get_link(*, conn: Connection, user: UserId) -> LinkRecord | None:
    r = conn.execute(select(_LINKS).where(_LINKS.c.user_id == user)).first()
    if r is None:
        return None
    return LinkRecord(
        user=UserId(r.user_id),
        spotify_id=r.spotify_id,
        display_name=r.display_name,
        token=r.token,
        linked_at=utc(r.linked_at),
        broken_at=utc(r.broken_at) if r.broken_at else None,
    )


def save_link(
    *,
    conn: Connection,
    user: UserId,
    spotify_id: str,
    display_name: str | None,
    token: str,
    now: datetime,
) -> bool:
    """Link (or re-link) ``user``; returns whether the Spotify account changed, in which
    case the playlists kept for the old account are forgotten."""
    owner = conn.execute(
        select(SpotifyLinkRow.user_id).where(SpotifyLinkRow.spotify_id == spotify_id)
    ).scalar_one_or_none()
    if owner is not None and owner != user:
        raise SpotifyAccountTaken(spotify_id)
    previous = get_link(conn=conn, user=user)
    values = {
        "spotify_id": spotify_id,
        "display_name": display_name,
        "token": token,
        "linked_at": utc(now),
        "broken_at": None,
    }
    if previous is None:
        try:
            conn.execute(insert(SpotifyLinkRow).values(user_id=user, **values))
        except IntegrityError:  # linked to someone else between the check and the insert
            raise SpotifyAccountTaken(spotify_id) from None
        return True
    conn.execute(update(SpotifyLinkRow).where(SpotifyLinkRow.user_id == user).values(**values))
    changed = previous.spotify_id != spotify_id
    if changed:
        delete_pushes(conn=conn, user=user)
    return changed


def linked_users(*, conn: Connection) -> list[UserId]:
    """Users with a working link (not broken), for the periodic history import."""
    rows = conn.execute(
        select(SpotifyLinkRow.user_id)
        .where(SpotifyLinkRow.broken_at.is_(None))
        .order_by(SpotifyLinkRow.user_id)
    )
    return [UserId(u) for u in rows.scalars()]


def set_token(*, conn: Connection, user: UserId, token: str, now: datetime) -> None:
    """Store a refreshed token; a link that broke or was removed meanwhile stays so."""
    conn.execute(
        update(SpotifyLinkRow)
        .where(SpotifyLinkRow.user_id == user, SpotifyLinkRow.broken_at.is_(None))
        .values(token=token)
    )


def mark_broken(*, conn: Connection, user: UserId, now: datetime) -> None:
    """Forget the dead token and remember when the link broke."""
    conn.execute(
        update(SpotifyLinkRow)
        .where(SpotifyLinkRow.user_id == user)
        .values(token=None, broken_at=utc(now))
    )


def delete_link(*, conn: Connection, user: UserId) -> bool:
    """Remove the link, its pending states and the pushes' playlist records."""
    conn.execute(delete(SpotifyAuthStateRow).where(SpotifyAuthStateRow.user_id == user))
    delete_pushes(conn=conn, user=user)
    return conn.execute(delete(SpotifyLinkRow).where(SpotifyLinkRow.user_id == user)).rowcount > 0


# --- OAuth states ---------------------------------------------------------------------------


def put_state(
    *, conn: Connection, state_hash: str, user: UserId, expires_at: datetime, now: datetime
) -> None:
    # Expired states are swept here, so the table stays as small as the links in progress.
    conn.execute(delete(SpotifyAuthStateRow).where(SpotifyAuthStateRow.expires_at <= utc(now)))
    conn.execute(
        insert(SpotifyAuthStateRow).values(
            state_hash=state_hash, user_id=user, expires_at=utc(expires_at)
        )
    )


def take_state(*, conn: Connection, state_hash: str, now: datetime) -> tuple[UserId, bool] | None:
    """The user behind a state and whether it is still live, spending it (single use);
    None when unknown or already used."""
    row = conn.execute(
        select(SpotifyAuthStateRow.user_id, SpotifyAuthStateRow.expires_at).where(
            SpotifyAuthStateRow.state_hash == state_hash
        )
    ).first()
    if row is None:
        return None
    spent = conn.execute(
        delete(SpotifyAuthStateRow).where(SpotifyAuthStateRow.state_hash == state_hash)
    ).rowcount
    if not spent:  # another request spent it between the read and the delete
        return None
    return UserId(row.user_id), utc(row.expires_at) > utc(now)


# --- pushes ---------------------------------------------------------------------------------

PENDING, CREATING, DONE = "pending", "creating", "done"


@dataclass(frozen=True, slots=True)
class PushRecord:
    user: UserId
    purpose: str
    playlist_id: str | None
    name: str
    description: str
    uris: tuple[str, ...]
    state: str
    written: int
    retry_at: datetime | None
    completed_at: datetime | None  # when this playlist last held what it should
    created_name: str | None = None


def _push(r: Any) -> PushRecord:
    return PushRecord(
        user=UserId(r.user_id),
        purpose=r.purpose,
        playlist_id=r.playlist_id,
        name=r.name,
        description=r.description,
        uris=tuple(r.uris),
        state=r.state,
        written=r.written,
        retry_at=utc(r.retry_at) if r.retry_at else None,
        completed_at=utc(r.completed_at) if r.completed_at else None,
        created_name=r.created_name,
    )


def get_push(*, conn: Connection, user: UserId, purpose: str) -> PushRecord | None:
    row = conn.execute(
        select(_PUSHES).where(_PUSHES.c.user_id == user, _PUSHES.c.purpose == purpose)
    ).first()
    return _push(row) if row else None


def plan_push(
    *,
    conn: Connection,
    user: UserId,
    purpose: str,
    name: str,
    description: str,
    uris: Sequence[str],
    now: datetime,
) -> PushRecord:
    """Record what the playlist for (user, purpose) must hold, before touching Spotify.

    The playlist id and a "creating" mark survive; progress restarts unless these are the
    same contents a pending push was already writing."""
    current = get_push(conn=conn, user=user, purpose=purpose)
    if current is None:
        conn.execute(
            insert(SpotifyPushRow).values(
                user_id=user, purpose=purpose, playlist_id=None, name=name,
                description=description, uris=list(uris), state=PENDING, written=0,
                retry_at=None, updated_at=utc(now), completed_at=None,
            )
        )  # fmt: skip
    else:
        same = current.state != DONE and current.uris == tuple(uris)
        conn.execute(
            update(SpotifyPushRow)
            .where(SpotifyPushRow.user_id == user, SpotifyPushRow.purpose == purpose)
            .values(
                name=name,
                description=description,
                uris=list(uris),
                state=CREATING if current.state == CREATING else PENDING,
                written=current.written if same else 0,
                retry_at=None,
                updated_at=utc(now),
            )
        )
    found = get_push(conn=conn, user=user, purpose=purpose)
    assert found is not None
    return found


def _set_push(conn: Connection, user: UserId, purpose: str, **values: object) -> None:
    conn.execute(
        update(SpotifyPushRow)
        .where(SpotifyPushRow.user_id == user, SpotifyPushRow.purpose == purpose)
        .values(**values)
    )


def set_push_playlist(
    *,
    conn: Connection,
    user: UserId,
    purpose: str,
    playlist_id: str | None,
    state: str,
    now: datetime,
    created_name: str | None = None,
) -> None:
    """Record the playlist (None: gone or not made yet) and, while a create is under way
    (``CREATING``), the name it was sent with. A different playlist was never completed."""
    current = get_push(conn=conn, user=user, purpose=purpose)
    values: dict[str, object] = {
        "playlist_id": playlist_id,
        "state": state,
        "created_name": created_name,
        "updated_at": utc(now),
    }
    if current is None or current.playlist_id != playlist_id:
        values["completed_at"] = None
    _set_push(conn, user, purpose, **values)


def set_push_progress(
    *, conn: Connection, user: UserId, purpose: str, written: int, now: datetime
) -> None:
    _set_push(conn, user, purpose, written=written, updated_at=utc(now))


def finish_push(*, conn: Connection, user: UserId, purpose: str, now: datetime) -> None:
    _set_push(
        conn, user, purpose, state=DONE, retry_at=None, updated_at=utc(now), completed_at=utc(now)
    )


def set_push_retry(
    *, conn: Connection, user: UserId, purpose: str, retry_at: datetime, now: datetime
) -> None:
    """When Spotify said to come back (a long Retry-After); the scheduler reads it."""
    _set_push(conn, user, purpose, retry_at=utc(retry_at), updated_at=utc(now))


def pushes_of(*, conn: Connection, user: UserId) -> list[PushRecord]:
    rows = conn.execute(
        select(_PUSHES).where(_PUSHES.c.user_id == user).order_by(_PUSHES.c.purpose)
    )
    return [_push(r) for r in rows]


def unfinished_pushes(*, conn: Connection) -> list[PushRecord]:
    """Pushes not confirmed done, oldest first (for the scheduler after a restart)."""
    rows = conn.execute(
        select(_PUSHES)
        .where(_PUSHES.c.state != DONE)
        .order_by(_PUSHES.c.updated_at, _PUSHES.c.user_id, _PUSHES.c.purpose)
    )
    return [_push(r) for r in rows]


def delete_pushes(*, conn: Connection, user: UserId) -> None:
    conn.execute(delete(SpotifyPushRow).where(SpotifyPushRow.user_id == user))


# --- tracks ---------------------------------------------------------------------------------


def track_names(*, conn: Connection, track_ids: Iterable[str]) -> dict[TrackId, tuple[str, str]]:
    """(title, artist) of catalog tracks, for search."""
    wanted = sorted(set(track_ids))
    found: dict[TrackId, tuple[str, str]] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(TrackRow.id, TrackRow.name, ArtistRow.name.label("artist"))
            .join(ArtistRow, ArtistRow.id == TrackRow.artist_id)
            .where(TrackRow.id.in_(wanted[start : start + 500]))
        )
        for r in rows:
            found[TrackId(r.id)] = (r.name, r.artist)
    return found


def get_matches(*, conn: Connection, track_ids: Iterable[str]) -> dict[TrackId, str | None]:
    """Search results remembered so far (a None value: searched, nothing matched)."""
    wanted = sorted(set(track_ids))
    found: dict[TrackId, str | None] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(SpotifyMatchRow.track_id, SpotifyMatchRow.uri).where(
                SpotifyMatchRow.track_id.in_(wanted[start : start + 500])
            )
        )
        found.update({TrackId(r.track_id): r.uri for r in rows})
    return found


def put_matches(*, conn: Connection, matches: Mapping[TrackId, str | None], now: datetime) -> None:
    if not matches:
        return
    stmt = dialect_insert(conn, _MATCHES)
    stmt = stmt.on_conflict_do_update(
        index_elements=["track_id"],
        set_={"uri": stmt.excluded.uri, "checked_at": stmt.excluded.checked_at},
    )
    conn.execute(
        stmt,
        [{"track_id": t, "uri": u, "checked_at": utc(now)} for t, u in sorted(matches.items())],
    )


def catalog_ids(*, conn: Connection, tracks: Sequence[Track]) -> tuple[dict[TrackId, TrackId], int]:
    """The catalog id for each Spotify track (keyed by URI), adding the ones not known;
    returns the mapping and how many tracks were new to the catalog.

    A track the catalog has under another id (no URI, or another release's URI) is joined by
    artist and title, so imported plays land on tracks the recommender already knows."""
    unique = {t.id: t for t in tracks}
    known = set(conn.scalars(select(TrackRow.id).where(TrackRow.id.in_(sorted(unique)))))
    out = {TrackId(i): TrackId(i) for i in known}
    rest = [t for i, t in unique.items() if i not in known]
    by_key = catalog.tracks_by_match_key(
        conn=conn, keys=(match_key(t.artist.name, t.name) for t in rest)
    )
    new = []
    for t in rest:
        target = by_key.get(match_key(t.artist.name, t.name))
        if target is None:
            new.append(t)
            out[t.id] = t.id
        else:
            out[t.id] = target
    catalog.upsert_tracks(conn=conn, tracks=new)
    return out, len(new)
