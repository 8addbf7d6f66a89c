"""Delivery rounds on a real database: exactly once through crashes, restarts and rivals."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from bot.gate import SendGate
from jobs.runner import DeliveryRunner, Outcome, Sender
from jobs.schedule import DAILY, Due
from storage import accounts, deliveries
from storage import stations as repo
from storage.deliveries import Status
from wavelength.domain import UserId, UserPrefs

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Picks:
    """A composer with a known answer: one line per user, nothing for ``empty`` users."""

    def __init__(self, empty: frozenset[UserId] = frozenset()) -> None:
        self.calls: list[tuple[str, int]] = []
        self.empty = empty

    def compose(self, kind: str, users: Sequence[UserId]) -> dict[UserId, object]:
        self.calls.append((kind, len(users)))
        return {u: f"picks for {u}" for u in users if u not in self.empty}


class Inbox:
    """A sender that records what arrived; it can block a user or die mid-send. Like the
    real frontends it opens the gate as its (one) request leaves."""

    def __init__(self) -> None:
        self.got: list[tuple[UserId, str, str]] = []
        self.blocked: set[UserId] = set()
        self.crash_on: set[UserId] = set()
        self.fail_once: set[UserId] = set()

    async def send(self, due: Due, content: object, gate: SendGate) -> Outcome:
        await asyncio.sleep(0)
        await gate.open()
        if due.user in self.crash_on:
            raise ConnectionResetError("killed mid-send")
        if due.user in self.blocked:
            return Outcome(Status.SKIPPED, "blocked the bot")
        if due.user in self.fail_once:
            self.fail_once.discard(due.user)
            return Outcome(Status.FAILED, "503", retry_at=NOON + timedelta(minutes=1))
        self.got.append((due.user, due.kind, str(content)))
        return Outcome(Status.SENT)


def users(engine: Engine, n: int) -> list[UserId]:
    made = []
    with engine.begin() as conn:
        for i in range(n):
            user = repo.get_or_create_user(
                conn=conn, provider="telegram", external_id=f"u{i}", display_name=None
            )
            prefs = UserPrefs(time_zone="UTC", delivery_minute=8 * 60, daily=i % 5 != 4)
            accounts.put_prefs(conn=conn, user=user, prefs=prefs, now=NOON)
            made.append(user)
    return made


def runner(
    engine: Engine,
    inbox: Sender,
    *,
    worker: str = "w1",
    now: datetime = NOON,
    picks: Picks | None = None,
) -> DeliveryRunner:
    return DeliveryRunner(
        database=engine, composer=picks or Picks(), sender=inbox, worker=worker, clock=lambda: now
    )


def test_each_opted_in_user_gets_one_delivery_per_day(engine: Engine) -> None:
    people = users(engine, 10)
    inbox, picks = Inbox(), Picks()
    first = asyncio.run(runner(engine, inbox, picks=picks).run_round())
    again = asyncio.run(runner(engine, inbox, picks=picks).run_round())
    assert (first.due, first.claimed, first.sent) == (8, 8, 8)  # 2 of 10 did not opt in
    assert (again.claimed, again.sent) == (0, 0)
    assert sorted(u for u, _, _ in inbox.got) == sorted(
        p for i, p in enumerate(people) if i % 5 != 4
    )
    assert picks.calls == [(DAILY, 8)]  # one batched call, not one per user


def test_two_schedulers_never_double_send(engine: Engine) -> None:
    users(engine, 20)
    inbox = Inbox()

    async def both() -> None:
        await asyncio.gather(
            runner(engine, inbox, worker="a").run_round(),
            runner(engine, inbox, worker="b").run_round(),
        )

    asyncio.run(both())
    # Whichever got the lease sent everything; the other sent nothing.
    sent = [u for u, _, _ in inbox.got]
    assert len(sent) == len(set(sent)) == 16
    # Even without the lease (it expired), the ledger alone keeps it to one each.
    later = NOON + timedelta(minutes=30)
    report = asyncio.run(runner(engine, inbox, worker="c", now=later).run_round())
    assert report.claimed == 0 and len(inbox.got) == 16


def test_a_rival_holding_the_lease_makes_a_round_stand_down(engine: Engine) -> None:
    users(engine, 3)
    with engine.begin() as conn:
        assert deliveries.acquire_lease(
            conn=conn, name="deliveries", holder="other", now=NOON, ttl=timedelta(minutes=5)
        )
    report = asyncio.run(runner(engine, Inbox()).run_round())
    assert report.lease_held_elsewhere and report.sent == 0


def test_kill_mid_send_then_restart_never_sends_twice_and_says_so(engine: Engine) -> None:
    people = users(engine, 4)
    inbox = Inbox()
    inbox.crash_on = {people[1]}
    first = asyncio.run(runner(engine, inbox).run_round())
    assert first.sent == 3 and first.notes
    inbox.crash_on = set()
    # The restarted process, after the dead worker's claim ran out.
    later = NOON + timedelta(minutes=15)
    second = asyncio.run(runner(engine, inbox, worker="w2", now=later).run_round())
    assert second.settled_unknown == 1 and second.sent == 0
    assert [u for u, _, _ in inbox.got].count(people[1]) == 0
    with engine.connect() as conn:
        status = deliveries.status_of(conn=conn, user=people[1], kind=DAILY, day="2026-11-27")
        assert status is Status.UNKNOWN  # reported, not silently skipped
        assert deliveries.counts(conn=conn) == {Status.SENT: 3, Status.UNKNOWN: 1}


def test_kill_after_claim_before_send_is_picked_up_by_the_next_worker(engine: Engine) -> None:
    (person,) = users(engine, 1)
    with engine.begin() as conn:  # a worker claimed it, then died before sending
        deliveries.claim(
            conn=conn, user=person, kind=DAILY, day="2026-11-27", due_at=NOON, worker="dead",
            now=NOON, lease=timedelta(minutes=10),
        )  # fmt: skip
    inbox = Inbox()
    early = asyncio.run(runner(engine, inbox, now=NOON + timedelta(minutes=5)).run_round())
    assert early.claimed == 0  # the dead worker's claim is still live
    late = asyncio.run(runner(engine, inbox, now=NOON + timedelta(minutes=11)).run_round())
    assert late.sent == 1 and [u for u, _, _ in inbox.got] == [person]


def test_blocked_users_are_skipped_and_failures_retried(engine: Engine) -> None:
    a, b, c = users(engine, 3)
    inbox = Inbox()
    inbox.blocked, inbox.fail_once = {a}, {b}
    first = asyncio.run(runner(engine, inbox, picks=Picks(empty=frozenset({c}))).run_round())
    assert (first.sent, first.skipped, first.failed) == (0, 2, 1)
    retry = asyncio.run(runner(engine, inbox, now=NOON + timedelta(minutes=2)).run_round())
    assert retry.sent == 1 and [u for u, _, _ in inbox.got] == [b]
    with engine.connect() as conn:
        assert (
            deliveries.status_of(conn=conn, user=a, kind=DAILY, day="2026-11-27") is Status.SKIPPED
        )


def test_a_lost_claim_is_not_sent(engine: Engine) -> None:
    (person,) = users(engine, 1)
    with engine.begin() as conn:
        mine = deliveries.claim(
            conn=conn, user=person, kind=DAILY, day="2026-11-27", due_at=NOON, worker="slow",
            now=NOON, lease=timedelta(minutes=1),
        )  # fmt: skip
        assert mine is not None
        theirs = deliveries.claim(
            conn=conn, user=person, kind=DAILY, day="2026-11-27", due_at=NOON, worker="fast",
            now=NOON + timedelta(minutes=2), lease=timedelta(minutes=1),
        )  # fmt: skip
        assert theirs is not None and theirs.attempts == 2
        assert not deliveries.start_sending(conn=conn, claim=mine, worker="slow")
        assert deliveries.start_sending(conn=conn, claim=theirs, worker="fast")


@pytest.mark.parametrize("holder", ["a", "b"])
def test_leases_expire_and_renew(engine: Engine, holder: str) -> None:
    ttl = timedelta(minutes=5)
    with engine.begin() as conn:
        assert deliveries.acquire_lease(conn=conn, name="x", holder="a", now=NOON, ttl=ttl)
        assert deliveries.acquire_lease(conn=conn, name="x", holder="a", now=NOON, ttl=ttl)
        assert not deliveries.acquire_lease(conn=conn, name="x", holder="b", now=NOON, ttl=ttl)
        later = NOON + timedelta(minutes=6)
        assert deliveries.acquire_lease(conn=conn, name="x", holder=holder, now=later, ttl=ttl)
        deliveries.release_lease(conn=conn, name="x", holder=holder)
        assert deliveries.acquire_lease(conn=conn, name="x", holder="c", now=later, ttl=ttl)


class Queued:
    """A sender whose requests wait in a rate limiter's queue until ``go`` is set, then open
    the gate and leave (as the Telegram limiter and the Discord trace do)."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.waiting = 0
        self.left: list[UserId] = []
        self.answer = Outcome(Status.SENT)

    async def send(self, due: Due, content: object, gate: SendGate) -> Outcome:
        self.waiting += 1
        await self.go.wait()
        await gate.open()
        self.left.append(due.user)
        return self.answer


