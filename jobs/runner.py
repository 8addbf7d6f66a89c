"""One delivery round: find what is due, claim it, compose it in a batch, send it, record it.

Exactly once, in order: the ledger row is claimed before anything is composed, marked
SENDING right before the platform is called, and SENT (or SKIPPED / FAILED with a reason)
right after. A second scheduler finds the claim and moves on; a restarted one finds rows in
SENDING that it can't know the fate of and settles them as UNKNOWN instead of sending them
again. Only the lease holder runs a round at all, so two processes don't even race.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.engine import Engine

from jobs.schedule import KINDS, Due, due_now
from storage import accounts
from storage import deliveries as ledger
from storage.deliveries import Claim, Status
from wavelength.domain import UserId

log = logging.getLogger(__name__)

LEASE = "deliveries"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status  # SENT, SKIPPED (final, e.g. blocked the bot) or FAILED (retry later)
    note: str | None = None
    retry_at: datetime | None = None


class Composer(Protocol):
    """Builds deliveries for many users at once (vectorised where it can be)."""

    def compose(self, kind: str, users: Sequence[UserId]) -> dict[UserId, object]:
        """Content per user; a user left out has nothing to send today (skipped, noted)."""
        ...


class Sender(Protocol):
    async def send(self, due: Due, content: object) -> Outcome: ...


@dataclass(slots=True)
class RoundReport:
    due: int = 0
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    settled_unknown: int = 0
    lease_held_elsewhere: bool = False
    notes: list[str] = field(default_factory=list)


class DeliveryRunner:
    def __init__(
        self,
        *,
        database: Engine,
        composer: Composer,
        sender: Sender,
        worker: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lease_ttl: timedelta = timedelta(minutes=5),
        claim_ttl: timedelta = timedelta(minutes=10),
        concurrency: int = 32,
        kinds: Sequence[str] = KINDS,
    ) -> None:
        """``kinds``: the deliveries this runner makes (those its composer can compose); the
        others are left for a later build rather than skipped in the ledger."""
        self._db = database
        self._composer = composer
        self._sender = sender
        self._worker = worker
        self._clock = clock
        self._lease_ttl = lease_ttl
        self._claim_ttl = claim_ttl
        self._concurrency = concurrency
        self._kinds = frozenset(kinds)

    async def run_round(self, *, only: Sequence[UserId] | None = None) -> RoundReport:
        """One round; ``only`` limits it to some users (operators' ``jobs run --user``)."""
        report = RoundReport()
        now = self._clock()
        with self._db.begin() as conn:
            if not ledger.acquire_lease(
                conn=conn, name=LEASE, holder=self._worker, now=now, ttl=self._lease_ttl
            ):
                report.lease_held_elsewhere = True
                return report
            report.settled_unknown = ledger.settle_abandoned(conn=conn, now=now)
            opted = accounts.opted_in(conn=conn)
        if only is not None:
            wanted = set(only)
            opted = [(u, p) for u, p in opted if u in wanted]
        due = [d for d in due_now(opted, now) if d.kind in self._kinds]
        report.due = len(due)
        claims: list[tuple[Due, Claim]] = []
        for d in due:
            with self._db.begin() as conn:
                c = ledger.claim(
                    conn=conn, user=d.user, kind=d.kind, day=d.day.isoformat(), due_at=d.due_at,
                    worker=self._worker, now=now, lease=self._claim_ttl,
                )  # fmt: skip
            if c is not None:
                claims.append((d, c))
        report.claimed = len(claims)
        content: dict[tuple[str, UserId], object] = {}
        for kind in {d.kind for d, _ in claims}:
            users = [d.user for d, _ in claims if d.kind == kind]
            made = await asyncio.to_thread(self._composer.compose, kind, users)
            content.update({(kind, u): c for u, c in made.items()})
        gate = asyncio.Semaphore(self._concurrency)

        async def one(d: Due, c: Claim) -> Status:
            async with gate:
                return await self._deliver(d, c, content.get((d.kind, d.user)), report)

        for status in await asyncio.gather(*(one(d, c) for d, c in claims)):
            if status is Status.SENT:
                report.sent += 1
            elif status is Status.SKIPPED:
                report.skipped += 1
            elif status is Status.FAILED:
                report.failed += 1
        return report

    async def _deliver(self, d: Due, c: Claim, content: object, report: RoundReport) -> Status:
        if content is None:
            self._finish(c, Outcome(Status.SKIPPED, "nothing to go on yet"))
            return Status.SKIPPED
        with self._db.begin() as conn:
            if not ledger.start_sending(conn=conn, claim=c, worker=self._worker):
                return Status.CLAIMED  # lost the claim: whoever took it over sends it
        try:
            outcome = await self._sender.send(d, content)
        except Exception as exc:
            # The platform may or may not have it; SENDING stays and is settled as UNKNOWN
            # by the next round rather than risk a second copy.
            log.exception("sending %s to user %s failed midway", d.kind, d.user)
            report.notes.append(f"{d.kind} for user {d.user}: {type(exc).__name__}")
            return Status.SENDING
        self._finish(c, outcome)
        return outcome.status

    def _finish(self, c: Claim, outcome: Outcome) -> None:
        with self._db.begin() as conn:
            ledger.finish(
                conn=conn, claim=c, worker=self._worker, status=outcome.status,
                now=self._clock(), note=outcome.note, retry_at=outcome.retry_at,
            )  # fmt: skip
