"""Repository functions for what a station showed a listener and how they reacted.

Plays are per station and listener; reactions are the user's taste (a dislike is user-wide,
a LOVE also saves a favourite). Functions take a Core ``Connection`` and return domain values,
never rows. Callers own the transaction. Timestamps are stored and returned in UTC (a naive
``now`` is taken as UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage._sql import is_unique_violation, per_dialect, utc
from storage.models import Base, FavouriteRow, FeedbackRow, StationPlayRow
from wavelength.domain import Feedback, Reaction, StationId, TrackId, UserId

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection, Row

    from wavelength.domain import Pick

_FEEDBACK = Base.metadata.tables["feedback"]
_PLAYS = Base.metadata.tables["station_plays"]
_FAVOURITES = Base.metadata.tables["favourites"]


@dataclass(frozen=True, slots=True)
class ShownTrack:
    """One track a station showed a listener: its batch, 1-based position and reason."""

    batch: int
    position: int
    track: TrackId
    reason: str
    source: str
    score: float
    shown_at: datetime


@dataclass(frozen=True, slots=True)
class FeedbackState:
    """A fingerprint of every reaction row on one station, live or undone: it changes
    whenever the station's live reactions do (``feedback_state`` says why)."""

    rows: int
    newest: int  # the highest row id; 0 when there are none
    undone: int
    users: int  # the sum of the rows' user ids


def _feedback(row: Row[Any]) -> Feedback:
    return Feedback(
        id=row.id,
        user=UserId(row.user_id),
        station=StationId(row.station_id) if row.station_id is not None else None,
        track=TrackId(row.track_id),
        reaction=Reaction(row.reaction),
        at=utc(row.created_at),
        copied=row.copied,
    )


def _live_feedback() -> Select[Any]:
    return select(_FEEDBACK).where(FeedbackRow.undone_at.is_(None))


# The hot path's statements, built once: building a statement costs more Python than
# executing it from SQLAlchemy's compiled cache, and only the parameter values change.
_SHOWN_TO = (
    StationPlayRow.station_id == bindparam("station"),
    StationPlayRow.listener_id == bindparam("listener"),
)
_LATEST_BATCH = select(func.max(StationPlayRow.batch)).where(*_SHOWN_TO)
_BATCH = (
    select(_PLAYS)
    .where(*_SHOWN_TO, StationPlayRow.batch == bindparam("batch"))
    .order_by(StationPlayRow.position)
)
_PLAYED = (
    select(StationPlayRow.track_id)
    .where(*_SHOWN_TO)
    .group_by(StationPlayRow.track_id)
    .order_by(func.max(StationPlayRow.shown_at).desc(), func.max(StationPlayRow.id).desc())
    .limit(bindparam("limit", type_=Integer))
)
_PLAYED_SINCE = (
    select(StationPlayRow.track_id)
    .where(*_SHOWN_TO, StationPlayRow.batch > bindparam("after", type_=Integer))
    .distinct()
)
_WAS_SHOWN = (
    select(StationPlayRow.id)
    .where(*_SHOWN_TO, StationPlayRow.track_id == bindparam("track"))
    .limit(1)
)
_ADD_PLAYS = insert(_PLAYS)
_ADD_FEEDBACK = insert(_FEEDBACK).returning(_FEEDBACK.c.id)
_STATION_FEEDBACK = (
    _live_feedback()
    .where(FeedbackRow.station_id == bindparam("station"))
    .order_by(FeedbackRow.created_at, FeedbackRow.id)
)
_STATION_FEEDBACK_AFTER = _STATION_FEEDBACK.where(FeedbackRow.id > bindparam("after"))
# What ``FeedbackState`` is made of; see ``feedback_state`` for why these four columns.
_FEEDBACK_STATE = select(
    func.count(),
    func.coalesce(func.max(FeedbackRow.id), 0),
    func.count(FeedbackRow.undone_at),
    func.coalesce(func.sum(FeedbackRow.user_id), 0),
).where(FeedbackRow.station_id == bindparam("station"))
_DISLIKED = select(FeedbackRow.track_id).where(
    FeedbackRow.user_id == bindparam("user"),
    FeedbackRow.reaction == Reaction.DISLIKE.value,
    FeedbackRow.copied.is_(False),
    FeedbackRow.undone_at.is_(None),
)
_save_favourite = per_dialect(lambda insert: insert(_FAVOURITES).on_conflict_do_nothing())


# --- what a station showed ----------------------------------------------------------------------


def _latest_batch(conn: Connection, station: StationId, listener: UserId) -> int:
    return int(
        conn.execute(_LATEST_BATCH, {"station": station, "listener": listener}).scalar_one_or_none()
        or 0
    )


class BatchTaken(Exception):
    """Another call recorded this station's next batch first (both read the same newest
    number): what this one composed may repeat it. Nothing was written; compose again."""


