"""Repository functions for personal mixes: a user's listening and reactions with their times,
what they heard lately, yesterday's taste centers, consent to taste matching, and the most
followed playlists.

Functions take a Core ``Connection`` and return domain values or small frozen rows; callers own
the transaction. Timestamps come back in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from storage._sql import dialect_insert, utc
from storage.models import (
    Base,
    FavouriteRow,
    FeedbackRow,
    IdentityRow,
    ListeningEventRow,
    PlaylistRow,
    StationPlayRow,
    TasteCenterRow,
    TasteSharingRow,
    UserRow,
)
from wavelength.domain import PlaylistId, Reaction, TrackId, UserId

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_CENTERS = Base.metadata.tables["taste_centers"]
_SHARING = Base.metadata.tables["taste_sharing"]

# Sources whose times are real plays (a history file, Spotify's recently played). Spotify's
# top tracks carry the import time, saved tracks the time they were saved.
PLAY_SOURCES = ("import", "spotify_recent")


@dataclass(frozen=True, slots=True)
class Listen:
    track: TrackId
    at: datetime
    source: str


@dataclass(frozen=True, slots=True)
class Liked:
    track: TrackId
    at: datetime
    strength: float  # 1 like, 2 love or favourite


@dataclass(frozen=True, slots=True)
class StoredCenter:
    id: int
    day: str
    space: str
    vector: tuple[float, ...]
    weight: float
    share: float
    label: str


def listens(*, conn: Connection, user: UserId, since: datetime | None = None) -> list[Listen]:
    """Every listening event of ``user`` (imports, Spotify), oldest first."""
    query = select(
        ListeningEventRow.track_id, ListeningEventRow.played_at, ListeningEventRow.source
    ).where(ListeningEventRow.user_id == user)
    if since is not None:
        query = query.where(ListeningEventRow.played_at >= utc(since))
    rows = conn.execute(query.order_by(ListeningEventRow.played_at, ListeningEventRow.id))
    return [Listen(TrackId(r.track_id), utc(r.played_at), r.source) for r in rows]


def liked(*, conn: Connection, user: UserId) -> list[Liked]:
    """The user's own live likes and loves (any station, not copied ones) and favourites."""
    rows = conn.execute(
        select(FeedbackRow.track_id, FeedbackRow.created_at, FeedbackRow.reaction).where(
            FeedbackRow.user_id == user,
            FeedbackRow.reaction.in_((Reaction.LIKE.value, Reaction.LOVE.value)),
            FeedbackRow.copied.is_(False),
            FeedbackRow.undone_at.is_(None),
        )
    )
    out = [
        Liked(TrackId(r.track_id), utc(r.created_at), 2.0 if r.reaction == "love" else 1.0)
        for r in rows
    ]
    favourites = conn.execute(
        select(FavouriteRow.track_id, FavouriteRow.created_at).where(FavouriteRow.user_id == user)
    )
    out += [Liked(TrackId(r.track_id), utc(r.created_at), 2.0) for r in favourites]
    return out


def heard_since(*, conn: Connection, user: UserId, since: datetime) -> frozenset[TrackId]:
    """Tracks the user played (real plays, not a Spotify top list or a save), or was shown by
    a station, since ``since``."""
    played = conn.execute(
        select(ListeningEventRow.track_id).where(
            ListeningEventRow.user_id == user,
            ListeningEventRow.played_at >= utc(since),
            ListeningEventRow.source.in_(PLAY_SOURCES),
        )
    ).scalars()
    shown = conn.execute(
        select(StationPlayRow.track_id).where(
            StationPlayRow.listener_id == user, StationPlayRow.shown_at >= utc(since)
        )
    ).scalars()
    return frozenset(TrackId(t) for t in (*played, *shown))


# --- taste centers ------------------------------------------------------------------------------


def center_space(*, dims: int, generation: int) -> str:
    """The ``space`` centers are stored with: their dimension and the vector store generation
    they were fitted in. A model refresh (``wavelength.model_refresh``) re-trains the vectors
    in another basis, where yesterday's centers mean nothing; generation 0 keeps the spelling
    from before refreshes existed, so centers stored then stay valid."""
    return f"cf/{dims}" if generation == 0 else f"cf/{dims}/g{generation}"