def status(engine: Engine, user: UserId) -> Status | None:
    with engine.connect() as conn:
        return deliveries.status_of(conn=conn, user=user, kind=DAILY, day="2026-11-27")


def test_killed_while_queued_it_stays_claimed_and_the_next_round_delivers_it_once(
    engine: Engine,
) -> None:
    (person,) = users(engine, 1)
    queue = Queued()

    async def killed() -> None:
        task = asyncio.create_task(runner(engine, queue).run_round())
        while not queue.waiting:
            await asyncio.sleep(0.001)
        task.cancel()  # the process dies while the message waits for its turn
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(killed())
    assert queue.left == [] and status(engine, person) is Status.CLAIMED
    queue.go.set()
    early = runner(engine, Inbox(), worker="w2", now=NOON + timedelta(minutes=5))
    assert asyncio.run(early.run_round()).claimed == 0  # the dead worker's claim is live
    later = NOON + timedelta(minutes=11)
    inbox = Inbox()
    report = asyncio.run(runner(engine, inbox, worker="w2", now=later).run_round())
    assert (report.settled_unknown, report.sent) == (0, 1)
    again = asyncio.run(runner(engine, inbox, worker="w2", now=later).run_round())
    assert again.claimed == 0 and [u for u, _, _ in inbox.got] == [person]
    assert status(engine, person) is Status.SENT