def record_batch(
    *,
    conn: Connection,
    station: StationId,
    listener: UserId,
    picks: Sequence[Pick],
    now: datetime,
    after: int | None = None,
) -> int:
    """Record a batch shown to ``listener``; returns its number (1, 2, ... per listener).
    ``after``: the newest batch number the picks were composed against; when another batch
    was recorded since, or one races this insert, BatchTaken (the caller's transaction
    must then end: PostgreSQL refuses anything more in it)."""
    if not picks:
        raise ValueError("a batch needs at least one pick")
    batch = _latest_batch(conn, station, listener) + 1
    if after is not None and batch != after + 1:
        raise BatchTaken(f"batch {after + 1} of station {station} was recorded meanwhile")
    at = utc(now)
    rows = [
        {
            "station_id": station,
            "listener_id": listener,
            "track_id": p.track,
            "batch": batch,
            "position": position,
            "reason": p.reason,
            "source": p.source,
            "score": p.score,
            "shown_at": at,
        }
        for position, p in enumerate(picks, start=1)
    ]
    try:
        conn.execute(_ADD_PLAYS, rows)
    except IntegrityError as exc:
        if is_unique_violation(exc):  # the unique (station, listener, batch, position)
            raise BatchTaken(f"batch {batch} of station {station} was taken") from exc
        raise
    return batch


def batches_shown(*, conn: Connection, station: StationId, listener: UserId) -> int:
    """How many batches the station showed ``listener`` (the newest batch's number)."""
    return _latest_batch(conn, station, listener)


def last_batch(*, conn: Connection, station: StationId, listener: UserId) -> list[ShownTrack]:
    """The newest batch shown to ``listener`` on ``station`` in order; empty before the first."""
    batch = _latest_batch(conn, station, listener)
    rows = conn.execute(_BATCH, {"station": station, "listener": listener, "batch": batch})
    return [
        ShownTrack(
            batch=r.batch,
            position=r.position,
            track=TrackId(r.track_id),
            reason=r.reason,
            source=r.source,
            score=r.score,
            shown_at=utc(r.shown_at),
        )
        for r in rows
    ]


def played(
    *, conn: Connection, station: StationId, listener: UserId, limit: int = 2000
) -> list[TrackId]:
    """Distinct tracks the station showed ``listener``, most recently shown first."""
    rows = conn.execute(_PLAYED, {"station": station, "listener": listener, "limit": limit})
    return [TrackId(t) for t in rows.scalars()]


def played_since(
    *, conn: Connection, station: StationId, listener: UserId, after: int
) -> set[TrackId]:
    """Distinct tracks the station showed ``listener`` in batches numbered above ``after``:
    what a set of plays complete up to batch ``after`` lacks (a few rows, on the unique
    (station, listener, batch, position) index, where ``played`` reads them all)."""
    rows = conn.execute(_PLAYED_SINCE, {"station": station, "listener": listener, "after": after})
    return {TrackId(t) for t in rows.scalars()}


def was_shown(*, conn: Connection, station: StationId, listener: UserId, track: TrackId) -> bool:
    """Whether the station ever showed ``track`` to ``listener`` (in any batch)."""
    row = conn.execute(
        _WAS_SHOWN, {"station": station, "listener": listener, "track": track}
    ).first()
    return row is not None


# --- reactions and favourites -------------------------------------------------------------------


def add_feedback(
    *,
    conn: Connection,
    user: UserId,
    station: StationId | None,
    track: TrackId,
    reaction: Reaction,
    now: datetime,
    copied: bool = False,
) -> Feedback:
    """Record a reaction; a LOVE of the user's own also saves the track to favourites."""
    at = utc(now)
    feedback_id = conn.execute(
        _ADD_FEEDBACK,
        {
            "user_id": user,
            "station_id": station,
            "track_id": track,
            "reaction": reaction.value,
            "created_at": at,
            "copied": copied,
        },
    ).scalar_one()
    if reaction is Reaction.LOVE and not copied:
        conn.execute(_save_favourite(conn), {"user_id": user, "track_id": track, "created_at": at})
    return Feedback(
        id=feedback_id,
        user=user,
        station=station,
        track=track,
        reaction=reaction,
        at=at,
        copied=copied,
    )


def copy_reactions(
    *, conn: Connection, source: StationId, target: StationId, owner: UserId, now: datetime
) -> int:
    """Copy the live reactions on ``source`` to ``target`` as ``owner``'s, marked copied;
    returns how many. Copied reactions steer ``target`` but never count as the owner's taste."""
    rows = [
        {
            "user_id": owner,
            "station_id": target,
            "track_id": f.track,
            "reaction": f.reaction.value,
            "created_at": utc(now),
            "copied": True,
        }
        for f in feedback_for_station(conn=conn, station=source)
    ]
    if rows:
        conn.execute(insert(_FEEDBACK), rows)
    return len(rows)


