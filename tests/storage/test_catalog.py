"""Repository functions on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from storage import catalog
from storage.models import ArtistRow, ListeningEventRow, PlaylistItemRow, TrackRow
from tests.support.factories import artist, features, play, playlist, track


def test_playlists_are_added_once_with_their_order(engine: Engine) -> None:
    tracks = [track(3), track(1), track(2), track(1)]  # a repeat keeps its own position
    with engine.begin() as conn:
        assert catalog.insert_playlists(conn=conn, playlists=[playlist(7, tracks)]) == 1
    with engine.begin() as conn:
        assert catalog.insert_playlists(conn=conn, playlists=[playlist(7, tracks)]) == 0
        rows = conn.execute(
            select(PlaylistItemRow.position, PlaylistItemRow.track_id).order_by(
                PlaylistItemRow.position
            )
        ).all()
        counts = catalog.count_catalog(conn=conn)
    assert [r.track_id for r in rows] == [t.id for t in tracks]
    assert (counts.playlists, counts.playlist_items, counts.tracks, counts.artists) == (1, 4, 3, 1)


def test_known_tracks_gain_new_facts_but_keep_their_identity(engine: Engine) -> None:
    first = track(1, name="Feeling Good")
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=[first])
    richer = replace(
        first,
        name="Feeling Good - Remastered",
        year=1965,
        features=features(energy=0.4, valence=0.6),
    )
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=[richer])
        catalog.upsert_tracks(conn=conn, tracks=[first])  # a poorer source later removes nothing
        row = conn.execute(select(TrackRow.__table__).where(TrackRow.id == first.id)).one()
    assert row.name == "Feeling Good"
    assert (row.year, row.energy, row.valence) == (1965, pytest.approx(0.4), pytest.approx(0.6))


def test_artist_genres_join_by_name(engine: Engine) -> None:
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=[track(1, artist_name="Beyoncé")])
        catalog.upsert_artists(conn=conn, artists=[artist("BEYONCE", genres=("pop", "r&b"))])
        row = conn.execute(select(ArtistRow.__table__)).one()
    assert (row.name, row.genres) == ("Beyoncé", "pop|r&b")


def test_listening_events_are_idempotent_per_user(engine: Engine) -> None:
    t = track(1)
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=[t])
        ana = catalog.get_or_create_user(conn=conn, name="ana")
        bo = catalog.get_or_create_user(conn=conn, name="bo")
        assert catalog.get_or_create_user(conn=conn, name="ana") == ana
        assert (
            catalog.insert_listening_events(
                conn=conn, user_id=ana, events=[play(t, 1), play(t, 2)], source="test"
            )
            == 2
        )
        assert (
            catalog.insert_listening_events(
                conn=conn, user_id=ana, events=[play(t, 2)], source="test"
            )
            == 0
        )
        assert (
            catalog.insert_listening_events(
                conn=conn, user_id=bo, events=[play(t, 2)], source="test"
            )
            == 1
        )
        stamps = conn.scalars(
            select(ListeningEventRow.played_at).where(ListeningEventRow.user_id == ana)
        ).all()
    assert sorted(s.replace(tzinfo=UTC) if s.tzinfo is None else s for s in stamps) == [
        datetime(2020, 1, 1, 12, tzinfo=UTC),
        datetime(2020, 1, 2, 12, tzinfo=UTC),
    ]


def test_match_key_prefers_spotify_tracks(engine: Engine) -> None:
    by_name = track(1, name="Crazy In Love", artist_name="Beyoncé", uri=False)
    by_uri = track(2, name="Crazy in Love", artist_name="Beyonce")
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=[by_name, by_uri])
        found = catalog.tracks_by_match_key(
            conn=conn, keys=["beyonce\x1fcrazy in love", "nobody\x1fnothing"]
        )
    assert found == {"beyonce\x1fcrazy in love": by_uri.id}


def test_failed_transaction_leaves_nothing_behind(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        catalog.insert_playlists(conn=conn, playlists=[playlist(1, [track(1), track(2)])])
        raise RuntimeError("crash mid-batch")
    with engine.connect() as conn:
        counts = catalog.count_catalog(conn=conn)
    assert (counts.playlists, counts.playlist_items, counts.tracks) == (0, 0, 0)


def test_meta_round_trip(engine: Engine) -> None:
    with engine.begin() as conn:
        assert catalog.get_meta(conn=conn, key="demo") is None
        catalog.set_meta(conn=conn, key="demo", value="1")
        catalog.set_meta(conn=conn, key="demo", value="2")
        assert catalog.get_meta(conn=conn, key="demo") == "2"


def test_new_playlist_count_is_exact_for_many_rows(engine: Engine) -> None:
    many = [playlist(pid, [track(pid), track(pid + 1000)]) for pid in range(1, 121)]
    with engine.begin() as conn:
        assert catalog.insert_playlists(conn=conn, playlists=many[:50]) == 50
    with engine.begin() as conn:
        assert catalog.insert_playlists(conn=conn, playlists=many) == 70
        assert catalog.count_catalog(conn=conn).playlist_items == 240
