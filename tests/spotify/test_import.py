"""Importing a Spotify library into the listening history, and "radio: <name>" playlists
into stations (with the real station service over the known-answer world)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine

from spotify.auth import SpotifyConfig
from spotify.crypto import TokenBox
from storage import catalog, feedback
from tests.spotify.conftest import FakeClock, Sleeps, link, new_user
from tests.support.factories import track
from tests.support.fake_spotify import FakeSpotify, Fault
from tests.support.world import World
from wavelength.domain import PlaylistId, Station, StationId, TrackId, UserId
from wavelength.spotify_service import SpotifyService
from wavelength.stations import StationService

START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _library(fake: FakeSpotify) -> dict[str, list[str]]:
    """ana's library: 60 plays of 6 songs, 3 top lists, 120 liked songs, 2 playlists."""
    songs = [fake.add_track(f"Song {i}", f"Artist {i % 7}", year=1990 + i % 30) for i in range(130)]
    ana = fake.users["ana"]
    ana.recent = [(songs[i % 6][14:], START + timedelta(minutes=3 * i)) for i in range(60)]
    ana.top = {
        r: [u[14:] for u in songs[n * 10 : n * 10 + 10]]
        for n, r in enumerate(("short_term", "medium_term", "long_term"))
    }
    ana.saved = [(u[14:], START - timedelta(days=i)) for i, u in enumerate(songs[10:130])]
    fake.add_playlist("ana", "Gym", songs[:3])
    fake.add_playlist("someone", "radio: Not mine", songs[:3])
    return {"songs": songs}


class Stations:
    """A ``StationMaker`` that records what it was asked to make."""

    def __init__(self) -> None:
        self.made: list[tuple[UserId, PlaylistId, str, list[TrackId]]] = []

    def from_playlist(
        self, user: UserId, playlist: PlaylistId, title: str, tracks: Sequence[TrackId]
    ) -> object:
        self.made.append((user, playlist, title, list(tracks)))
        return None

    def stations(self, user: UserId) -> tuple[list[Station], StationId | None]:
        from wavelength.domain import Mood

        shown = [
            Station(id=StationId(n), owner=u, name=t, mood=Mood(t, t), seed_playlist=p)
            for n, (u, p, t, _ids) in enumerate(self.made)
            if u == user
        ]
        return shown, None


def test_import_reads_plays_top_and_liked_songs_into_the_history_once(
    sqlite_engine: Engine, config: SpotifyConfig, box: TokenBox, fake: FakeSpotify, sleeps: Sleeps
) -> None:
    service = SpotifyService(
        engine=sqlite_engine, config=config, box=box, sleep=sleeps, clock=FakeClock()
    )
    user = new_user(sqlite_engine)
    link(service, fake, user, "ana")
    _library(fake)
    said: list[str] = []
    report = service.import_library(user, progress=said.append)
    assert (report.recently_played, report.top, report.saved, report.playlists) == (60, 30, 120, 1)
    assert report.tracks_added == 130
    assert report.events_added == 60 + 30 + 120
    assert said[0].startswith("Reading your recently played") and said[-1] == "Saving your history…"
    with sqlite_engine.connect() as conn:
        by_source = dict(
            conn.execute(
                text("SELECT source, count(*) FROM listening_events GROUP BY source")
            ).all()
        )
        years = conn.execute(text("SELECT min(year), max(year) FROM tracks")).one()
    assert by_source == {"spotify_recent": 60, "spotify_top": 30, "spotify_saved": 120}
    assert tuple(years) == (1990, 2019)
    again = service.import_library(user)
    assert (again.events_added, again.tracks_added) == (0, 0)


def test_imported_plays_join_catalog_tracks_known_by_name(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId, sqlite_engine: Engine
) -> None:
    local = track(name="Blue in Green", artist_name="Miles Quiet", uri=False)
    with sqlite_engine.begin() as conn:
        catalog.upsert_tracks(conn=conn, tracks=[local])
    uri = fake.add_track("Blue in Green", "Miles Quiet")
    fake.users["ana"].recent = [(uri[14:], START)]
    report = spotify.import_library(linked)
    assert report.tracks_added == 0
    with sqlite_engine.connect() as conn:
        played = conn.execute(text("SELECT track_id FROM listening_events")).scalars().all()
    assert played == [local.id]


def test_radio_playlists_become_stations_once(
    sqlite_engine: Engine, config: SpotifyConfig, box: TokenBox, fake: FakeSpotify
) -> None:
    stations = Stations()
    service = SpotifyService(engine=sqlite_engine, config=config, box=box, stations=stations)
    user = new_user(sqlite_engine)
    link(service, fake, user, "ana")
    songs = [fake.add_track(f"Jazz {i}", "Miles Quiet") for i in range(4)]
    pid = fake.add_playlist("ana", "Radio: Rainy jazz", songs)
    fake.add_playlist("ana", "radio: empty")
    said: list[str] = []
    report = service.import_library(user, progress=said.append)
    assert report.stations == ("Rainy jazz",)
    assert stations.made == [
        (user, PlaylistId(f"spotify:playlist:{pid}"), "radio: Rainy jazz", songs)
    ]
    assert "Making a station from “Radio: Rainy jazz”…" in said
    assert service.import_library(user).stations == ()


def test_a_short_rate_limit_during_import_is_waited_out(
    spotify: SpotifyService, fake: FakeSpotify, linked: UserId, sleeps: Sleeps
) -> None:
    _library(fake)
    fake.inject(Fault(429, path="/me/tracks$", retry_after=1, every=2))
    report = spotify.import_library(linked)
    assert report.saved == 120 and sleeps.pauses == [1.0]


def test_a_radio_playlist_makes_a_real_station_from_catalog_tracks(
    world: World, service: StationService, fake: FakeSpotify, config: SpotifyConfig, box: TokenBox
) -> None:
    spotify = SpotifyService(engine=world.engine, config=config, box=box, stations=service)
    user = service.user("test", "spotify-importer")
    link(spotify, fake, user, "ana")
    jazz = world.by_genre("cool jazz")[:6]
    uris = [
        fake.add_track(t.name, t.artist.name, track_id=t.id.removeprefix("spotify:track:"))
        for t in jazz
    ]
    fake.add_playlist("ana", "radio: Late jazz", uris)
    report = spotify.import_library(user)
    assert report.stations == ("Late jazz",) and report.tracks_added == 0
    owned, active = service.stations(user)
    [station] = owned
    assert station.name == "Late jazz" and active == station.id
    assert station.seed_playlist is not None and station.seed_playlist.startswith(
        "spotify:playlist:"
    )
    with world.engine.connect() as conn:
        likes = feedback.feedback_for_station(conn=conn, station=station.id)
    assert [f.track for f in likes] == [t.id for t in jazz]  # the playlist seeds the station
    genres = Counter(world.genre_of(c.track.id) for _ in range(3) for c in service.next(user).cards)
    assert genres.most_common(1)[0][0] == "cool jazz"
