"""One delivery round: find what is due, claim it, compose it in a batch, send it, record it.

Exactly once, in order: the ledger row is claimed before anything is composed, marked
SENDING when the first request of the delivery is about to leave for the platform (the
frontend opens a ``SendGate`` after its rate limiter's wait), and SENT (or SKIPPED / FAILED
with a reason) right after. A delivery killed while it still waited has sent nothing: it
stays CLAIMED and the next round, once the claim runs out, delivers it. A second scheduler
finds the claim and moves on; a restarted one finds rows in SENDING that it can't know the
fate of and settles them as UNKNOWN instead of sending them again, as does a send whose
request got no answer (a timeout: the platform may have shown it). Only the lease holder runs
a round at all, so two processes don't even race.

Finding what is due reads only the listeners whose stored next-due instant has come (each
round moves it on to ``jobs.schedule.next_due``; changed settings clear it) and the ledger's
claims that ran out and failures due a retry; ``due_now`` still decides each one, and claims
are made a batch per statement. Kinds this runner doesn't make are not looked for again once
their day's instant has passed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.engine import Engine

from bot.gate import NotSent, SendGate
from jobs.schedule import GRACE, KINDS, Due, due_now, next_due
from storage import accounts
from storage import deliveries as ledger
from storage.deliveries import Claim, Status, Wanted
from wavelength.domain import UserId, UserPrefs

log = logging.getLogger(__name__)

LEASE = "deliveries"


@dataclass(frozen=True, slots=True)
class Outcome:
    # SENT, SKIPPED (final, e.g. blocked the bot), UNKNOWN (final: no answer, maybe shown)
    # or FAILED (retry later)
    status: Status
    note: str | None = None
    retry_at: datetime | None = None


class Composer(Protocol):
    """Builds deliveries for many users at once (vectorised where it can be)."""

    def compose(self, kind: str, users: Sequence[UserId]) -> dict[UserId, object]:
        """Content per user; a user left out has nothing to send today (skipped, noted)."""
        ...


class Sender(Protocol):
    async def send(self, due: Due, content: object, gate: SendGate) -> Outcome:
        """Deliver ``content``, opening ``gate`` right before anything leaves for the platform
        (and sending nothing when it refuses: it raises ``NotSent``)."""
        ...


@dataclass(frozen=True, slots=True)
class Scan:
    """A round's finds: what is due, and every listener looked at (whose next-due instant
    moves on once the claims are made)."""

    due: list[Due]
    seen: list[tuple[UserId, UserPrefs]]
    recheck: dict[UserId, datetime] = field(default_factory=dict)  # earlier than next_due


@dataclass(slots=True)
class RoundReport:
    due: int = 0
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unknown: int = 0  # sent without an answer: maybe shown, never sent again
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
        scan = await asyncio.to_thread(self.scan, now, only)
        report.due = len(scan.due)
        claims = await asyncio.to_thread(self.claim, scan.due, now)
        await asyncio.to_thread(self.advance, scan, now)
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
            elif status is Status.UNKNOWN:
                report.unknown += 1
        return report

    def scan(self, now: datetime, only: Sequence[UserId] | None = None) -> Scan:
        """What is due at ``now`` and not yet in the ledger (or claimable again there), for
        this runner's kinds. Read from the database: the opted-in listeners whose stored
        next-due instant has come (or who have none yet), and the ledger's claims that ran
        out and failures due a retry; ``due_now`` decides each of them."""
        since = now - GRACE
        with self._db.connect() as conn:
            seen = accounts.due_candidates(conn=conn, now=now)
            again = ledger.retryable(conn=conn, now=now, since=since)
            if only is not None:
                wanted = set(only)
                seen = [(u, p) for u, p in seen if u in wanted]
                again = [r for r in again if r[0] in wanted]
            found = {
                (d.user, d.kind, d.day.isoformat()): d
                for d in due_now(seen, now)
                if d.kind in self._kinds
            }
            for user, prefs, kind, day in again:
                found.update(
                    {
                        (d.user, d.kind, d.day.isoformat()): d
                        for d in due_now([(user, prefs)], now)
                        if d.kind == kind and d.day.isoformat() == day and kind in self._kinds
                    }
                )
            held = ledger.held(conn=conn, keys=list(found), now=now)
        due = [d for key, d in found.items() if key not in held]
        # A delivery due now that waits for its retry time (or a live claim): its listener is
        # looked at again then, when their settings may no longer match its ledger row.
        recheck: dict[UserId, datetime] = {}
        for (user, _, _), at in held.items():
            if at is not None:
                recheck[user] = min(at, recheck.get(user, at))
        return Scan(sorted(due, key=lambda d: (d.user, KINDS.index(d.kind))), seen, recheck)

    def advance(self, scan: Scan, now: datetime) -> None:
        """After the claims: each listener looked at is next due at ``next_due`` (what was
        due now is in the ledger, claimed here or by someone else), or when a delivery of
        theirs held in the ledger may be claimed again: a failure's row keeps the instant of
        the settings it was claimed under, and the ledger's own retry look (``retryable``)
        goes back only the grace from there."""
        later = []
        for user, prefs in scan.seen:
            at = next_due(prefs, now)
            if user in scan.recheck:
                at = min(at, scan.recheck[user])
            later.append((user, prefs, at))
        for start in range(0, len(later), ledger.CLAIM_BATCH):
            with self._db.begin() as conn:
                accounts.set_next_due(conn=conn, due=later[start : start + ledger.CLAIM_BATCH])

    def claim(self, due: Sequence[Due], now: datetime) -> list[tuple[Due, Claim]]:
        """Claims, a batch per transaction; a delivery someone else holds is left out."""
        by_key = {(d.user, d.kind, d.day.isoformat()): d for d in due}
        wanted = [Wanted(d.user, d.kind, d.day.isoformat(), d.due_at) for d in due]
        claims: list[tuple[Due, Claim]] = []
        for start in range(0, len(wanted), ledger.CLAIM_BATCH):
            with self._db.begin() as conn:
                got = ledger.claim_many(
                    conn=conn, wanted=wanted[start : start + ledger.CLAIM_BATCH],
                    worker=self._worker, now=now, lease=self._claim_ttl,
                )  # fmt: skip
            claims += [(by_key[(c.user, c.kind, c.day)], c) for c in got]
        order = {key: i for i, key in enumerate(by_key)}
        return sorted(claims, key=lambda dc: order[(dc[1].user, dc[1].kind, dc[1].day)])

    async def _deliver(self, d: Due, c: Claim, content: object, report: RoundReport) -> Status:
        if content is None:
            self._finish(c, Outcome(Status.SKIPPED, "nothing to go on yet"))
            return Status.SKIPPED

        async def leaving() -> bool:
            # Off the loop: the other deliveries' requests keep going meanwhile.
            return await asyncio.to_thread(self._start_sending, c)

        gate = SendGate(leaving)
        try:
            outcome = await self._sender.send(d, content, gate)
        except NotSent:
            return Status.CLAIMED  # lost the claim: whoever took it over sends it
        except Exception as exc:
            report.notes.append(f"{d.kind} for user {d.user}: {type(exc).__name__}")
            if gate.opened:
                # The platform may or may not have it; SENDING stays and is settled as
                # UNKNOWN by a later round rather than risk a second copy.
                log.exception("sending %s to user %s failed midway", d.kind, d.user)
                return Status.SENDING
            # Nothing left for the platform: safe to try again once the claim runs out.
            log.exception("sending %s to user %s failed before it left", d.kind, d.user)
            retry = self._clock() + self._claim_ttl
            self._finish(c, Outcome(Status.FAILED, type(exc).__name__, retry_at=retry))
            return Status.FAILED
        if outcome.status is Status.UNKNOWN:
            report.notes.append(f"{d.kind} for user {d.user}: {outcome.note}")
        self._finish(c, outcome)
        return outcome.status

    def _start_sending(self, c: Claim) -> bool:
        with self._db.begin() as conn:
            return ledger.start_sending(
                conn=conn, claim=c, worker=self._worker, until=self._clock() + self._claim_ttl
            )

    def _finish(self, c: Claim, outcome: Outcome) -> None:
        with self._db.begin() as conn:
            ledger.finish(
                conn=conn, claim=c, worker=self._worker, status=outcome.status,
                now=self._clock(), note=outcome.note, retry_at=outcome.retry_at,
            )  # fmt: skip
