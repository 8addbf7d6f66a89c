"""The delivery ledger and job leases.

Every write here is one conditional statement, so two scheduler processes (or one that was
killed and restarted) can race on the same row and exactly one of them wins: SQLite
serialises writers, PostgreSQL locks the row the UPDATE matches and re-checks its WHERE.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, case, false, func, not_, or_, select, true, update

from storage._sql import dialect_insert, utc
from storage.models import Base, DeliveryRow, JobLeaseRow
from wavelength.domain import UserId, UserPrefs

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_DELIVERIES = Base.metadata.tables["deliveries"]
_LEASES = Base.metadata.tables["job_leases"]
_SETTINGS = Base.metadata.tables["user_settings"]
MAX_ATTEMPTS = 5
# One INSERT (or UPDATE) claims this many deliveries; well under SQLite's 32766 parameters.
CLAIM_BATCH = 500


class Status(StrEnum):
    CLAIMED = "claimed"  # a worker is preparing it; free again when its lease runs out
    SENDING = "sending"  # handed to the platform; a crash here is not retried blindly
    SENT = "sent"
    SKIPPED = "skipped"  # nothing to send, or the user can't be reached: final, with a note
    FAILED = "failed"  # a retryable failure; claimable again after ``claimed_until``
    UNKNOWN = "unknown"  # the worker died while sending: maybe sent, never sent twice


FINAL = frozenset({Status.SENT, Status.SKIPPED, Status.UNKNOWN})


@dataclass(frozen=True, slots=True)
class Claim:
    id: int
    user: UserId
    kind: str
    day: str
    attempts: int


def claim(
    *,
    conn: Connection,
    user: UserId,
    kind: str,
    day: str,
    due_at: datetime,
    worker: str,
    now: datetime,
    lease: timedelta,
    max_attempts: int = MAX_ATTEMPTS,
) -> Claim | None:
    """Claim (user, kind, day) for ``worker``; None when it is done, or someone else holds a
    live claim on it, or it has failed ``max_attempts`` times."""
    until = utc(now) + lease
    inserted = conn.execute(
        dialect_insert(conn, _DELIVERIES)
        .values(
            user_id=user,
            kind=kind,
            day=day,
            status=Status.CLAIMED.value,
            attempts=1,
            claimed_by=worker,
            claimed_until=until,
            due_at=utc(due_at),
        )
        .on_conflict_do_nothing()
        .returning(_DELIVERIES.c.id)  # rowcount of an INSERT is -1 on psycopg; this is exact
    ).first()
    if inserted is None:
        taken = conn.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.user_id == user,
                DeliveryRow.kind == kind,
                DeliveryRow.day == day,
                DeliveryRow.status.in_([Status.CLAIMED.value, Status.FAILED.value]),
                DeliveryRow.claimed_until < utc(now),
                DeliveryRow.attempts < max_attempts,
            )
            .values(
                status=Status.CLAIMED.value,
                claimed_by=worker,
                claimed_until=until,
                attempts=DeliveryRow.attempts + 1,
            )
        )
        if taken.rowcount != 1:
            return None
    row = conn.execute(
        select(DeliveryRow.id, DeliveryRow.attempts).where(
            DeliveryRow.user_id == user, DeliveryRow.kind == kind, DeliveryRow.day == day
        )
    ).one()
    return Claim(row.id, user, kind, day, row.attempts)


@dataclass(frozen=True, slots=True)
class Wanted:
    """A delivery to claim: (user, kind, local day) and when it fell due."""

    user: UserId
    kind: str
    day: str
    due_at: datetime


def claim_many(
    *,
    conn: Connection,
    wanted: Sequence[Wanted],
    worker: str,
    now: datetime,
    lease: timedelta,
    max_attempts: int = MAX_ATTEMPTS,
) -> list[Claim]:
    """``claim`` for many deliveries, a few statements per ``CLAIM_BATCH``: one INSERT of the
    new rows (ON CONFLICT DO NOTHING RETURNING: exactly the rows this statement made), then
    one UPDATE per (kind, day) taking over those whose claim or retry time has run out."""
    claims: list[Claim] = []
    for start in range(0, len(wanted), CLAIM_BATCH):
        claims += _claim_batch(
            conn, wanted[start : start + CLAIM_BATCH], worker, utc(now), lease, max_attempts
        )
    return claims


def _claim_batch(
    conn: Connection,
    wanted: Sequence[Wanted],
    worker: str,
    now: datetime,
    lease: timedelta,
    max_attempts: int,
) -> list[Claim]:
    d = _DELIVERIES.c
    until = now + lease
    rows = [
        {
            "user_id": w.user, "kind": w.kind, "day": w.day, "status": Status.CLAIMED.value,
            "attempts": 1, "claimed_by": worker, "claimed_until": until, "due_at": utc(w.due_at),
        }
        for w in wanted
    ]  # fmt: skip
    inserted = conn.execute(
        dialect_insert(conn, _DELIVERIES)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(d.id, d.user_id, d.kind, d.day)
    ).all()
    claims = [Claim(r.id, UserId(r.user_id), r.kind, r.day, 1) for r in inserted]
    made = {(r.user_id, r.kind, r.day) for r in inserted}
    taken_over: dict[tuple[str, str], dict[int, datetime]] = defaultdict(dict)
    for w in wanted:
        if (w.user, w.kind, w.day) not in made:
            taken_over[(w.kind, w.day)][w.user] = utc(w.due_at)
    for (kind, day), due_at in taken_over.items():
        taken = conn.execute(
            _DELIVERIES.update()
            .where(
                d.user_id.in_(list(due_at)),
                d.kind == kind,
                d.day == day,
                _claimable(now, max_attempts),
            )
            .values(
                status=Status.CLAIMED.value,
                claimed_by=worker,
                claimed_until=until,
                attempts=d.attempts + 1,
                # When it is due under the settings it is claimed with now: the ledger's
                # retry look (``retryable``) goes back the grace from there. A row kept
                # the instant of its first claim, and after a change of time zone a crashed
                # retry fell outside that look and was never tried again.
                due_at=case(due_at, value=d.user_id),
            )
            .returning(d.id, d.user_id, d.attempts)
        ).all()
        claims += [Claim(r.id, UserId(r.user_id), kind, day, r.attempts) for r in taken]
    return claims


def _claimable(now: datetime, max_attempts: int) -> ColumnElement[bool]:
    """A row another claim may take: claimed by a worker whose lease ran out, or failed
    and past its retry time, and not tried too often."""
    d = _DELIVERIES.c
    return and_(
        d.status.in_([Status.CLAIMED.value, Status.FAILED.value]),
        d.claimed_until < now,
        d.attempts < max_attempts,
    )


def retryable(
    *, conn: Connection, now: datetime, since: datetime, max_attempts: int = MAX_ATTEMPTS
) -> list[tuple[UserId, UserPrefs, str, str]]:
    """Deliveries due since ``since`` that a claim may take again (a claim that ran out, a
    failure past its retry time), with their opted-in users' settings; the round checks
    they are still due. A range of ``ix_deliveries_status_due_at`` per status."""
    d, s = _DELIVERIES.c, _SETTINGS.c
    rows = conn.execute(
        select(d.user_id, d.kind, d.day, s.time_zone, s.delivery_minute)
        .join(_SETTINGS, s.user_id == d.user_id)
        .where(
            d.status.in_([Status.CLAIMED.value, Status.FAILED.value]),
            d.due_at > utc(since),
            d.claimed_until < utc(now),
            d.attempts < max_attempts,
            s.daily == true(),
            s.paused == false(),
        )
    )
    return [
        (
            UserId(r.user_id),
            UserPrefs(time_zone=r.time_zone, delivery_minute=r.delivery_minute, daily=True),
            r.kind,
            r.day,
        )
        for r in rows
    ]


def held(
    *,
    conn: Connection,
    keys: Sequence[tuple[UserId, str, str]],
    now: datetime,
    max_attempts: int = MAX_ATTEMPTS,
) -> dict[tuple[UserId, str, str], datetime | None]:
    """Those of (user, kind, day) ``keys`` the ledger holds and no claim may take now, each
    with when a claim may take it after all (a live claim or a failure waiting for its retry
    time), or None when never (done, being sent, or tried too often)."""
    d = _DELIVERIES.c
    found: dict[tuple[UserId, str, str], datetime | None] = {}
    wanted = set(keys)
    users = sorted({u for u, _, _ in keys})
    days = sorted({day for _, _, day in keys})
    for start in range(0, len(users), CLAIM_BATCH):
        rows = conn.execute(
            select(d.user_id, d.kind, d.day, d.status, d.claimed_until, d.attempts).where(
                d.user_id.in_(users[start : start + CLAIM_BATCH]),
                d.day.in_(days),
                not_(_claimable(utc(now), max_attempts)),
            )
        )
        for r in rows:
            key = (UserId(r.user_id), r.kind, r.day)
            if key not in wanted:
                continue
            waiting = r.status in (Status.CLAIMED.value, Status.FAILED.value)
            later = waiting and r.attempts < max_attempts and r.claimed_until is not None
            found[key] = utc(r.claimed_until) if later else None
    return found


def start_sending(
    *, conn: Connection, claim: Claim, worker: str, until: datetime | None = None
) -> bool:
    """Mark the claim as being sent (its lease renewed to ``until`` when given); False when
    the worker lost it (its lease ran out and another took over): then it must not send."""
    values: dict[str, object] = {"status": Status.SENDING.value}
    if until is not None:
        values["claimed_until"] = utc(until)
    result = conn.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.id == claim.id,
            DeliveryRow.claimed_by == worker,
            DeliveryRow.status == Status.CLAIMED.value,
        )
        .values(**values)
    )
    return result.rowcount == 1


def finish(
    *,
    conn: Connection,
    claim: Claim,
    worker: str,
    status: Status,
    now: datetime,
    note: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Record how it ended. FAILED with ``retry_at`` frees it for a later attempt."""
    values: dict[str, object] = {"status": status.value, "note": note}
    if status in FINAL:
        values["done_at"] = utc(now)
    if status is Status.FAILED:
        values["claimed_until"] = utc(retry_at or now)
    conn.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == claim.id, DeliveryRow.claimed_by == worker)
        .values(**values)
    )