def load_centers(*, conn: Connection, user: UserId, space: str | None = None) -> list[StoredCenter]:
    """The user's stored centers, heaviest first; with ``space``, only those fitted in it
    (centers of another space or generation are as good as absent)."""
    query = select(_CENTERS).where(TasteCenterRow.user_id == user)
    if space is not None:
        query = query.where(TasteCenterRow.space == space)
    rows = conn.execute(query.order_by(TasteCenterRow.share.desc()))
    return [
        StoredCenter(
            r.center_id,
            r.day,
            r.space,
            tuple(float(v) for v in r.vector),
            r.weight,
            r.share,
            r.label,
        )
        for r in rows
    ]


def save_centers(*, conn: Connection, user: UserId, centers: Sequence[StoredCenter]) -> None:
    """Replace the user's stored centers with ``centers``."""
    conn.execute(delete(_CENTERS).where(TasteCenterRow.user_id == user))
    if centers:
        conn.execute(
            _CENTERS.insert(),
            [
                {
                    "user_id": user,
                    "center_id": c.id,
                    "day": c.day,
                    "space": c.space,
                    "vector": list(c.vector),
                    "weight": c.weight,
                    "share": c.share,
                    "label": c.label,
                }
                for c in centers
            ],
        )


# --- consent to be matched ----------------------------------------------------------------------


def set_sharing(*, conn: Connection, user: UserId, on: bool, now: datetime) -> None:
    if on:
        conn.execute(
            dialect_insert(conn, _SHARING)
            .values(user_id=user, since=utc(now))
            .on_conflict_do_nothing()
        )
    else:
        conn.execute(delete(_SHARING).where(TasteSharingRow.user_id == user))


def is_sharing(*, conn: Connection, user: UserId) -> bool:
    found = conn.execute(select(TasteSharingRow.user_id).where(TasteSharingRow.user_id == user))
    return found.first() is not None


def sharing_users(*, conn: Connection, limit: int = 500) -> list[UserId]:
    """Users who agreed to taste matching, oldest consent first."""
    rows = conn.execute(
        select(TasteSharingRow.user_id).order_by(TasteSharingRow.since).limit(limit)
    )
    return [UserId(u) for u in rows.scalars()]


def user_name(*, conn: Connection, user: UserId) -> str:
    """The user's Wavelength name (what ``wavelength ingest history --user`` takes)."""
    name = conn.execute(select(UserRow.name).where(UserRow.id == user)).scalar_one_or_none()
    return name or f"user-{user}"


def display_names(*, conn: Connection, users: Iterable[UserId]) -> dict[UserId, str]:
    """A display name per user where one of their identities has one."""
    wanted = list(set(users))
    if not wanted:
        return {}
    rows = conn.execute(
        select(IdentityRow.user_id, IdentityRow.display_name)
        .where(IdentityRow.user_id.in_(wanted), IdentityRow.display_name.is_not(None))
        .order_by(IdentityRow.provider)
    )
    out: dict[UserId, str] = {}
    for r in rows:
        out.setdefault(UserId(r.user_id), r.display_name)
    return out


# --- playlists ----------------------------------------------------------------------------------


def most_followed(*, conn: Connection, n: int = 20) -> list[tuple[PlaylistId, int]]:
    """The ``n`` playlists with the most followers (ties by id), with their counts."""
    rows = conn.execute(
        select(PlaylistRow.id, PlaylistRow.num_followers)
        .where(PlaylistRow.num_tracks > 0)
        .order_by(PlaylistRow.num_followers.desc().nulls_last(), PlaylistRow.id)
        .limit(n)
    )
    return [(PlaylistId(r.id), int(r.num_followers or 0)) for r in rows]


def followers(*, conn: Connection, ids: Iterable[PlaylistId]) -> dict[PlaylistId, int]:
    wanted = list(set(ids))
    out: dict[PlaylistId, int] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(PlaylistRow.id, PlaylistRow.num_followers).where(
                PlaylistRow.id.in_(wanted[start : start + 500])
            )
        )
        out.update({PlaylistId(r.id): int(r.num_followers or 0) for r in rows})
    return out
