"""``TrackCatalog`` contract: the SQL adapter and the in-memory fake answer alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recommender.station import TrackCatalog
from storage import catalog
from storage.db import make_engine, upgrade
from storage.track_facts import SqlTrackCatalog
from tests.support.factories import features, playlist, track
from tests.support.fakes import FakeTrackCatalog
from wavelength.domain import ArtistId, PlaylistId, TrackId

TRACKS = [
    track(1, name="Blue", artist_name="Ann", year=1961, genre="jazz",
          features=features(energy=0.2, instrumentalness=0.7)),
    track(2, name="Red", artist_name="Bob", explicit=True, popularity=40),
    track(3, name="Green", artist_name="Cy", genre="Cool Jazz, bebop"),
]  # fmt: skip
PLAYLIST = playlist(7, TRACKS[:2], name="rainy day")


@pytest.fixture(params=["sql", "fake"])
def facts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackCatalog]:
    if request.param == "fake":
        yield FakeTrackCatalog(
            TRACKS,
            playlists={PLAYLIST.id: PLAYLIST.name},
            members={PLAYLIST.id: [t.id for t in PLAYLIST.tracks]},
        )
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'facts.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=TRACKS)
        catalog.insert_playlists(conn=conn, playlists=[PLAYLIST])
    yield SqlTrackCatalog(engine)
    engine.dispose()


def test_tracks_come_back_with_every_fact(facts: TrackCatalog) -> None:
    found = facts.tracks([TRACKS[0].id, TrackId("spotify:track:nope"), TRACKS[0].id])
    assert list(found) == [TRACKS[0].id]
    blue = found[TRACKS[0].id]
    assert (blue.name, blue.artist.name, blue.year, blue.genre) == ("Blue", "Ann", 1961, "jazz")
    assert blue.features.energy == pytest.approx(0.2)
    assert blue.features.instrumentalness == pytest.approx(0.7)
    assert facts.tracks([TRACKS[1].id])[TRACKS[1].id].explicit is True


def test_names_of_artists_and_playlists(facts: TrackCatalog) -> None:
    found = facts.artists([TRACKS[1].artist.id, ArtistId("wl:artist:none")])
    assert list(found) == [TRACKS[1].artist.id] and found[TRACKS[1].artist.id].name == "Bob"
    assert facts.playlist_names([PlaylistId("mpd:7"), PlaylistId("mpd:8")]) == {
        PlaylistId("mpd:7"): "rainy day"
    }


def test_nothing_asked_nothing_answered(facts: TrackCatalog) -> None:
    assert facts.tracks([]) == {} and facts.artists([]) == {}


def test_sql_answers_are_memoised_until_cleared(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'memo.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=TRACKS[:1])
    facts = SqlTrackCatalog(engine)
    assert facts.tracks([TRACKS[1].id]) == {}  # unknown, and remembered as unknown
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=TRACKS[1:])
    assert facts.tracks([TRACKS[1].id]) == {}
    facts.clear()
    assert list(facts.tracks([TRACKS[1].id])) == [TRACKS[1].id]
    engine.dispose()


def test_a_memo_that_fills_up_mid_answer_still_answers_everything(tmp_path: Path) -> None:
    """A full memo is cleared whole, by this call or, in a server, by another thread: what
    this call read must still all be in its answer, in the order asked."""
    engine = make_engine(f"sqlite:///{tmp_path / 'small.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=TRACKS)
    facts = SqlTrackCatalog(engine, memo_size=1)
    wanted = [t.id for t in reversed(TRACKS)]
    assert list(facts.tracks(wanted)) == wanted
    assert list(facts.tracks(wanted)) == wanted
    engine.dispose()


def test_genre_vocabulary_joins_track_and_artist_genres(facts: TrackCatalog) -> None:
    assert facts.genres() == {"jazz", "cool jazz", "bebop"}


def test_playlist_members_and_counts(facts: TrackCatalog) -> None:
    members = facts.playlist_tracks([PlaylistId("mpd:7"), PlaylistId("mpd:99")])
    assert members == {PlaylistId("mpd:7"): (TRACKS[0].id, TRACKS[1].id)}
    counts = facts.playlist_counts([TRACKS[0].id, TRACKS[2].id, TrackId("spotify:track:x")])
    assert counts == {TRACKS[0].id: 1, TRACKS[2].id: 0, TrackId("spotify:track:x"): 0}


def test_the_station_engines_refresh_clears_the_memo(tmp_path: Path) -> None:
    """New vectors can name a track the memo remembers as unknown (ingested since): the
    composer's refresh, run when new vectors go live, must forget it."""
    from recommender.station import StationComposer
    from tests.support.fakes import HashingEncoder
    from vectorstore.server import QdrantServerStore

    engine = make_engine(f"sqlite:///{tmp_path / 'refresh.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=TRACKS[:1])
    facts = SqlTrackCatalog(engine)
    composer = StationComposer(
        store=QdrantServerStore.local(), encoder=HashingEncoder(dim=8), catalog=facts
    )
    assert facts.tracks([TRACKS[2].id]) == {}
    with engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=TRACKS[1:])
    assert facts.tracks([TRACKS[2].id]) == {}  # remembered as unknown
    composer.refresh()
    assert list(facts.tracks([TRACKS[2].id])) == [TRACKS[2].id]
    engine.dispose()