def settle_abandoned(*, conn: Connection, now: datetime) -> int:
    """Deliveries left in SENDING by a worker that died: the platform may have delivered
    them, so they become UNKNOWN (counted and reported), never sent a second time."""
    result = conn.execute(
        update(DeliveryRow)
        .where(DeliveryRow.status == Status.SENDING.value, DeliveryRow.claimed_until < utc(now))
        .values(
            status=Status.UNKNOWN.value,
            done_at=utc(now),
            note="the sender stopped mid-send; not repeated",
        )
    )
    return int(result.rowcount)


def status_of(*, conn: Connection, user: UserId, kind: str, day: str) -> Status | None:
    value = conn.execute(
        select(DeliveryRow.status).where(
            DeliveryRow.user_id == user, DeliveryRow.kind == kind, DeliveryRow.day == day
        )
    ).scalar_one_or_none()
    return Status(value) if value is not None else None


def counts(*, conn: Connection) -> dict[Status, int]:
    rows = conn.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status))
    return {Status(s): int(n) for s, n in rows}


# --- leases -------------------------------------------------------------------------------------


def acquire_lease(
    *, conn: Connection, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False while another holds it."""
    until = utc(now) + ttl
    inserted = conn.execute(
        dialect_insert(conn, _LEASES)
        .values(name=name, holder=holder, until=until)
        .on_conflict_do_nothing()
        .returning(_LEASES.c.name)
    ).first()
    if inserted is not None:
        return True
    taken = conn.execute(
        update(JobLeaseRow)
        .where(
            JobLeaseRow.name == name,
            or_(JobLeaseRow.holder == holder, JobLeaseRow.until < utc(now)),
        )
        .values(holder=holder, until=until)
    )
    return taken.rowcount == 1


def release_lease(*, conn: Connection, name: str, holder: str) -> None:
    conn.execute(_LEASES.delete().where(_LEASES.c.name == name, _LEASES.c.holder == holder))
