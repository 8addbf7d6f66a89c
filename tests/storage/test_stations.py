"""Users, stations, shares, copies and the active station on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from storage import catalog, feedback, stations
from storage.models import FeedbackRow, StationPlayRow, UserRow
from storage.stations import DuplicateStationName
from tests.support.station_rows import JAZZ, T0, T1, T2, T3, T4, StationRows, at, pick
from wavelength.domain import (
    ArtistId,
    Familiarity,
    Mood,
    PlaylistId,
    Reaction,
    StationId,
    Steer,
    Tilt,
    Tuning,
)

# --- users ---------------------------------------------------------------------------------------


def test_users_are_found_again_by_their_identity(rows: StationRows) -> None:
    conn = rows.conn
    again = stations.get_or_create_user(
        conn=conn, provider="discord", external_id="1001", display_name="Ana B."
    )
    assert again == rows.ana
    assert rows.bo != rows.ana
    # Same id on another platform is another person.
    other = stations.get_or_create_user(
        conn=conn, provider="telegram", external_id="1001", display_name=None
    )
    assert other not in (rows.ana, rows.bo)
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
    assert catalog.get_or_create_user(conn=conn, name="ana") not in (rows.ana, rows.bo)
    assert catalog.get_or_create_user(conn=conn, name="discord:1001") == rows.ana


def test_invalid_identities_are_refused(rows: StationRows) -> None:
    with pytest.raises(ValueError, match="invalid identity"):
        stations.get_or_create_user(conn=rows.conn, provider="", external_id="1", display_name=None)


# --- stations ------------------------------------------------------------------------------------


def test_a_mood_with_every_field_set_round_trips_exactly(rows: StationRows) -> None:
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
        conn=rows.conn,
        owner=rows.ana,
        name="  Eighties  ",
        mood=mood,
        tuning=tuning,
        steers=list(steers),
        seed_playlist=PlaylistId("mpd:7"),
        now=T0,
    )
    loaded = stations.get_station(conn=rows.conn, station_id=created.id)
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


def test_defaults_and_lookups(rows: StationRows) -> None:
    conn = rows.conn
    jazz = rows.station("Jazz")
    assert jazz.tuning == Tuning()
    assert (jazz.steers, jazz.banned_artists, jazz.share_code) == ((), (), None)
    later = stations.create_station(conn=conn, owner=rows.ana, name="Rain", mood=JAZZ, now=at(5))
    rows.station("Jazz", owner=rows.bo)
    assert [s.name for s in stations.list_stations(conn=conn, owner=rows.ana)] == [
        "Jazz",
        "Rain",
    ]
    assert stations.find_station(conn=conn, owner=rows.ana, name=" jAZZ ") == jazz
    assert stations.find_station(conn=conn, owner=rows.ana, name="rain") == later
    assert stations.find_station(conn=conn, owner=rows.ana, name="Jaz") is None
    assert stations.find_station(conn=conn, owner=rows.ana, name="") is None
    assert stations.get_station(conn=conn, station_id=StationId(jazz.id + 1000)) is None


def test_names_are_unique_per_owner_ignoring_case(rows: StationRows) -> None:
    rows.station("Jazz")
    with pytest.raises(DuplicateStationName, match="called 'jazz'") as caught:
        rows.station(" jazz ")
    assert isinstance(caught.value, ValueError)
    rows.station("jazz", owner=rows.bo)  # another owner may use the name


@pytest.mark.parametrize(
    ("name", "message"), [("   ", "needs a name"), ("x" * 101, "at most 100 characters")]
)
def test_bad_names_are_refused(rows: StationRows, name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rows.station(name)


def test_save_writes_changes_and_refuses_a_rename_clash(rows: StationRows) -> None:
    conn = rows.conn
    jazz = rows.station("Jazz")
    rows.station("Rain")
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
        stations.save_station(conn=conn, station=replace(changed, owner=rows.bo), now=at(4))


def test_only_the_owner_can_delete_a_station(rows: StationRows) -> None:
    conn = rows.conn
    jazz = rows.station("Jazz")
    assert not stations.delete_station(conn=conn, owner=rows.bo, station_id=jazz.id)
    assert stations.get_station(conn=conn, station_id=jazz.id) == jazz
    assert stations.delete_station(conn=conn, owner=rows.ana, station_id=jazz.id)
    assert not stations.delete_station(conn=conn, owner=rows.ana, station_id=jazz.id)
    assert stations.get_station(conn=conn, station_id=jazz.id) is None


def test_deleting_a_station_drops_plays_and_pointers_but_keeps_reactions(
    rows: StationRows,
) -> None:
    conn = rows.conn
    jazz = rows.station("Jazz")
    feedback.record_batch(conn=conn, station=jazz.id, listener=rows.bo, picks=[pick(T1)], now=T0)
    stations.set_active(conn=conn, user=rows.ana, station_id=jazz.id)
    stations.set_active(conn=conn, user=rows.bo, station_id=jazz.id, read_only=True)
    feedback.add_feedback(
        conn=conn, user=rows.ana, station=jazz.id, track=T1, reaction=Reaction.DISLIKE, now=T0
    )
    assert stations.delete_station(conn=conn, owner=rows.ana, station_id=jazz.id)
    assert conn.scalar(select(func.count()).select_from(StationPlayRow)) == 0
    assert stations.get_active(conn=conn, user=rows.ana) is None
    assert stations.get_active(conn=conn, user=rows.bo) is None
    kept = conn.execute(select(FeedbackRow.station_id, FeedbackRow.track_id)).all()
    assert [tuple(r) for r in kept] == [(None, T1)]
    assert feedback.disliked_tracks(conn=conn, user=rows.ana) == {T1}


# --- sharing and copying -------------------------------------------------------------------------


def test_share_codes_are_unique_stable_and_case_insensitive(rows: StationRows) -> None:
    conn = rows.conn
    jazz, rain = rows.station("Jazz"), rows.station("Rain")
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


def test_production_share_codes_come_from_the_system_random(rows: StationRows) -> None:
    jazz = rows.station("Jazz")
    code = stations.new_share_code(conn=rows.conn, station_id=jazz.id)
    assert len(code) == 8
    assert set(code) <= set(stations.SHARE_ALPHABET)


def test_copied_stations_keep_settings_and_station_taste_only(rows: StationRows) -> None:
    conn = rows.conn
    jazz = replace(
        rows.station("Jazz"),
        tuning=Tuning(like=2.0),
        steers=(Steer("more sax", +1),),
        banned_artists=(ArtistId("kenny g"),),
    )
    stations.save_station(conn=conn, station=jazz, now=T0)
    for minute, (track_id, reaction) in enumerate(
        [(T1, Reaction.LIKE), (T2, Reaction.DISLIKE), (T3, Reaction.SKIP), (T4, Reaction.LOVE)]
    ):
        feedback.add_feedback(
            conn=conn,
            user=rows.ana,
            station=jazz.id,
            track=track_id,
            reaction=reaction,
            now=at(minute),
        )
    feedback.undo_last(conn=conn, user=rows.ana, now=at(10))  # the LOVE is not copied
    copy = stations.copy_station(
        conn=conn, source=jazz, new_owner=rows.bo, name="Ana's jazz", now=at(20)
    )
    assert copy.owner == rows.bo
    assert copy.id != jazz.id
    assert (copy.mood, copy.tuning, copy.steers, copy.banned_artists) == (
        jazz.mood,
        jazz.tuning,
        jazz.steers,
        jazz.banned_artists,
    )
    assert stations.get_station(conn=conn, station_id=copy.id) == copy
    copied = feedback.feedback_for_station(conn=conn, station=copy.id)
    assert [(f.track, f.reaction, f.user, f.copied) for f in copied] == [
        (T1, Reaction.LIKE, rows.bo, True),
        (T2, Reaction.DISLIKE, rows.bo, True),
        (T3, Reaction.SKIP, rows.bo, True),
    ]
    # Copied reactions steer the copy, never Bo's own taste.
    assert feedback.disliked_tracks(conn=conn, user=rows.bo) == frozenset()
    assert feedback.recent_feedback(conn=conn, user=rows.bo) == []
    assert feedback.undo_last(conn=conn, user=rows.bo, now=at(30)) is None
    with pytest.raises(DuplicateStationName):
        stations.copy_station(
            conn=conn, source=jazz, new_owner=rows.bo, name="ANA'S JAZZ", now=at(21)
        )


# --- the active station --------------------------------------------------------------------------


def test_active_station_is_set_replaced_and_cleared(rows: StationRows) -> None:
    conn = rows.conn
    jazz, rain = rows.station("Jazz"), rows.station("Rain")
    assert stations.get_active(conn=conn, user=rows.ana) is None
    stations.set_active(conn=conn, user=rows.ana, station_id=jazz.id)
    assert stations.get_active(conn=conn, user=rows.ana) == (jazz.id, False)
    stations.set_active(conn=conn, user=rows.ana, station_id=rain.id, read_only=True)
    assert stations.get_active(conn=conn, user=rows.ana) == (rain.id, True)
    stations.set_active(conn=conn, user=rows.ana, station_id=None)
    assert stations.get_active(conn=conn, user=rows.ana) is None
    stations.set_active(conn=conn, user=rows.ana, station_id=None)  # clearing twice is fine
