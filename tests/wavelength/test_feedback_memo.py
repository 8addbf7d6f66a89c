"""``FeedbackMemo`` and the service's use of it: a station's reactions are read back only
when the database says they changed, and what it answers is what a fresh read answers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from recommender.station import StationComposer, StationContext
from storage import accounts, catalog, stations
from storage import feedback as fb
from storage.feedback import FeedbackState
from storage.names import SqlNameIndex
from tests.support.factories import track
from tests.support.world import World
from wavelength.domain import Feedback, Mood, Pick, Reaction, StationId, TrackId, UserId
from wavelength.feedback_memo import FeedbackMemo, grown
from wavelength.stations import StationService

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ANA = UserId(7)
HERE = StationId(3)
TRACKS = [track(n) for n in range(1, 9)]


def reaction(id: int, minute: int, *, user: UserId = ANA) -> Feedback:
    return Feedback(
        id=id,
        user=user,
        station=HERE,
        track=TRACKS[id % len(TRACKS)].id,
        reaction=Reaction.LIKE,
        at=T0 + timedelta(minutes=minute),
    )


def state(rows: int, newest: int, undone: int = 0) -> FeedbackState:
    """The state of ``rows`` rows of Ana's."""
    return FeedbackState(rows=rows, newest=newest, undone=undone, users=ANA * rows)


# --- the memo on plain values -------------------------------------------------------------------


def test_an_entry_grows_only_by_rows_that_account_for_the_new_state() -> None:
    held = (state(2, 2), (reaction(1, 0), reaction(2, 1)))
    third = reaction(3, 2)
    assert grown(held, state(3, 3), [third]) == (*held[1], third)
    assert grown(held, state(4, 3, undone=1), [third]) is None, "an undone row above it"
    assert grown(held, state(3, 3, undone=1), [third]) is None, "an undo elsewhere"
    assert grown(held, state(4, 3), [third]) is None, "a row committed late under a lower id"
    moved = FeedbackState(rows=3, newest=3, undone=0, users=ANA * 2 + 9)
    assert grown(held, moved, [third]) is None, "a merge moved rows to another user"


def test_grown_rows_are_ordered_as_the_query_orders_them() -> None:
    """Another process's clock may be behind: its newer row can be older by the clock."""
    held = (state(2, 2), (reaction(1, 0), reaction(2, 5)))
    late = reaction(3, 1)
    assert grown(held, state(3, 3), [late]) == (reaction(1, 0), late, reaction(2, 5))


def test_rows_read_after_their_state_are_not_kept() -> None:
    memo = FeedbackMemo()
    memo.put(HERE, state(1, 1), [reaction(1, 0), reaction(2, 1)])
    assert memo.get(HERE) is None
    memo.put(HERE, state(2, 2), [reaction(1, 0), reaction(2, 1)])
    assert memo.get(HERE) == (state(2, 2), (reaction(1, 0), reaction(2, 1)))


def test_the_memo_is_bounded_in_stations_and_in_rows() -> None:
    memo = FeedbackMemo(size=2, rows=5)
    one = [reaction(1, 0)]
    for station in (1, 2, 3):
        memo.put(StationId(station), state(1, 1), one)
    assert memo.get(StationId(1)) is None, "two stations at most: the oldest entry went first"
    memo.put(StationId(4), state(4, 4), [reaction(i, i) for i in range(1, 5)])
    assert memo.get(StationId(2)) is None and memo.get(StationId(3)) is not None
    memo.put(StationId(5), state(2, 2), [*one, reaction(2, 1)])
    assert len(memo) == 1, "five rows at most: both older entries went"
    memo.put(StationId(6), state(6, 6), [reaction(i, i) for i in range(1, 7)])
    assert memo.get(StationId(6)) is None, "an entry bigger than the bound is never kept"
    memo.forget(StationId(5))
    assert len(memo) == 0


# --- the memo over a database (SQLite and PostgreSQL) -------------------------------------------


@dataclass
class Db:
    engine: Engine
    station: StationId
    users: list[UserId]
    minute: int = 0
    memo: FeedbackMemo = field(default_factory=FeedbackMemo)

    def add(self, user: UserId, *, here: bool = True) -> None:
        self.minute += 1
        with self.engine.begin() as conn:
            fb.add_feedback(
                conn=conn,
                user=user,
                station=self.station if here else None,
                track=TRACKS[self.minute % len(TRACKS)].id,
                reaction=Reaction.DISLIKE if self.minute % 3 else Reaction.LIKE,
                now=T0 + timedelta(minutes=self.minute),
            )

    def fresh(self) -> tuple[Feedback, ...]:
        with self.engine.connect() as conn:
            return tuple(fb.feedback_for_station(conn=conn, station=self.station))

    def remembered(self) -> tuple[Feedback, ...]:
        with self.engine.connect() as conn:
            return self.memo.read(conn, self.station)


@pytest.fixture
def db(engine: Engine) -> Db:
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=TRACKS)
        users = [
            stations.get_or_create_user(
                conn=conn, provider="t", external_id=str(n), display_name=None
            )
            for n in range(3)
        ]
        station = stations.create_station(
            conn=conn, owner=users[0], name="Jazz", mood=Mood(original="jazz", text="jazz"), now=T0
        )
    return Db(engine, station.id, users)


def test_the_state_is_one_indexed_aggregate(db: Db) -> None:
    with db.engine.connect() as conn:
        assert fb.feedback_state(conn=conn, station=db.station) == FeedbackState(0, 0, 0, 0)
        if db.engine.dialect.name == "sqlite":
            compiled = fb._FEEDBACK_STATE.compile(db.engine)
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", (0, 0, 1)).all()
            assert "USING INDEX ix_feedback_station_id" in plan[0][-1]