def undo_last(
    *,
    conn: Connection,
    user: UserId,
    now: datetime,
    track: TrackId | None = None,
    reaction: Reaction | None = None,
) -> Feedback | None:
    """Undo the user's newest live reaction of their own (of ``track`` and ``reaction`` when
    given: a chat reaction taken off its card) and return it; None when none is left.

    Undoing a LOVE drops the favourite unless another live LOVE of that track remains."""
    query = _live_feedback().where(FeedbackRow.user_id == user, FeedbackRow.copied.is_(False))
    if track is not None:
        query = query.where(FeedbackRow.track_id == track)
    if reaction is not None:
        query = query.where(FeedbackRow.reaction == reaction.value)
    row = conn.execute(
        query.order_by(FeedbackRow.created_at.desc(), FeedbackRow.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    undone = _feedback(row)
    conn.execute(update(FeedbackRow).where(FeedbackRow.id == undone.id).values(undone_at=utc(now)))
    if undone.reaction is Reaction.LOVE:
        still_loved = conn.execute(
            _live_feedback()
            .where(
                FeedbackRow.user_id == user,
                FeedbackRow.track_id == undone.track,
                FeedbackRow.reaction == Reaction.LOVE.value,
                FeedbackRow.copied.is_(False),
            )
            .limit(1)
        ).first()
        if still_loved is None:
            conn.execute(
                delete(FavouriteRow).where(
                    FavouriteRow.user_id == user, FavouriteRow.track_id == undone.track
                )
            )
    return undone


def shown_reason(
    *, conn: Connection, station: StationId, listener: UserId, track: TrackId
) -> ShownTrack | None:
    """The newest showing of ``track`` to ``listener`` on ``station``, with its reason."""
    r = conn.execute(
        select(_PLAYS)
        .where(
            StationPlayRow.station_id == station,
            StationPlayRow.listener_id == listener,
            StationPlayRow.track_id == track,
        )
        .order_by(StationPlayRow.id.desc())
        .limit(1)
    ).first()
    if r is None:
        return None
    return ShownTrack(
        batch=r.batch,
        position=r.position,
        track=TrackId(r.track_id),
        reason=r.reason,
        source=r.source,
        score=r.score,
        shown_at=utc(r.shown_at),
    )


def feedback_for_station(
    *, conn: Connection, station: StationId, after: int | None = None
) -> list[Feedback]:
    """Live reactions on the station (copied ones included), oldest first; only those whose
    id is above ``after`` when it is given."""
    if after is None:
        rows = conn.execute(_STATION_FEEDBACK, {"station": station})
    else:
        rows = conn.execute(_STATION_FEEDBACK_AFTER, {"station": station, "after": after})
    return [_feedback(r) for r in rows]


def feedback_state(*, conn: Connection, station: StationId) -> FeedbackState:
    """The station's ``FeedbackState``: one aggregate over its rows (by the station_id index),
    far cheaper than reading them back.

    Equal states mean equal live reactions, given how the rows change. Inserts get ids above
    every earlier one, so they raise ``newest`` (one committed late under a lower id raises
    ``rows``); an undo only ever sets ``undone_at``, which raises ``undone``; and rows leave a
    station only with the station or its owner, so nothing undoes those rises. Each count is
    over all rows, undone ones too: a count of live rows would miss one row undone while
    another is added. The only other UPDATE, an account merge (``accounts.merge_users``),
    moves rows to another user id and so moves ``users`` (a sum always moves; a min and a
    max need not). Blind spot: SQLite (no AUTOINCREMENT) gives a new row the id of a deleted
    newest row or of a rolled-back insert, so a state that counted uncommitted rows must
    never be kept.
    """
    rows, newest, undone, users = conn.execute(_FEEDBACK_STATE, {"station": station}).one()
    return FeedbackState(rows=rows, newest=newest, undone=undone, users=users)


def recent_feedback(*, conn: Connection, user: UserId, limit: int = 20) -> list[Feedback]:
    """The user's own live reactions (not copied ones), newest first."""
    rows = conn.execute(
        _live_feedback()
        .where(FeedbackRow.user_id == user, FeedbackRow.copied.is_(False))
        .order_by(FeedbackRow.created_at.desc(), FeedbackRow.id.desc())
        .limit(limit)
    )
    return [_feedback(r) for r in rows]


def disliked_tracks(*, conn: Connection, user: UserId) -> frozenset[TrackId]:
    """Tracks the user disliked on any station: never again for them, anywhere."""
    rows = conn.execute(_DISLIKED, {"user": user})
    return frozenset(TrackId(t) for t in rows.scalars())


def favourites(*, conn: Connection, user: UserId) -> list[TrackId]:
    """The user's favourite tracks, newest first."""
    rows = conn.execute(
        select(FavouriteRow.track_id)
        .where(FavouriteRow.user_id == user)
        .order_by(FavouriteRow.created_at.desc(), FavouriteRow.track_id)
    )
    return [TrackId(t) for t in rows.scalars()]
