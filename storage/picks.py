"""Reads and writes for many listeners at once: the scheduled daily picks compose a whole
round together, so each query here serves hundreds of listeners instead of one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from storage._sql import is_unique_violation, utc
from storage.feedback import BatchTaken
from storage.models import Base, FavouriteRow, FeedbackRow, ListeningEventRow, StationPlayRow
from wavelength.domain import Reaction, StationId, TrackId, UserId

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection

    from wavelength.domain import Pick

_PLAYS = Base.metadata.tables["station_plays"]


def taste_seeds_many(
    *, conn: Connection, users: Sequence[UserId], limit: int = 10
) -> dict[UserId, list[TrackId]]:
    """What each user is known to like, strongest evidence first: recent loves and likes on
    any station, favourites, then their most played tracks; never a disliked one. Three
    queries for all of them."""
    if not users:
        return {}
    ids = list(users)
    liked = conn.execute(
        select(FeedbackRow.user_id, FeedbackRow.track_id)
        .where(
            FeedbackRow.undone_at.is_(None),
            FeedbackRow.user_id.in_(ids),
            FeedbackRow.copied.is_(False),
            FeedbackRow.reaction.in_([Reaction.LOVE.value, Reaction.LIKE.value]),
        )
        .order_by(FeedbackRow.user_id, FeedbackRow.created_at.desc(), FeedbackRow.id.desc())
    )
    loved = conn.execute(
        select(FavouriteRow.user_id, FavouriteRow.track_id)
        .where(FavouriteRow.user_id.in_(ids))
        .order_by(FavouriteRow.user_id, FavouriteRow.created_at.desc(), FavouriteRow.track_id)
    )
    played = conn.execute(
        select(ListeningEventRow.user_id, ListeningEventRow.track_id)
        .where(ListeningEventRow.user_id.in_(ids))
        .group_by(ListeningEventRow.user_id, ListeningEventRow.track_id)
        .order_by(ListeningEventRow.user_id, func.count().desc(), ListeningEventRow.track_id)
    )
    disliked = disliked_many(conn=conn, users=ids)
    ordered: dict[UserId, dict[TrackId, None]] = {u: {} for u in ids}
    for rows in (liked, loved, played):
        for user, track in rows:
            ordered[UserId(user)].setdefault(TrackId(track))
    return {
        u: [t for t in tracks if t not in disliked.get(u, ())][:limit]
        for u, tracks in ordered.items()
    }


def disliked_many(*, conn: Connection, users: Sequence[UserId]) -> dict[UserId, set[TrackId]]:
    rows = conn.execute(
        select(FeedbackRow.user_id, FeedbackRow.track_id).where(
            FeedbackRow.user_id.in_(list(users)),
            FeedbackRow.reaction == Reaction.DISLIKE.value,
            FeedbackRow.copied.is_(False),
            FeedbackRow.undone_at.is_(None),
        )
    )
    out: dict[UserId, set[TrackId]] = {}
    for user, track in rows:
        out.setdefault(UserId(user), set()).add(TrackId(track))
    return out


def shown_since_many(
    *, conn: Connection, listeners: Sequence[UserId], since: datetime
) -> dict[UserId, set[TrackId]]:
    """Tracks any station showed each listener since ``since``."""
    rows = conn.execute(
        select(StationPlayRow.listener_id, StationPlayRow.track_id)
        .where(
            StationPlayRow.listener_id.in_(list(listeners)),
            StationPlayRow.shown_at >= utc(since),
        )
        .distinct()
    )
    out: dict[UserId, set[TrackId]] = {}
    for user, track in rows:
        out.setdefault(UserId(user), set()).add(TrackId(track))
    return out


def played_on(*, conn: Connection, stations: Sequence[StationId]) -> dict[StationId, set[TrackId]]:
    """Every track each of these stations ever showed (any listener)."""
    rows = conn.execute(
        select(StationPlayRow.station_id, StationPlayRow.track_id)
        .where(StationPlayRow.station_id.in_(list(stations)))
        .distinct()
    )
    out: dict[StationId, set[TrackId]] = {}
    for station, track in rows:
        out.setdefault(StationId(station), set()).add(TrackId(track))
    return out


def record_batches(
    *,
    conn: Connection,
    batches: Sequence[tuple[StationId, UserId, Sequence[Pick]]],
    now: datetime,
) -> dict[StationId, int]:
    """``record_batch`` for many (station, listener) pairs in two statements; one listener
    per station here (each listener's own picks station)."""
    if not batches:
        return {}
    stations = [s for s, _, _ in batches]
    latest = dict(
        conn.execute(
            select(StationPlayRow.station_id, func.max(StationPlayRow.batch))
            .where(StationPlayRow.station_id.in_(stations))
            .group_by(StationPlayRow.station_id)
        ).all()
    )
    at = utc(now)
    numbers = {s: int(latest.get(s) or 0) + 1 for s in stations}
    rows = [
        {
            "station_id": station,
            "listener_id": listener,
            "track_id": p.track,
            "batch": numbers[station],
            "position": position,
            "reason": p.reason,
            "source": p.source,
            "score": p.score,
            "shown_at": at,
        }
        for station, listener, picks in batches
        for position, p in enumerate(picks, start=1)
    ]
    if rows:
        try:
            conn.execute(insert(_PLAYS), rows)
        except IntegrityError as exc:  # a listener's own next batch was recorded meanwhile
            if is_unique_violation(exc):
                raise BatchTaken("a picks station's next batch was taken") from exc
            raise
    return numbers