def test_adds_undos_merges_and_copies_read_as_a_fresh_read_does(db: Db) -> None:
    """Every way a station's rows change, in a seeded mix, each checked against a fresh read."""
    rng = random.Random(3)
    owner = db.users[0]
    for step in range(40):
        move = rng.choice(("add", "add", "undo", "copy", "read", "other"))
        if move == "add":
            db.add(owner)
        elif move == "undo":
            with db.engine.begin() as conn:
                fb.undo_last(conn=conn, user=owner, now=T0 + timedelta(hours=step))
        elif move == "copy":  # rows into another station, which this one must not see
            with db.engine.begin() as conn:
                copy = stations.create_station(
                    conn=conn, owner=db.users[2], name=f"Copy {step}",
                    mood=Mood(original="jazz", text="jazz"), now=T0,
                )  # fmt: skip
                fb.copy_reactions(
                    conn=conn, source=db.station, target=copy.id, owner=db.users[2], now=T0
                )
        elif move == "other":
            db.add(db.users[1], here=False)
        assert db.remembered() == db.fresh(), f"after step {step} ({move})"
    with db.engine.begin() as conn:  # the owner's account folds into another: rows move
        accounts.merge_users(conn=conn, keep=db.users[1], gone=owner)
    assert db.remembered() == db.fresh()
    assert {f.user for f in db.fresh()} == {db.users[1]}


# PostgreSQL only: SQLite has one writer at a time, so no row commits late there.
@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_reaction_committed_late_under_a_lower_id_is_seen(db: Db) -> None:
    """PostgreSQL hands out ids at insert and shows rows at commit: an older transaction's
    row can appear after a newer one's, below the newest id the memo saw."""
    assert db.engine.dialect.name == "postgresql"
    db.add(db.users[0])
    db.remembered()
    with db.engine.connect() as slow:
        slow.begin()
        fb.add_feedback(
            conn=slow, user=db.users[0], station=db.station, track=TRACKS[0].id,
            reaction=Reaction.LIKE, now=T0,
        )  # fmt: skip
        db.add(db.users[0])
        assert db.remembered() == db.fresh()
        slow.commit()
    assert len(db.fresh()) == 3
    assert db.remembered() == db.fresh()


# --- the service: two processes, and what it reads ----------------------------------------------


class Recording(StationComposer):
    """The real composer, remembering the context of every batch it composed."""

    def __init__(self, world: World) -> None:
        super().__init__(store=world.store, encoder=world.encoder, catalog=world.catalog)
        self.contexts: list[StationContext] = []

    def next_batch(
        self, ctx: StationContext, *, n: int = 5, rng: random.Random | None = None
    ) -> list[Pick]:
        self.contexts.append(ctx)
        return super().next_batch(ctx, n=n, rng=rng)


@dataclass
class Reads:
    """The station-feedback reads sent to the database: all of a station's rows, or only
    those above an id."""

    full: int = 0
    newer: int = 0

    def __call__(self, *args: Any) -> None:
        statement: str = args[2]
        if (
            "FROM feedback" in statement
            and "ORDER BY feedback.created_at, feedback.id" in statement
        ):
            if "feedback.id >" in statement:
                self.newer += 1
            else:
                self.full += 1


@pytest.fixture(scope="module")
def names(world: World) -> SqlNameIndex:
    return SqlNameIndex.load(world.engine)


@pytest.fixture
def reads(world: World) -> Iterator[Reads]:
    counter = Reads()
    event.listen(world.engine, "before_cursor_execute", counter)
    yield counter
    event.remove(world.engine, "before_cursor_execute", counter)


def make(world: World, names: SqlNameIndex, composer: StationComposer) -> StationService:
    return StationService(engine=world.engine, composer=composer, names=names, rng=random.Random(1))


def test_another_process_adding_and_undoing_a_reaction_is_seen(
    world: World, names: SqlNameIndex, user: UserId
) -> None:
    recording = Recording(world)
    chat, api = make(world, names, recording), make(world, names, world.composer())
    first = chat.create(user, "jazz for reading")
    station = first.station
    liked = first.cards[0].track.id

    def positives() -> set[TrackId]:
        chat.next(user)
        ctx = recording.contexts[-1]
        with world.engine.connect() as conn:
            fresh = fb.feedback_for_station(conn=conn, station=station.id)
        assert ctx.positives == StationContext.build(ctx.station, feedback=fresh).positives
        return {t for t, _ in ctx.positives}

    assert liked not in positives()
    api.react_to_track(user, station.id, liked, Reaction.LIKE)
    assert liked in positives()
    api.unreact(user, liked, Reaction.LIKE)
    assert liked not in positives()


def test_nothing_changed_reads_no_reactions_and_one_reads_only_itself(
    world: World, names: SqlNameIndex, user: UserId, reads: Reads
) -> None:
    service = make(world, names, world.composer())
    first = service.create(user, "jazz for reading")
    for card in first.cards[:3]:
        service.react_to_track(user, first.station.id, card.track.id, Reaction.LIKE)
    service.next(user)
    before = Reads(reads.full, reads.newer)
    service.next(user)
    assert (reads.full, reads.newer) == (before.full, before.newer), "nothing changed"
    service.react(user, Reaction.LIKE, [1])
    service.next(user)
    assert (reads.full, reads.newer) == (before.full, before.newer + 1), "one new reaction"


def test_a_dislike_compares_the_bans_without_reading_every_reaction(
    world: World, names: SqlNameIndex, user: UserId, reads: Reads
) -> None:
    service = make(world, names, world.composer())
    service.create(user, "jazz for reading")
    service.react(user, Reaction.LIKE, [1])
    service.next(user)
    full = reads.full
    service.react(user, Reaction.DISLIKE, [2])
    assert reads.full == full
