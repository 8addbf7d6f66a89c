"""The delivery ledger and job leases.

Every write here is one conditional statement, so two scheduler processes (or one that was
killed and restarted) can race on the same row and exactly one of them wins: SQLite
serialises writers, PostgreSQL locks the row the UPDATE matches and re-checks its WHERE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, update

from storage._sql import dialect_insert, utc
from storage.models import Base, DeliveryRow, JobLeaseRow
from wavelength.domain import UserId

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_DELIVERIES = Base.metadata.tables["deliveries"]
_LEASES = Base.metadata.tables["job_leases"]


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
    max_attempts: int = 5,
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


def start_sending(*, conn: Connection, claim: Claim, worker: str) -> bool:
    """Mark the claim as being sent; False when the worker lost it (its lease ran out and
    another took over), in which case it must not send."""
    result = conn.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.id == claim.id,
            DeliveryRow.claimed_by == worker,
            DeliveryRow.status == Status.CLAIMED.value,
        )
        .values(status=Status.SENDING.value)
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