def test_a_claim_taken_over_while_queued_is_not_sent_by_the_stalled_worker(
    engine: Engine,
) -> None:
    (person,) = users(engine, 1)
    stalled, inbox = Queued(), Inbox()

    async def race() -> None:
        first = asyncio.create_task(runner(engine, stalled).run_round())
        while not stalled.waiting:
            await asyncio.sleep(0.001)
        # Another process, its clock past the stalled worker's claim, takes it over.
        late = NOON + timedelta(minutes=11)
        taken = await runner(engine, inbox, worker="w2", now=late).run_round()
        assert taken.sent == 1
        stalled.go.set()
        report = await first
        assert report.claimed == 1 and report.sent == 0  # the gate refused: nothing left

    asyncio.run(race())
    assert stalled.left == [] and [u for u, _, _ in inbox.got] == [person]
    assert status(engine, person) is Status.SENT


def test_a_send_that_got_no_answer_is_unknown_reported_and_never_repeated(
    engine: Engine,
) -> None:
    (person,) = users(engine, 1)
    queue = Queued()
    queue.go.set()
    queue.answer = Outcome(Status.UNKNOWN, "no answer from telegram: TimedOut")
    report = asyncio.run(runner(engine, queue).run_round())
    assert (report.sent, report.unknown, report.failed) == (0, 1, 0)
    assert report.notes == [f"daily-picks for user {person}: no answer from telegram: TimedOut"]
    assert status(engine, person) is Status.UNKNOWN
    for minutes in (11, 60, 6 * 60):
        later = runner(engine, queue, now=NOON + timedelta(minutes=minutes))
        assert asyncio.run(later.run_round()).claimed == 0
    assert queue.left == [person]


class Broken:
    """A sender that fails before anything leaves (the gate is never opened)."""

    async def send(self, due: Due, content: object, gate: SendGate) -> Outcome:
        raise RuntimeError("the renderer broke")


def test_a_failure_before_anything_left_is_tried_again_later(engine: Engine) -> None:
    (person,) = users(engine, 1)
    first = asyncio.run(runner(engine, Broken()).run_round())
    assert first.failed == 1 and status(engine, person) is Status.FAILED
    inbox = Inbox()
    retry = asyncio.run(runner(engine, inbox, now=NOON + timedelta(minutes=11)).run_round())
    assert retry.sent == 1 and [u for u, _, _ in inbox.got] == [person]


def test_many_claims_at_once_are_exact_under_a_race(engine: Engine) -> None:
    people = users(engine, 30)
    wanted = [deliveries.Wanted(u, DAILY, "2026-11-27", NOON) for u in people]
    lease = timedelta(minutes=10)
    with engine.begin() as conn:
        mine = deliveries.claim_many(
            conn=conn, wanted=wanted[:20], worker="a", now=NOON, lease=lease
        )
    with engine.begin() as conn:
        theirs = deliveries.claim_many(conn=conn, wanted=wanted, worker="b", now=NOON, lease=lease)
    assert sorted(c.user for c in mine) == sorted(people[:20])
    assert sorted(c.user for c in theirs) == sorted(people[20:])  # only what was free
    assert all(c.attempts == 1 for c in mine + theirs)
    # Past a's lease, b takes a's claims over (a second attempt); finished rows stay put.
    with engine.begin() as conn:
        deliveries.finish(conn=conn, claim=mine[0], worker="a", status=Status.SENT, now=NOON)
        later = deliveries.claim_many(
            conn=conn, wanted=wanted, worker="b", now=NOON + lease * 2, lease=lease
        )
    assert len(later) == 29 and mine[0].user not in {c.user for c in later}
    assert {c.attempts for c in later if c.user in people[:20]} == {2}
