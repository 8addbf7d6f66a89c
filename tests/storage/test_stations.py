"""Station, play, feedback, favourite and share persistence on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from storage import catalog, stations
from storage.models import FeedbackRow, StationPlayRow, UserRow
from storage.stations import DuplicateStationName, ShownTrack
from tests.support.factories import track
from wavelength.domain import (
    ArtistId,
    Familiarity,
    Mood,
    Pick,
    PlaylistId,
    Reaction,
    Station,
    StationId,
    Steer,
    Tilt,
    TrackId,
    Tuning,
    UserId,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TRACKS = [track(n) for n in range(1, 7)]
T1, T2, T3, T4, T5, T6 = (t.id for t in TRACKS)
JAZZ = Mood(original="late night jazz", text="late night jazz")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass(frozen=True)
class World:
    conn: Connection
    ana: UserId
    bo: UserId

    def station(self, name: str = "Jazz", owner: UserId | None = None) -> Station:
        return stations.create_station(
            conn=self.conn, owner=owner or self.ana, name=name, mood=JAZZ, now=T0
        )


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """Two users and six tracks, in one transaction that the test may keep using."""
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=TRACKS)
        ana = stations.get_or_create_user(
            conn=conn, provider="discord", external_id="1001", display_name="Ana"
        )
        bo = stations.get_or_create_user(
            conn=conn, provider="telegram", external_id="2002", display_name=None
        )
        yield World(conn, ana, bo)


def pick(track_id: TrackId, score: float = 0.5) -> Pick:
    return Pick(
        track=track_id,
        artist=ArtistId("nina simone"),
        score=score,
        reason="because",
        source="mood",
    )


# --- users ---------------------------------------------------------------------------------------


def test_users_are_found_again_by_their_identity(world: World) -> None:
    conn = world.conn
    again = stations.get_or_create_user(
        conn=conn, provider="discord", external_id="1001", display_name="Ana B."
    )
    assert again == world.ana
    assert world.bo != world.ana
    # Same id on another platform is another person.
    other = stations.get_or_create_user(
        conn=conn, provider="telegram", external_id="1001", display_name=None
    )
    assert other not in (world.ana, world.bo)
    long_id = "x" * 128
    first = stations.get_or_create_user(
        conn=conn, provider="web", external_id=long_id, display_name=None
    )
    assert (
        stations.get_or_create_user(conn=conn, provider="web", external_id=long_id, display_name="")
        == first
    )
    names = set(conn.scalars(select(UserRow.name)))
    assert {"discord:1001", "telegram:2002", "telegram:1001"} <= names
    # The catalog's users by name still work beside the identity-backed ones.
    assert catalog.get_or_create_user(conn=conn, name="ana") not in (world.ana, world.bo)
    assert catalog.get_or_create_user(conn=conn, name="discord:1001") == world.ana


def test_invalid_identities_are_refused(world: World) -> None:
    with pytest.raises(ValueError, match="invalid identity"):
        stations.get_or_create_user(
            conn=world.conn, provider="", external_id="1", display_name=None
        )


# --- stations ------------------------------------------------------------------------------------


def test_a_mood_with_every_field_set_round_trips_exactly(world: World) -> None:
    mood = Mood(
        original="upbeat 80s like Daft Punk, no Queen, clean, no vocals, 1980-1989",
        text="upbeat",
        seed_artists=(ArtistId("daft punk"), ArtistId("justice")),
        seed_tracks=(T1, T2),
        avoid_artists=(ArtistId("queen"),),
        year_min=1980,
        year_max=1989,
        explicit=False,
        instrumental=True,
        tilts=(Tilt("energy", 1.0), Tilt("year", -0.25), Tilt("valence", 2)),
    )
    tuning = Tuning(style=2.5, like=0.0, dislike=3.0, familiarity=Familiarity.SURPRISE)
    steers = (
        Steer("more upbeat", +1, (Tilt("energy", 0.5), Tilt("danceability", 0.3))),
        Steer("less vocals", -1),
    )
    created = stations.create_station(
        conn=world.conn,
        owner=world.ana,
        name="  Eighties  ",
        mood=mood,
        tuning=tuning,
        steers=list(steers),
        seed_playlist=PlaylistId("mpd:7"),
        now=T0,
    )
    loaded = stations.get_station(conn=world.conn, station_id=created.id)
    assert loaded == created
    assert loaded is not None
    assert loaded.name == "Eighties"
    assert loaded.mood == mood
    assert isinstance(loaded.mood.seed_artists, tuple)
    assert isinstance(loaded.mood.tilts[0], Tilt)
    assert loaded.tuning == tuning
    assert loaded.tuning.familiarity is Familiarity.SURPRISE
    assert loaded.steers == steers
    assert isinstance(loaded.steers[0].tilts, tuple)
    assert loaded.seed_playlist == "mpd:7"
    assert loaded.created_at == T0
    assert loaded.created_at is not None
    assert loaded.created_at.tzinfo is not None


def test_defaults_and_lookups(world: World) -> None:
    conn = world.conn
    jazz = world.station("Jazz")
    assert jazz.tuning == Tuning()
    assert (jazz.steers, jazz.banned_artists, jazz.share_code) == ((), (), None)
    later = stations.create_station(conn=conn, owner=world.ana, name="Rain", mood=JAZZ, now=at(5))
    world.station("Jazz", owner=world.bo)
    assert [s.name for s in stations.list_stations(conn=conn, owner=world.ana)] == [
        "Jazz",
        "Rain",
    ]
    assert stations.find_station(conn=conn, owner=world.ana, name=" jAZZ ") == jazz
    assert stations.find_station(conn=conn, owner=world.ana, name="rain") == later
    assert stations.find_station(conn=conn, owner=world.ana, name="Jaz") is None
    assert stations.find_station(conn=conn, owner=world.ana, name="") is None
    assert stations.get_station(conn=conn, station_id=StationId(jazz.id + 1000)) is None


def test_names_are_unique_per_owner_ignoring_case(world: World) -> None:
    world.station("Jazz")
    with pytest.raises(DuplicateStationName, match="called 'jazz'") as caught:
        world.station(" jazz ")
    assert isinstance(caught.value, ValueError)
    world.station("jazz", owner=world.bo)  # another owner may use the name


@pytest.mark.parametrize(
    ("name", "message"), [("   ", "needs a name"), ("x" * 101, "at most 100 characters")]
)
def test_bad_names_are_refused(world: World, name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        world.station(name)


def test_save_writes_changes_and_refuses_a_rename_clash(world: World) -> None:
    conn = world.conn
    jazz = world.station("Jazz")
    world.station("Rain")
    changed = replace(
        jazz,
        name="Night Jazz",
        mood=replace(JAZZ, text="smoky late night jazz", year_max=1970),
        tuning=Tuning(familiarity=Familiarity.SAFE),
        steers=(Steer("slower", +1, (Tilt("tempo", -1.0),)),),
        banned_artists=(ArtistId("kenny g"),),
        share_code="abcd2345",
    )
    stations.save_station(conn=conn, station=changed, now=at(1))
    assert stations.get_station(conn=conn, station_id=jazz.id) == replace(
        changed, share_code="ABCD2345"
    )
    # Changing only the case of its own name is no clash.
    stations.save_station(conn=conn, station=replace(changed, name="NIGHT JAZZ"), now=at(2))
    with pytest.raises(DuplicateStationName):
        stations.save_station(conn=conn, station=replace(changed, name="rain"), now=at(3))
    with pytest.raises(LookupError):
        stations.save_station(conn=conn, station=replace(changed, owner=world.bo), now=at(4))


def test_only_the_owner_can_delete_a_station(world: World) -> None:
    conn = world.conn
    jazz = world.station("Jazz")
    assert not stations.delete_station(conn=conn, owner=world.bo, station_id=jazz.id)
    assert stations.get_station(conn=conn, station_id=jazz.id) == jazz
    assert stations.delete_station(conn=conn, owner=world.ana, station_id=jazz.id)
    assert not stations.delete_station(conn=conn, owner=world.ana, station_id=jazz.id)
    assert stations.get_station(conn=conn, station_id=jazz.id) is None


def test_deleting_a_station_drops_plays_and_pointers_but_keeps_reactions(world: World) -> None:
    conn = world.conn
    jazz = world.station("Jazz")
    stations.record_batch(conn=conn, station=jazz.id, listener=world.bo, picks=[pick(T1)], now=T0)
    stations.set_active(conn=conn, user=world.ana, station_id=jazz.id)
    stations.set_active(conn=conn, user=world.bo, station_id=jazz.id, read_only=True)
    stations.add_feedback(
        conn=conn, user=world.ana, station=jazz.id, track=T1, reaction=Reaction.DISLIKE, now=T0
    )
    assert stations.delete_station(conn=conn, owner=world.ana, station_id=jazz.id)
    assert conn.scalar(select(func.count()).select_from(StationPlayRow)) == 0
    assert stations.get_active(conn=conn, user=world.ana) is None
    assert stations.get_active(conn=conn, user=world.bo) is None
    kept = conn.execute(select(FeedbackRow.station_id, FeedbackRow.track_id)).all()
    assert [tuple(r) for r in kept] == [(None, T1)]
    assert stations.disliked_tracks(conn=conn, user=world.ana) == {T1}


# --- sharing and copying -------------------------------------------------------------------------


def test_share_codes_are_unique_stable_and_case_insensitive(world: World) -> None:
    conn = world.conn
    jazz, rain = world.station("Jazz"), world.station("Rain")
    code = stations.new_share_code(conn=conn, station_id=jazz.id, rng=random.Random(7))
    assert len(code) == 8
    assert set(code) <= set(stations.SHARE_ALPHABET)
    assert not set(code) & set("0O1I")
    # The same seed draws the same first code; the clash is noticed and another drawn.
    other = stations.new_share_code(conn=conn, station_id=rain.id, rng=random.Random(7))
    assert other != code
    assert stations.new_share_code(conn=conn, station_id=jazz.id) == code  # reused
    found = stations.station_by_share_code(conn=conn, code=f" {code.lower()} ")
    assert found == replace(jazz, share_code=code)
    assert stations.station_by_share_code(conn=conn, code="ZZZZZZZZ") is None
    with pytest.raises(LookupError):
        stations.new_share_code(conn=conn, station_id=StationId(rain.id + 1000))


def test_production_share_codes_come_from_the_system_random(world: World) -> None:
    jazz = world.station("Jazz")
    code = stations.new_share_code(conn=world.conn, station_id=jazz.id)
    assert len(code) == 8
    assert set(code) <= set(stations.SHARE_ALPHABET)


def test_copied_stations_keep_settings_and_station_taste_only(world: World) -> None:
    conn = world.conn
    jazz = replace(
        world.station("Jazz"),
        tuning=Tuning(like=2.0),
        steers=(Steer("more sax", +1),),
        banned_artists=(ArtistId("kenny g"),),
    )
    stations.save_station(conn=conn, station=jazz, now=T0)
    for minute, (track_id, reaction) in enumerate(
        [(T1, Reaction.LIKE), (T2, Reaction.DISLIKE), (T3, Reaction.SKIP), (T4, Reaction.LOVE)]
    ):
        stations.add_feedback(
            conn=conn,
            user=world.ana,
            station=jazz.id,
            track=track_id,
            reaction=reaction,
            now=at(minute),
        )
    stations.undo_last(conn=conn, user=world.ana, now=at(10))  # the LOVE is not copied
    copy = stations.copy_station(
        conn=conn, source=jazz, new_owner=world.bo, name="Ana's jazz", now=at(20)
    )
    assert copy.owner == world.bo
    assert copy.id != jazz.id
    assert (copy.mood, copy.tuning, copy.steers, copy.banned_artists) == (
        jazz.mood,
        jazz.tuning,
        jazz.steers,
        jazz.banned_artists,
    )
    assert stations.get_station(conn=conn, station_id=copy.id) == copy
    copied = stations.feedback_for_station(conn=conn, station=copy.id)
    assert [(f.track, f.reaction, f.user, f.copied) for f in copied] == [
        (T1, Reaction.LIKE, world.bo, True),
        (T2, Reaction.DISLIKE, world.bo, True),
        (T3, Reaction.SKIP, world.bo, True),
    ]
    # Copied reactions steer the copy, never Bo's own taste.
    assert stations.disliked_tracks(conn=conn, user=world.bo) == frozenset()
    assert stations.recent_feedback(conn=conn, user=world.bo) == []
    assert stations.undo_last(conn=conn, user=world.bo, now=at(30)) is None
    with pytest.raises(DuplicateStationName):
        stations.copy_station(
            conn=conn, source=jazz, new_owner=world.bo, name="ANA'S JAZZ", now=at(21)
        )


# --- the active station --------------------------------------------------------------------------


def test_active_station_is_set_replaced_and_cleared(world: World) -> None:
    conn = world.conn
    jazz, rain = world.station("Jazz"), world.station("Rain")
    assert stations.get_active(conn=conn, user=world.ana) is None
    stations.set_active(conn=conn, user=world.ana, station_id=jazz.id)
    assert stations.get_active(conn=conn, user=world.ana) == (jazz.id, False)
    stations.set_active(conn=conn, user=world.ana, station_id=rain.id, read_only=True)
    assert stations.get_active(conn=conn, user=world.ana) == (rain.id, True)
    stations.set_active(conn=conn, user=world.ana, station_id=None)
    assert stations.get_active(conn=conn, user=world.ana) is None
    stations.set_active(conn=conn, user=world.ana, station_id=None)  # clearing twice is fine


# --- what a station showed -----------------------------------------------------------------------


def test_batches_are_numbered_per_listener(world: World) -> None:
    conn = world.conn
    jazz = world.station("Jazz")
    assert stations.last_batch(conn=conn, station=jazz.id, listener=world.ana) == []
    first = stations.record_batch(
        conn=conn, station=jazz.id, listener=world.ana, picks=[pick(T1), pick(T2)], now=T0
    )
    second = stations.record_batch(
        conn=conn,
        station=jazz.id,
        listener=world.ana,
        picks=[pick(T3, 0.9), pick(T4, 0.25)],
        now=at(1),
    )
    bo_first = stations.record_batch(
        conn=conn, station=jazz.id, listener=world.bo, picks=[pick(T5)], now=at(2)
    )
    assert (first, second, bo_first) == (1, 2, 1)
    assert stations.last_batch(conn=conn, station=jazz.id, listener=world.ana) == [
        ShownTrack(2, 1, T3, "because", "mood", 0.9, at(1)),
        ShownTrack(2, 2, T4, "because", "mood", 0.25, at(1)),
    ]
    assert [
        s.track for s in stations.last_batch(conn=conn, station=jazz.id, listener=world.bo)
    ] == [T5]
    with pytest.raises(ValueError, match="at least one pick"):
        stations.record_batch(conn=conn, station=jazz.id, listener=world.ana, picks=[], now=T0)


def test_played_is_distinct_and_most_recent_first(world: World) -> None:
    conn = world.conn
    jazz, rain = world.station("Jazz"), world.station("Rain")
    for minute, tracks in enumerate([[T1, T2], [T3, T1], [T4]]):
        stations.record_batch(
            conn=conn,
            station=jazz.id,
            listener=world.ana,
            picks=[pick(t) for t in tracks],
            now=at(minute),
        )
    stations.record_batch(conn=conn, station=rain.id, listener=world.ana, picks=[pick(T6)], now=T0)
    stations.record_batch(conn=conn, station=jazz.id, listener=world.bo, picks=[pick(T5)], now=T0)
    shown = stations.played(conn=conn, station=jazz.id, listener=world.ana)
    assert shown[0] == T4
    assert set(shown[1:3]) == {T3, T1}  # shown together in batch 2
    assert shown[3:] == [T2]
    assert stations.played(conn=conn, station=jazz.id, listener=world.ana, limit=1) == [T4]


# --- reactions and favourites --------------------------------------------------------------------


def test_feedback_is_listed_live_in_order(world: World) -> None:
    conn = world.conn
    jazz = world.station("Jazz")
    one = stations.add_feedback(
        conn=conn, user=world.ana, station=jazz.id, track=T1, reaction=Reaction.LIKE, now=at(0)
    )
    assert (one.user, one.station, one.track, one.reaction, one.at, one.copied) == (
        world.ana,
        jazz.id,
        T1,
        Reaction.LIKE,
        at(0),
        False,
    )
    two = stations.add_feedback(
        conn=conn, user=world.ana, station=None, track=T2, reaction=Reaction.SKIP, now=at(1)
    )
    three = stations.add_feedback(
        conn=conn, user=world.bo, station=jazz.id, track=T3, reaction=Reaction.DISLIKE, now=at(2)
    )
    assert stations.feedback_for_station(conn=conn, station=jazz.id) == [one, three]
    assert stations.recent_feedback(conn=conn, user=world.ana) == [two, one]
    assert stations.recent_feedback(conn=conn, user=world.ana, limit=1) == [two]
    assert stations.undo_last(conn=conn, user=world.bo, now=at(3)) == three
    assert stations.feedback_for_station(conn=conn, station=jazz.id) == [one]


def test_dislikes_are_user_wide_but_not_copied_or_undone_ones(world: World) -> None:
    conn = world.conn
    jazz, rain = world.station("Jazz"), world.station("Rain")

    def react(track_id: TrackId, reaction: Reaction, minute: int, *, copied: bool = False) -> None:
        stations.add_feedback(
            conn=conn,
            user=world.ana,
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
    stations.undo_last(conn=conn, user=world.ana, now=at(7))
    assert stations.disliked_tracks(conn=conn, user=world.ana) == {T1, T2}
    assert stations.disliked_tracks(conn=conn, user=world.bo) == frozenset()


def test_love_saves_a_favourite_and_undo_removes_it(world: World) -> None:
    conn = world.conn
    jazz = world.station("Jazz")

    def love(track_id: TrackId, minute: int) -> None:
        stations.add_feedback(
            conn=conn,
            user=world.ana,
            station=jazz.id,
            track=track_id,
            reaction=Reaction.LOVE,
            now=at(minute),
        )

    love(T1, 1)
    love(T2, 2)
    assert stations.favourites(conn=conn, user=world.ana) == [T2, T1]
    assert stations.favourites(conn=conn, user=world.bo) == []
    undone = stations.undo_last(conn=conn, user=world.ana, now=at(3))
    assert undone is not None
    assert (undone.track, undone.reaction) == (T2, Reaction.LOVE)
    assert stations.favourites(conn=conn, user=world.ana) == [T1]
    # Two LOVEs of one track: undoing one keeps the favourite, undoing both drops it.
    love(T1, 4)
    assert stations.favourites(conn=conn, user=world.ana) == [T1]  # idempotent
    stations.undo_last(conn=conn, user=world.ana, now=at(5))
    assert stations.favourites(conn=conn, user=world.ana) == [T1]
    stations.undo_last(conn=conn, user=world.ana, now=at(6))
    assert stations.favourites(conn=conn, user=world.ana) == []
    assert stations.undo_last(conn=conn, user=world.ana, now=at(7)) is None


def test_undo_takes_the_newest_reaction_first(world: World) -> None:
    conn = world.conn
    first = stations.add_feedback(
        conn=conn, user=world.ana, station=None, track=T1, reaction=Reaction.LIKE, now=at(1)
    )
    second = stations.add_feedback(
        conn=conn, user=world.ana, station=None, track=T2, reaction=Reaction.SKIP, now=at(2)
    )
    assert stations.undo_last(conn=conn, user=world.ana, now=at(3)) == second
    assert stations.undo_last(conn=conn, user=world.ana, now=at(4)) == first
    assert stations.recent_feedback(conn=conn, user=world.ana) == []


def test_times_come_back_in_utc(world: World) -> None:
    paris = timezone(timedelta(hours=1))
    local = datetime(2026, 1, 1, 13, 0, tzinfo=paris)
    feedback = stations.add_feedback(
        conn=world.conn, user=world.ana, station=None, track=T1, reaction=Reaction.LIKE, now=local
    )
    assert feedback.at == T0
    assert feedback.at.tzinfo is UTC
    assert stations.recent_feedback(conn=world.conn, user=world.ana)[0].at == T0
