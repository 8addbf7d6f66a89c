from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from storage import catalog, lookup
from tests.support.factories import playlist, track


@pytest.fixture
def filled(sqlite_engine: Engine) -> Engine:
    with sqlite_engine.begin() as conn:
        catalog.upsert_tracks(
            conn=conn,
            tracks=[
                track(1, name="Feeling Good", popularity=80),
                track(2, name="Feeling Good", artist_name="Muse", popularity=60),
                track(3, name="Angel of Death", artist_name="Slayer"),
                track(4, name="Ümlaut Song", artist_name="Beyoncé", uri=False),
            ],
        )
        catalog.insert_playlists(conn=conn, playlists=[playlist(9, [track(1)], name="sunday")])
    return sqlite_engine


@pytest.mark.parametrize(
    ("query", "kind", "label"),
    [
        ("spotify:track:0000000000000000000003", "track", "Angel of Death — Slayer"),
        (
            "https://open.spotify.com/track/0000000000000000000003?si=x",
            "track",
            "Angel of Death — Slayer",
        ),
        ("Muse - Feeling Good", "track", "Feeling Good — Muse"),
        ("slayer", "artist", "Slayer"),
        ("BEYONCE", "artist", "Beyoncé"),
        ("feeling good", "track", "Feeling Good — Nina Simone"),  # the more popular one
        ("beyonce - umlaut song", "track", "Ümlaut Song — Beyoncé"),
    ],
)
def test_find_by_what_people_type(filled: Engine, query: str, kind: str, label: str) -> None:
    with filled.connect() as conn:
        found = lookup.find(conn=conn, query=query)
    assert found is not None
    assert (found.kind, found.label) == (kind, label)


def test_unknown_names_find_nothing_and_suggest_close_artists(filled: Engine) -> None:
    with filled.connect() as conn:
        assert lookup.find(conn=conn, query="Slayerr") is None
        assert lookup.find(conn=conn, query="   ") is None
        assert lookup.suggestions(conn=conn, query="Slayerr") == ["Slayer"]
        assert lookup.suggestions(conn=conn, query="zzzzzz") == []


def test_labels_for_tracks_artists_and_playlists(filled: Engine) -> None:
    with filled.connect() as conn:
        found = lookup.labels(
            conn=conn, ids=[track(3).id, "mpd:9", "nope", track(3, artist_name="Slayer").artist.id]
        )
    assert found == {
        track(3).id: "Angel of Death — Slayer",
        "mpd:9": "sunday",
        track(3, artist_name="Slayer").artist.id: "Slayer",
    }
