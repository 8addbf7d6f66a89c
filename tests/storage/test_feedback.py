"""What stations showed, reactions and favourites on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage import feedback
from storage.feedback import ShownTrack
from tests.support.station_rows import T0, T1, T2, T3, T4, T5, T6, StationRows, at, pick
from wavelength.domain import Reaction, StationId, TrackId, UserId

# --- what a station showed -----------------------------------------------------------------------


def test_batches_are_numbered_per_listener(rows: StationRows) -> None:
    conn = rows.conn
    jazz = rows.station("Jazz")
    assert feedback.last_batch(conn=conn, station=jazz.id, listener=rows.ana) == []
    assert feedback.batches_shown(conn=conn, station=jazz.id, listener=rows.ana) == 0
    first = feedback.record_batch(
        conn=conn, station=jazz.id, listener=rows.ana, picks=[pick(T1), pick(T2)], now=T0
    )
    second = feedback.record_batch(
        conn=conn,
        station=jazz.id,
        listener=rows.ana,
        picks=[pick(T3, 0.9), pick(T4, 0.25)],
        now=at(1),
    )
    bo_first = feedback.record_batch(
        conn=conn, station=jazz.id, listener=rows.bo, picks=[pick(T5)], now=at(2)
    )
    assert (first, second, bo_first) == (1, 2, 1)
    assert feedback.batches_shown(conn=conn, station=jazz.id, listener=rows.ana) == 2
    assert feedback.batches_shown(conn=conn, station=jazz.id, listener=rows.bo) == 1
    assert feedback.last_batch(conn=conn, station=jazz.id, listener=rows.ana) == [
        ShownTrack(2, 1, T3, "because", "mood", 0.9, at(1)),
        ShownTrack(2, 2, T4, "because", "mood", 0.25, at(1)),
    ]
    assert [s.track for s in feedback.last_batch(conn=conn, station=jazz.id, listener=rows.bo)] == [
        T5
    ]
    with pytest.raises(ValueError, match="at least one pick"):
        feedback.record_batch(conn=conn, station=jazz.id, listener=rows.ana, picks=[], now=T0)


def test_a_batch_composed_before_another_was_recorded_is_refused(
    rows: StationRows, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = rows.conn
    jazz = rows.station("Jazz")

    def record(after: int | None, *tracks: TrackId) -> int:
        return feedback.record_batch(
            conn=conn, station=jazz.id, listener=rows.ana, picks=[pick(t) for t in tracks],
            now=T0, after=after,
        )  # fmt: skip

    assert record(0, T1, T2) == 1
    # Composed after batch 0 too, but batch 1 exists now: refused before anything is written.
    with pytest.raises(feedback.BatchTaken):
        record(0, T3)
    assert record(1, T3) == 2
    # Two calls that read the same newest number (a race between processes): the unique
    # (station, listener, batch, position) refuses the second insert.
    monkeypatch.setattr(feedback, "_latest_batch", lambda *_: 1)
    with pytest.raises(feedback.BatchTaken), conn.begin_nested():  # PostgreSQL ends the rest
        record(None, T4)
    monkeypatch.undo()
    assert feedback.batches_shown(conn=conn, station=jazz.id, listener=rows.ana) == 2


def test_was_shown_is_one_index_probe_per_reaction(rows: StationRows) -> None:
    conn = rows.conn
    jazz = rows.station("Jazz")
    feedback.record_batch(
        conn=conn, station=jazz.id, listener=rows.ana, picks=[pick(T1), pick(T2)], now=T0
    )
    feedback.record_batch(conn=conn, station=jazz.id, listener=rows.bo, picks=[pick(T3)], now=T0)

    def shown(who: UserId, track: TrackId) -> bool:
        return feedback.was_shown(conn=conn, station=jazz.id, listener=who, track=track)

    assert (shown(rows.ana, T1), shown(rows.ana, T3), shown(rows.bo, T3)) == (True, False, True)
    if conn.dialect.name == "sqlite":
        # Each reaction asks this: without the track in the index it read every play of the
        # station (about 1 ms after 200 batches, and growing with the station's age).
        compiled = feedback._WAS_SHOWN.compile(conn)
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", (1, 1, T1, 1, 0)).all()
        assert "ix_station_plays_station_listener_track" in plan[0][-1]
        assert "track_id=?" in plan[0][-1]


def _jazz_batches(rows: StationRows, batches: list[list[TrackId]]) -> StationId:
    """``batches`` shown to Ana on Jazz a minute apart, beside a play of Rain for her and one
    of Jazz for Bo (neither may show up in her Jazz plays); Jazz's id."""
    conn = rows.conn
    jazz, rain = rows.station("Jazz"), rows.station("Rain")
    for minute, tracks in enumerate(batches):
        feedback.record_batch(
            conn=conn,
            station=jazz.id,
            listener=rows.ana,
            picks=[pick(t) for t in tracks],
            now=at(minute),
        )
    feedback.record_batch(conn=conn, station=rain.id, listener=rows.ana, picks=[pick(T6)], now=T0)
    feedback.record_batch(conn=conn, station=jazz.id, listener=rows.bo, picks=[pick(T5)], now=T0)
    return jazz.id


def test_played_is_distinct_and_most_recent_first(rows: StationRows) -> None:
    conn = rows.conn
    jazz = _jazz_batches(rows, [[T1, T2], [T3, T1], [T4]])
    shown = feedback.played(conn=conn, station=jazz, listener=rows.ana)
    assert shown[0] == T4
    assert set(shown[1:3]) == {T3, T1}  # shown together in batch 2
    assert shown[3:] == [T2]
    assert feedback.played(conn=conn, station=jazz, listener=rows.ana, limit=1) == [T4]


