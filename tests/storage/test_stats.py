"""Contract: the SQL catalog stats and the fake answer alike for the same catalog."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from storage import catalog
from storage.stats import SqlCatalogStats
from tests.support.factories import play, playlist, track
from tests.support.fakes import FakeCatalogStats
from wavelength.domain import CatalogCounts

EXPECTED = CatalogCounts(
    tracks=3, artists=2, albums=1, playlists=1, playlist_items=3, users=1, listening_events=2
)


@pytest.fixture(params=["sql", "fake"])
def stats(
    request: pytest.FixtureRequest, sqlite_engine: Engine
) -> SqlCatalogStats | FakeCatalogStats:
    if request.param == "fake":
        return FakeCatalogStats(EXPECTED)
    tracks = [track(1, album_name="Pastel Blues"), track(2), track(3, artist_name="Miles Davis")]
    with sqlite_engine.begin() as conn:
        catalog.insert_playlists(conn=conn, playlists=[playlist(1, tracks)])
        user = catalog.get_or_create_user(conn=conn, name="ana")
        catalog.insert_listening_events(
            conn=conn, user_id=user, events=[play(tracks[0], 1), play(tracks[0], 2)], source="t"
        )
    return SqlCatalogStats(sqlite_engine)


def test_counts(stats: SqlCatalogStats | FakeCatalogStats) -> None:
    assert stats.counts() == EXPECTED
