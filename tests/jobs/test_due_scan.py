"""The round's "who is due" (``DeliveryRunner.scan``): it reads only the listeners whose stored
next-due instant has come and the ledger's retries, and finds exactly what ``due_now`` over
every listener finds minus what the ledger has settled, round after round, on both
databases, through settings changes, failures, crashed claims and daylight saving."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from jobs.runner import DeliveryRunner, Outcome
from jobs.schedule import DAILY, GRACE, Due, due_now
from storage import accounts, deliveries
from storage.deliveries import Status
from storage.models import DeliveryRow, UserRow, UserSettingsRow
from wavelength.domain import UserId, UserPrefs

# Whole, half and quarter hours, a zone that skipped a day (Apia, 2011), one that moves by
# half an hour (Lord Howe), both hemispheres' daylight saving, and a name that isn't a zone.
ZONES = (
    "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
    "Asia/Kathmandu", "Pacific/Apia", "America/St_Johns", "America/Santiago", "Not/AZone",
)  # fmt: skip
_names = itertools.count(1)


class Unused:
    def compose(self, kind: str, users: object) -> dict[UserId, object]:
        return {}

    async def send(self, due: Due, content: object, gate: object) -> Outcome:
        return Outcome(Status.SKIPPED)


def runner(engine: Engine) -> DeliveryRunner:
    return DeliveryRunner(database=engine, composer=Unused(), sender=Unused(), worker="w")


def fresh(engine: Engine, listeners: list[UserPrefs], at: datetime) -> list[UserId]:
    with engine.begin() as conn:
        conn.execute(delete(DeliveryRow))
        conn.execute(delete(UserSettingsRow))
        made = []
        for prefs in listeners:
            user = UserId(
                conn.execute(
                    insert(UserRow).values(name=f"due-scan-{next(_names)}").returning(UserRow.id)
                ).scalar_one()
            )
            accounts.put_prefs(conn=conn, user=user, prefs=prefs, now=at)
            made.append(user)
    return made


def expected(engine: Engine, now: datetime) -> dict[tuple[UserId, str, str], Due]:
    """The rule itself: ``due_now`` over every opted-in listener, minus what the ledger
    holds and no claim may take."""
    with engine.connect() as conn:
        opted = accounts.opted_in(conn=conn)
        d = DeliveryRow
        rows = conn.execute(
            select(d.user_id, d.kind, d.day, d.status, d.claimed_until, d.attempts)
        ).all()
    settled = {
        (UserId(r.user_id), r.kind, r.day)
        for r in rows
        if not (
            r.status in (Status.CLAIMED.value, Status.FAILED.value)
            and _utc(r.claimed_until) < now
            and r.attempts < deliveries.MAX_ATTEMPTS
        )
    }
    found = {(d.user, d.kind, d.day.isoformat()): d for d in due_now(opted, now)}
    return {k: d for k, d in found.items() if k not in settled}


def _utc(at: datetime | None) -> datetime:
    assert at is not None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


prefs_st = st.builds(
    UserPrefs,
    time_zone=st.sampled_from(ZONES),
    delivery_minute=st.one_of(st.just(9 * 60), st.sampled_from([0, 90, 150, 1439]),
                              st.integers(0, 1439)),
    daily=st.sampled_from([True, True, True, False]),
    paused=st.sampled_from([False, False, False, True]),
)  # fmt: skip
# Gaps from a minute to a day and a half (a restart, a night's outage, more than the grace).
gap_st = st.one_of(st.integers(1, 10), st.integers(11, 180), st.integers(181, 36 * 60))
outcome_st = st.sampled_from(["sent", "sent", "sent", "failed", "crashed", "sending"])
start_st = st.datetimes(
    min_value=datetime(2026, 3, 1), max_value=datetime(2026, 11, 5), timezones=st.just(UTC)
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    listeners=st.lists(prefs_st, min_size=1, max_size=10),
    start=start_st,
    data=st.data(),
)
def test_the_scan_finds_exactly_what_due_now_finds_and_the_ledger_lacks(
    engine: Engine, listeners: list[UserPrefs], start: datetime, data: st.DataObject
) -> None:
    users = fresh(engine, listeners, start)
    scanner = runner(engine)
    now = start
    for _ in range(data.draw(st.integers(1, 7), label="rounds")):
        now += timedelta(minutes=data.draw(gap_st, label="gap"))
        if data.draw(st.booleans(), label="someone changes their settings"):
            who = data.draw(st.sampled_from(users), label="who")
            with engine.begin() as conn:
                accounts.put_prefs(conn=conn, user=who, prefs=data.draw(prefs_st), now=now)
        want = expected(engine, now)
        event("something due" if want else "nothing due")
        scan = scanner.scan(now)
        got = {(d.user, d.kind, d.day.isoformat()): d for d in scan.due}
        assert got == want
        claims = scanner.claim(scan.due, now)
        assert sorted((c.user, c.kind, c.day) for _, c in claims) == sorted(want)
        with engine.begin() as conn:
            for _, c in claims:
                end = data.draw(outcome_st, label="how the send ended")
                if end == "sent":
                    deliveries.finish(conn=conn, claim=c, worker="w", status=Status.SENT, now=now)
                elif end == "failed":
                    wait = timedelta(minutes=data.draw(st.integers(0, 120), label="retry in"))
                    deliveries.finish(
                        conn=conn, claim=c, worker="w", status=Status.FAILED, now=now,
                        retry_at=now + wait,
                    )  # fmt: skip
                elif end == "sending":
                    deliveries.start_sending(conn=conn, claim=c, worker="w")
                # "crashed": left CLAIMED; free again once the claim runs out
        scanner.advance(scan, now)


def test_a_round_reads_only_those_whose_time_has_come(engine: Engine) -> None:
    """After a round everyone's next-due instant is stored; a minute later only the
    listeners due in that minute are read, and changed settings are looked at again."""
    morning = datetime(2026, 11, 27, 7, 58, tzinfo=UTC)
    berlin = UserPrefs(time_zone="Europe/Berlin", delivery_minute=9 * 60, daily=True)
    later = UserPrefs(time_zone="Europe/Berlin", delivery_minute=9 * 60 + 1, daily=True)
    a, b, c = fresh(engine, [berlin, later, later], morning)
    scanner = runner(engine)
    first = scanner.scan(morning)
    assert first.due == [] and len(first.seen) == 3  # nobody's instant was known yet
    scanner.advance(first, morning)
    assert scanner.scan(morning + timedelta(minutes=1)).seen == []
    at_nine = morning + timedelta(minutes=2)  # 09:00 in Berlin
    scan = scanner.scan(at_nine)
    assert [d.user for d in scan.due] == [a] and [u for u, _ in scan.seen] == [a]
    scanner.claim(scan.due, at_nine)
    scanner.advance(scan, at_nine)
    with engine.begin() as conn:  # c pauses; nothing of c is read again
        accounts.put_prefs(conn=conn, user=c, prefs=replace(later, paused=True), now=at_nine)
    nine_one = at_nine + timedelta(minutes=1)
    scan = scanner.scan(nine_one)
    assert [d.user for d in scan.due] == [b] and [u for u, _ in scan.seen] == [b]
    with engine.connect() as conn:
        stored = conn.execute(select(UserSettingsRow.user_id, UserSettingsRow.next_due_at)).all()
    nexts = {UserId(u): _utc(t) if t else None for u, t in stored}
    assert nexts[a] == datetime(2026, 11, 28, 8, 0, tzinfo=UTC) and nexts[c] is None
    assert DAILY in {d.kind for d in scan.due}


def test_after_an_outage_longer_than_the_grace_nothing_old_is_due(engine: Engine) -> None:
    morning = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    (person,) = fresh(
        engine, [UserPrefs(time_zone="UTC", delivery_minute=8 * 60, daily=True)], morning
    )
    scanner = runner(engine)
    scanner.advance(scanner.scan(morning), morning)  # next due: 08:00 today
    back = morning + GRACE + timedelta(hours=2)  # down from 07:00 to 21:00
    scan = scanner.scan(back)
    assert scan.due == [] and [u for u, _ in scan.seen] == [person]
    scanner.advance(scan, back)
    with engine.connect() as conn:
        assert accounts.due_candidates(conn=conn, now=back) == []


def test_a_failed_delivery_is_retried_after_the_listener_moved_across_the_date_line(
    engine: Engine,
) -> None:
    """Hypothesis found it: a failure's ledger row keeps the instant of the old settings, too
    old for the ledger's own retry look; so a listener whose due delivery waits for its retry
    time is looked at again at that time, under the settings they have then."""
    apia = UserPrefs(time_zone="Pacific/Apia", delivery_minute=9 * 60, daily=True)
    first = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # 09:00 on 2 March in Apia was 11.5 h ago
    (person,) = fresh(engine, [apia], first)
    scanner = runner(engine)
    scan = scanner.scan(first)
    [(_, claim)] = scanner.claim(scan.due, first)
    with engine.begin() as conn:
        deliveries.finish(
            conn=conn, claim=claim, worker="w", status=Status.FAILED, now=first,
            retry_at=first + timedelta(hours=2),
        )  # fmt: skip
    scanner.advance(scan, first)
    # She moves to UTC; at 09:05 her 2 March is due again, but its retry time hasn't come.
    moved = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    with engine.begin() as conn:
        accounts.put_prefs(conn=conn, user=person, prefs=replace(apia, time_zone="UTC"), now=moved)
    scan = scanner.scan(moved)
    assert scan.due == []
    scanner.advance(scan, moved)  # her next instant: 3 March
    retry = datetime(2026, 3, 2, 9, 40, tzinfo=UTC)
    want = expected(engine, retry)
    assert list(want) == [(person, DAILY, "2026-03-02")]
    assert [(d.user, d.kind, d.day.isoformat()) for d in scanner.scan(retry).due] == list(want)


def test_a_crashed_retry_after_a_time_zone_change_is_found_again(engine: Engine) -> None:
    """Found by the property above: a failed delivery claimed again under new settings kept
    the instant of its first claim, so once that retry crashed, the ledger's retry look
    (the grace back from that instant) missed it for good."""
    kiritimati = UserPrefs(time_zone="Pacific/Kiritimati", delivery_minute=0, daily=True)
    first = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)  # 00:05 on the 3rd in Kiritimati
    [ana] = fresh(engine, [kiritimati], first)
    scanner = runner(engine)

    def round_(now: datetime, end: str) -> list[Due]:
        scan = scanner.scan(now)
        assert {(d.user, d.kind, d.day.isoformat()) for d in scan.due} == set(expected(engine, now))
        claims = scanner.claim(scan.due, now)
        with engine.begin() as conn:
            for _, c in claims:
                if end == "failed":
                    deliveries.finish(
                        conn=conn, claim=c, worker="w", status=Status.FAILED, now=now,
                        retry_at=now,
                    )  # fmt: skip
        scanner.advance(scan, now)
        return scan.due

    assert [d.day.isoformat() for d in round_(first, "failed")] == ["2026-03-03"]
    moved = datetime(2026, 3, 3, 0, 20, tzinfo=UTC)  # over 12 h after the first instant
    with engine.begin() as conn:
        accounts.put_prefs(
            conn=conn, user=ana, prefs=replace(kiritimati, time_zone="UTC"), now=moved
        )
    assert [d.due_at for d in round_(moved, "crashed")] == [datetime(2026, 3, 3, tzinfo=UTC)]
    again = round_(moved + timedelta(minutes=15), "crashed")  # the claim ran out
    assert [(d.user, d.kind, d.day.isoformat()) for d in again] == [(ana, DAILY, "2026-03-03")]