def test_played_since_is_what_later_batches_added(rows: StationRows) -> None:
    conn = rows.conn
    jazz = _jazz_batches(rows, [[T1, T2], [T3, T1], [T4, T3]])

    def since(after: int) -> set[TrackId]:
        return feedback.played_since(conn=conn, station=jazz, listener=rows.ana, after=after)

    assert since(0) == set(feedback.played(conn=conn, station=jazz, listener=rows.ana))
    assert since(1) == {T3, T1, T4}  # batches 2 and 3; T1 was played again in 2
    assert since(2) == {T4, T3}
    assert since(3) == set()


# --- reactions and favourites --------------------------------------------------------------------


def test_feedback_is_listed_live_in_order(rows: StationRows) -> None:
    conn = rows.conn
    jazz = rows.station("Jazz")
    one = feedback.add_feedback(
        conn=conn, user=rows.ana, station=jazz.id, track=T1, reaction=Reaction.LIKE, now=at(0)
    )
    assert (one.user, one.station, one.track, one.reaction, one.at, one.copied) == (
        rows.ana,
        jazz.id,
        T1,
        Reaction.LIKE,
        at(0),
        False,
    )
    two = feedback.add_feedback(
        conn=conn, user=rows.ana, station=None, track=T2, reaction=Reaction.SKIP, now=at(1)
    )
    three = feedback.add_feedback(
        conn=conn, user=rows.bo, station=jazz.id, track=T3, reaction=Reaction.DISLIKE, now=at(2)
    )
    assert feedback.feedback_for_station(conn=conn, station=jazz.id) == [one, three]
    assert feedback.recent_feedback(conn=conn, user=rows.ana) == [two, one]
    assert feedback.recent_feedback(conn=conn, user=rows.ana, limit=1) == [two]
    assert feedback.undo_last(conn=conn, user=rows.bo, now=at(3)) == three
    assert feedback.feedback_for_station(conn=conn, station=jazz.id) == [one]


def test_dislikes_are_user_wide_but_not_copied_or_undone_ones(rows: StationRows) -> None:
    conn = rows.conn
    jazz, rain = rows.station("Jazz"), rows.station("Rain")

    def react(track_id: TrackId, reaction: Reaction, minute: int, *, copied: bool = False) -> None:
        feedback.add_feedback(
            conn=conn,
            user=rows.ana,
            station=jazz.id if minute % 2 else rain.id,
            track=track_id,
            reaction=reaction,
            now=at(minute),
            copied=copied,
        )

    react(T1, Reaction.DISLIKE, 1)
    react(T2, Reaction.DISLIKE, 2)
    react(T2, Reaction.DISLIKE, 3)
    react(T3, Reaction.DISLIKE, 4, copied=True)
    react(T4, Reaction.SKIP, 5)
    react(T5, Reaction.DISLIKE, 6)
    feedback.undo_last(conn=conn, user=rows.ana, now=at(7))
    assert feedback.disliked_tracks(conn=conn, user=rows.ana) == {T1, T2}
    assert feedback.disliked_tracks(conn=conn, user=rows.bo) == frozenset()


def test_love_saves_a_favourite_and_undo_removes_it(rows: StationRows) -> None:
    conn = rows.conn
    jazz = rows.station("Jazz")

    def love(track_id: TrackId, minute: int) -> None:
        feedback.add_feedback(
            conn=conn,
            user=rows.ana,
            station=jazz.id,
            track=track_id,
            reaction=Reaction.LOVE,
            now=at(minute),
        )

    love(T1, 1)
    love(T2, 2)
    assert feedback.favourites(conn=conn, user=rows.ana) == [T2, T1]
    assert feedback.favourites(conn=conn, user=rows.bo) == []
    undone = feedback.undo_last(conn=conn, user=rows.ana, now=at(3))
    assert undone is not None
    assert (undone.track, undone.reaction) == (T2, Reaction.LOVE)
    assert feedback.favourites(conn=conn, user=rows.ana) == [T1]
    # Two LOVEs of one track: undoing one keeps the favourite, undoing both drops it.
    love(T1, 4)
    assert feedback.favourites(conn=conn, user=rows.ana) == [T1]  # idempotent
    feedback.undo_last(conn=conn, user=rows.ana, now=at(5))
    assert feedback.favourites(conn=conn, user=rows.ana) == [T1]
    feedback.undo_last(conn=conn, user=rows.ana, now=at(6))
    assert feedback.favourites(conn=conn, user=rows.ana) == []
    assert feedback.undo_last(conn=conn, user=rows.ana, now=at(7)) is None


def test_undo_takes_the_newest_reaction_first(rows: StationRows) -> None:
    conn = rows.conn
    first = feedback.add_feedback(
        conn=conn, user=rows.ana, station=None, track=T1, reaction=Reaction.LIKE, now=at(1)
    )
    second = feedback.add_feedback(
        conn=conn, user=rows.ana, station=None, track=T2, reaction=Reaction.SKIP, now=at(2)
    )
    assert feedback.undo_last(conn=conn, user=rows.ana, now=at(3)) == second
    assert feedback.undo_last(conn=conn, user=rows.ana, now=at(4)) == first
    assert feedback.recent_feedback(conn=conn, user=rows.ana) == []


def test_times_come_back_in_utc(rows: StationRows) -> None:
    paris = timezone(timedelta(hours=1))
    local = datetime(2026, 1, 1, 13, 0, tzinfo=paris)
    liked = feedback.add_feedback(
        conn=rows.conn, user=rows.ana, station=None, track=T1, reaction=Reaction.LIKE, now=local
    )
    assert liked.at == T0
    assert liked.at.tzinfo is UTC
    assert feedback.recent_feedback(conn=rows.conn, user=rows.ana)[0].at == T0
