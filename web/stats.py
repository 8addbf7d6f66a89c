"""What the operators' dashboard shows, read from the database in a few aggregate queries.

Read-only and portable (SQLite and PostgreSQL): counts, grouped by day or station.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, case, cast, distinct, func, select

from storage.models import (
    ActiveStationRow,
    DeliveryRow,
    FeedbackRow,
    StationPlayRow,
    StationRow,
    UserRow,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

ACTIVE_DAYS = 7  # a station counts as active when it played something this recently
HISTORY_DAYS = 14
TOP = 20


def dashboard(database: Engine, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    with database.connect() as conn:
        return {
            "generated_at": now.isoformat(),
            "active_stations": _active(conn, now - timedelta(days=ACTIVE_DAYS)),
            "reactions_by_day": _reactions_by_day(conn, now - timedelta(days=HISTORY_DAYS)),
            "station_ratios": _ratios(conn),
            "deliveries": _deliveries(conn),
            "most_shared": _shared(conn),
        }


def _active(conn: Connection, since: datetime) -> dict[str, Any]:
    rows = conn.execute(
        select(
            StationRow.id,
            StationRow.name,
            UserRow.name,
            func.count(StationPlayRow.id),
            func.max(StationPlayRow.shown_at),
        )
        .join(StationPlayRow, StationPlayRow.station_id == StationRow.id)
        .join(UserRow, UserRow.id == StationRow.owner_id)
        .where(StationPlayRow.shown_at >= since)
        .group_by(StationRow.id, StationRow.name, UserRow.name)
        .order_by(func.count(StationPlayRow.id).desc(), StationRow.id)
    ).all()
    playing = conn.execute(select(func.count()).select_from(ActiveStationRow)).scalar_one()
    return {
        "count": len(rows),
        "playing_now": playing,
        "stations": [
            {"id": i, "name": n, "owner": o, "tracks": c, "last": _iso(last)}
            for i, n, o, c, last in rows[:TOP]
        ],
    }


def _reactions_by_day(conn: Connection, since: datetime) -> list[dict[str, Any]]:
    # SQLite keeps datetimes as text (CAST would read just the year); date() cuts the day.
    sqlite = conn.dialect.name == "sqlite"
    day = func.date(FeedbackRow.created_at) if sqlite else cast(FeedbackRow.created_at, Date)
    rows = conn.execute(
        select(day, FeedbackRow.reaction, func.count())
        .where(FeedbackRow.created_at >= since)
        .group_by(day, FeedbackRow.reaction)
        .order_by(day)
    ).all()
    days: dict[str, dict[str, Any]] = {}
    for d, reaction, n in rows:
        entry = days.setdefault(
            str(d), {"day": str(d), "like": 0, "love": 0, "dislike": 0, "skip": 0}
        )
        entry[reaction] = n
    return list(days.values())


def _ratios(conn: Connection) -> list[dict[str, Any]]:
    positive = func.sum(case((FeedbackRow.reaction.in_(("like", "love")), 1), else_=0))
    negative = func.sum(case((FeedbackRow.reaction == "dislike", 1), else_=0))
    rows = conn.execute(
        select(StationRow.id, StationRow.name, positive, negative)
        .join(FeedbackRow, FeedbackRow.station_id == StationRow.id)
        .where(FeedbackRow.undone_at.is_(None))
        .group_by(StationRow.id, StationRow.name)
        .order_by((positive + negative).desc(), StationRow.id)
        .limit(TOP)
    ).all()
    return [
        {
            "id": i,
            "name": n,
            "likes": int(p or 0),
            "dislikes": int(d or 0),
            "ratio": round(int(p or 0) / max(1, int(p or 0) + int(d or 0)), 3),
        }
        for i, n, p, d in rows
    ]


def _deliveries(conn: Connection) -> dict[str, Any]:
    rows = conn.execute(
        select(DeliveryRow.kind, DeliveryRow.status, func.count())
        .group_by(DeliveryRow.kind, DeliveryRow.status)
        .order_by(DeliveryRow.kind, DeliveryRow.status)
    ).all()
    return {
        "rows": [{"kind": k, "status": s, "count": n} for k, s, n in rows],
        "failed": sum(n for _, s, n in rows if s in ("failed", "unknown")),
        "sent": sum(n for _, s, n in rows if s == "sent"),
    }


def _shared(conn: Connection) -> list[dict[str, Any]]:
    """Shared stations by how many other people played them."""
    listeners = func.count(distinct(StationPlayRow.listener_id))
    rows = conn.execute(
        select(StationRow.id, StationRow.name, StationRow.share_code, listeners)
        .outerjoin(
            StationPlayRow,
            (StationPlayRow.station_id == StationRow.id)
            & (StationPlayRow.listener_id != StationRow.owner_id),
        )
        .where(StationRow.share_code.is_not(None))
        .group_by(StationRow.id, StationRow.name, StationRow.share_code)
        .order_by(listeners.desc(), StationRow.id)
        .limit(TOP)
    ).all()
    return [{"id": i, "name": n, "code": c, "listeners": k} for i, n, c, k in rows]


def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at).isoformat()
