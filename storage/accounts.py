"""Repository functions for accounts: one-time link codes, merging two users into one,
per-user settings and identities that can't be messaged.

Functions take a Core ``Connection`` and return domain values; callers own the transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, bindparam, delete, false, insert, select, true, update

from storage._sql import dialect_insert, utc
from storage.models import (
    ActiveStationRow,
    Base,
    ChatCardRow,
    FeedbackRow,
    IdentityRow,
    LinkCodeRow,
    StationPlayRow,
    StationRow,
    UserRow,
    UserSettingsRow,
)
from wavelength.domain import UserId, UserPrefs

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.engine import Connection

_SETTINGS = Base.metadata.tables["user_settings"]

# --- link codes ---------------------------------------------------------------------------------


def put_link_code(*, conn: Connection, user: UserId, code: str, expires_at: datetime) -> None:
    """A fresh code for ``user``; an older one of theirs stops working."""
    conn.execute(delete(LinkCodeRow).where(LinkCodeRow.user_id == user))
    conn.execute(insert(LinkCodeRow).values(code=code, user_id=user, expires_at=utc(expires_at)))


def take_link_code(*, conn: Connection, code: str, now: datetime) -> UserId | None:
    """The user behind a live code, spending it (single use); None if unknown or expired."""
    row = conn.execute(
        select(LinkCodeRow.user_id, LinkCodeRow.expires_at).where(LinkCodeRow.code == code)
    ).first()
    if row is None:
        return None
    conn.execute(delete(LinkCodeRow).where(LinkCodeRow.code == code))
    if utc(row.expires_at) <= utc(now):
        return None
    return UserId(row.user_id)


def identities_of(*, conn: Connection, user: UserId) -> list[tuple[str, str]]:
    rows = conn.execute(
        select(IdentityRow.provider, IdentityRow.external_id)
        .where(IdentityRow.user_id == user)
        .order_by(IdentityRow.provider)
    )
    return [(r.provider, r.external_id) for r in rows]


# --- merging ------------------------------------------------------------------------------------


def merge_users(*, conn: Connection, keep: UserId, gone: UserId) -> None:
    """Fold ``gone`` into ``keep``: identities, stations, plays, reactions, favourites and
    history move over; ``gone`` is deleted. Station names that clash get a suffix."""
    if keep == gone:
        raise ValueError("cannot merge a user into itself")
    taken = {
        r.name_key
        for r in conn.execute(select(StationRow.name_key).where(StationRow.owner_id == keep))
    }
    for row in conn.execute(
        select(StationRow.id, StationRow.name).where(StationRow.owner_id == gone)
    ).all():
        name, n = row.name, 2
        while name.casefold() in taken:
            suffix = f" ({n})"
            name = row.name[: 100 - len(suffix)] + suffix
            n += 1
        taken.add(name.casefold())
        conn.execute(
            update(StationRow)
            .where(StationRow.id == row.id)
            .values(owner_id=keep, name=name, name_key=name.casefold())
        )
    for model, column in (
        (IdentityRow, IdentityRow.user_id),
        (StationPlayRow, StationPlayRow.listener_id),
        (FeedbackRow, FeedbackRow.user_id),
        (ChatCardRow, ChatCardRow.listener_id),
    ):
        conn.execute(update(model).where(column == gone).values({column.key: keep}))
    _move_unique(conn, "favourites", keep, gone, ("track_id", "created_at"))
    _move_unique(
        conn, "listening_events", keep, gone, ("track_id", "played_at", "ms_played", "source")
    )
    # The surviving user keeps their own active station and settings when they have them.
    if _has(conn, ActiveStationRow, keep):
        conn.execute(delete(ActiveStationRow).where(ActiveStationRow.user_id == gone))
    else:
        conn.execute(
            update(ActiveStationRow).where(ActiveStationRow.user_id == gone).values(user_id=keep)
        )
    if _has(conn, UserSettingsRow, keep):
        conn.execute(delete(UserSettingsRow).where(UserSettingsRow.user_id == gone))
    else:
        conn.execute(
            update(UserSettingsRow).where(UserSettingsRow.user_id == gone).values(user_id=keep)
        )
    conn.execute(delete(LinkCodeRow).where(LinkCodeRow.user_id == gone))
    conn.execute(delete(UserRow).where(UserRow.id == gone))


def _has(
    conn: Connection, model: type[ActiveStationRow] | type[UserSettingsRow], user: int
) -> bool:
    return conn.execute(select(model.user_id).where(model.user_id == user)).first() is not None


def _move_unique(
    conn: Connection,
    table_name: str,
    keep: int,
    gone: int,
    columns: tuple[str, ...],
) -> None:
    """Copy rows that the kept user lacks (unique keys would clash), then drop the rest."""
    table = Base.metadata.tables[table_name]
    cols = [table.c[c] for c in columns]
    rows = conn.execute(select(*cols).where(table.c.user_id == gone)).all()
    if rows:
        conn.execute(
            dialect_insert(conn, table).on_conflict_do_nothing(),
            [{"user_id": keep, **dict(zip(columns, r, strict=True))} for r in rows],
        )
    conn.execute(delete(table).where(table.c.user_id == gone))


# --- settings -----------------------------------------------------------------------------------


def get_prefs(*, conn: Connection, user: UserId) -> UserPrefs:
    row = conn.execute(select(UserSettingsRow).where(UserSettingsRow.user_id == user)).first()
    if row is None:
        return UserPrefs()
    return UserPrefs(
        time_zone=row.time_zone,
        delivery_minute=row.delivery_minute,
        daily=row.daily,
        paused=row.paused,
    )


def opted_in(*, conn: Connection) -> list[tuple[UserId, UserPrefs]]:
    """Users who asked for daily deliveries and have not paused them."""
    rows = conn.execute(
        select(UserSettingsRow)
        .where(UserSettingsRow.daily.is_(True), UserSettingsRow.paused.is_(False))
        .order_by(UserSettingsRow.user_id)
    )
    return [
        (
            UserId(r.user_id),
            UserPrefs(
                time_zone=r.time_zone,
                delivery_minute=r.delivery_minute,
                daily=r.daily,
                paused=r.paused,
            ),
        )
        for r in rows
    ]


def due_candidates(*, conn: Connection, now: datetime) -> list[tuple[UserId, UserPrefs]]:
    """Opted-in users whose stored next-due instant has come, or who have none yet (new or
    changed settings): one range of ``ix_user_settings_next_due``, however many users
    there are."""
    s = _SETTINGS.c
    opted = (s.daily == true(), s.paused == false())
    columns = (s.user_id, s.time_zone, s.delivery_minute)
    rows = [
        *conn.execute(select(*columns).where(*opted, s.next_due_at.is_(None))),
        *conn.execute(select(*columns).where(*opted, s.next_due_at <= utc(now))),
    ]
    return [(UserId(r.user_id), _opted_prefs(r.time_zone, r.delivery_minute)) for r in rows]


def set_next_due(*, conn: Connection, due: Sequence[tuple[UserId, UserPrefs, datetime]]) -> None:
    """Store when each user's next delivery falls due, unless their settings changed since
    ``prefs`` were read (then the NULL that change left stays, and the next round looks)."""
    if not due:
        return
    s = _SETTINGS.c
    conn.execute(
        update(_SETTINGS)
        .where(
            s.user_id == bindparam("u"),
            s.time_zone == bindparam("zone"),
            s.delivery_minute == bindparam("minute"),
            s.daily == true(),
            s.paused == false(),
        )
        .values(next_due_at=bindparam("at")),
        [
            {"u": u, "zone": p.time_zone, "minute": p.delivery_minute, "at": utc(at)}
            for u, p, at in due
        ],
    )


def _opted_prefs(time_zone: str, delivery_minute: int) -> UserPrefs:
    return UserPrefs(time_zone=time_zone, delivery_minute=delivery_minute, daily=True)


def put_prefs(*, conn: Connection, user: UserId, prefs: UserPrefs, now: datetime) -> None:
    values = {
        "time_zone": prefs.time_zone,
        "delivery_minute": prefs.delivery_minute,
        "daily": prefs.daily,
        "paused": prefs.paused,
        "updated_at": utc(now),
        "next_due_at": None,  # the delivery round works it out again from these
    }
    conn.execute(
        dialect_insert(conn, _SETTINGS)
        .values(user_id=user, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )


# --- reachability -------------------------------------------------------------------------------


def mark_unreachable(
    *, conn: Connection, provider: str, external_id: str, now: datetime | None
) -> None:
    """Set (``now``) or clear (None) the can't-be-messaged mark of one identity."""
    conn.execute(
        update(IdentityRow)
        .where(and_(IdentityRow.provider == provider, IdentityRow.external_id == external_id))
        .values(unreachable_since=utc(now) if now is not None else None)
    )


def seen(*, conn: Connection, provider: str, external_id: str, now: datetime) -> None:
    """They wrote from this account: it is reachable, and the one to message first."""
    conn.execute(
        update(IdentityRow)
        .where(and_(IdentityRow.provider == provider, IdentityRow.external_id == external_id))
        .values(unreachable_since=None, last_seen_at=utc(now))
    )


def reachable_identities(*, conn: Connection, user: UserId) -> list[tuple[str, str]]:
    """The user's accounts that can be messaged, the one they last wrote from first."""
    rows = conn.execute(
        select(IdentityRow.provider, IdentityRow.external_id)
        .where(IdentityRow.user_id == user, IdentityRow.unreachable_since.is_(None))
        .order_by(IdentityRow.last_seen_at.desc().nulls_last(), IdentityRow.id.desc())
    )
    return [(r.provider, r.external_id) for r in rows]


def unreachable_since(*, conn: Connection, provider: str, external_id: str) -> datetime | None:
    value = conn.execute(
        select(IdentityRow.unreachable_since).where(
            IdentityRow.provider == provider, IdentityRow.external_id == external_id
        )
    ).scalar_one_or_none()
    return utc(value) if value is not None else None
