from __future__ import annotations

from sqlalchemy.engine import Engine

from recommender.describe import clean_tag
from storage import catalog, training_data
from tests.support.factories import artist, features, playlist, track


def _fill(engine: Engine) -> None:
    simone = artist("Nina Simone", genres=("jazz", "soul"))
    with engine.begin() as conn:
        catalog.upsert_artists(conn=conn, artists=[simone])
        catalog.upsert_tracks(
            conn=conn,
            tracks=[
                track(1, year=1965, explicit=False, popularity=70, features=features(energy=0.2)),
                track(2, artist_name="Slayer"),
                track(3, artist_name="Slayer"),
            ],
        )
        catalog.insert_playlists(
            conn=conn,
            playlists=[
                playlist(1, [track(1), track(2)], name="Chill 🌙"),
                playlist(2, [track(1)], name="chill"),
                playlist(3, [track(1), track(3)], name="Sunday"),
            ],
        )


def test_tracks_stream_in_id_order_with_artist_genres_and_features(engine: Engine) -> None:
    _fill(engine)
    with engine.connect() as conn:
        items = list(training_data.iter_tracks(conn=conn))
        assert training_data.count_tracks(conn=conn) == 3
    assert [i.track.id for i in items] == sorted(i.track.id for i in items)
    first = items[0]
    assert first.track.name == "Song 1" and first.track.artist.name == "Nina Simone"
    assert first.genres == ("jazz", "soul")
    assert (first.track.year, first.track.explicit, first.track.popularity) == (1965, False, 70)
    assert first.track.features.energy == 0.2
    assert items[1].genres == ()


def test_playlist_tags_are_the_most_common_clean_names(engine: Engine) -> None:
    _fill(engine)
    with engine.connect() as conn:
        tags = training_data.playlist_tags(conn=conn, clean=clean_tag, top=5)
    assert tags[track(1).id] == ("chill", "sunday")  # "Chill 🌙" and "chill" count together
    assert tags[track(2).id] == ("chill",)
    assert tags[track(3).id] == ("sunday",)


def test_items_come_grouped_by_playlist_in_order(engine: Engine) -> None:
    _fill(engine)
    with engine.connect() as conn:
        pairs = list(training_data.iter_playlist_items(conn=conn))
        playlists = list(training_data.iter_playlists(conn=conn))
        owners = training_data.track_artists(conn=conn, ids=[track(1).id, track(3).id])
        assert training_data.count_playlist_items(conn=conn) == 5
    assert pairs[:2] == [("mpd:1", track(1).id), ("mpd:1", track(2).id)]
    assert [p.name for p in playlists] == ["Chill 🌙", "chill", "Sunday"]
    assert owners == {track(1).id: artist("Nina Simone").id, track(3).id: artist("Slayer").id}
