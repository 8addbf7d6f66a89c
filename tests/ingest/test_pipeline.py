"""Batched, idempotent ingestion into the catalog, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from ingest import pipeline
from ingest.mpd import read_playlists
from ingest.pipeline import ingest_artists, ingest_history, ingest_playlists, ingest_tracks
from storage import catalog
from storage.models import ArtistRow, ListeningEventRow, PlaylistItemRow, TrackRow
from tests.ingest.samples import mpd_playlist, mpd_slice, mpd_track, uri
from wavelength.domain import CatalogCounts
from wavelength.ids import stable_track_id

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from sqlalchemy.engine import Engine

    from ingest.problems import ProblemLog
    from tests.ingest.samples import Writer
    from wavelength.domain import Playlist


def counts(engine: Engine) -> CatalogCounts:
    with engine.connect() as conn:
        return catalog.count_catalog(conn=conn)


def track_row(engine: Engine, track_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(TrackRow.__table__).where(TrackRow.id == track_id)).one()


def played_track_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(ListeningEventRow.track_id)))


def beyonce(n: int) -> dict[str, Any]:
    return mpd_track(n, name="Crazy In Love", artist="Beyoncé")


@pytest.fixture
def mpd_folder(write: Writer) -> Path:
    """Two slices: 3 playlists, 8 playlist rows, 5 distinct tracks by 2 artists."""
    write(
        "mpd/mpd.slice.0-999.json",
        mpd_slice(
            mpd_playlist(1, [mpd_track(1), mpd_track(2), mpd_track(3)]),
            mpd_playlist(2, [mpd_track(2), mpd_track(3), mpd_track(4)]),
        ),
    )
    write("mpd/mpd.slice.1000-1999.json.gz", mpd_slice(mpd_playlist(3, [mpd_track(4), beyonce(5)])))
    return write.folder / "mpd"


def test_playlists_are_ingested_with_their_tracks(
    engine: Engine, mpd_folder: Path, problems: ProblemLog
) -> None:
    report = ingest_playlists(engine, [mpd_folder], problems=problems, batch_size=2, progress=False)

    assert counts(engine) == CatalogCounts(
        tracks=5, artists=2, albums=0, playlists=3, playlist_items=8, users=0, listening_events=0
    )
    assert (report.files, report.read, report.added, report.rows) == (2, 3, 3, 8)
    assert (report.files_failed, report.problems, report.nothing_read) == (0, 0, False)
    assert len(report.batch_seconds) == 2  # 3 playlists in batches of 2
    assert "read 3 (8 track rows) from 2 file(s)" in report.summary()
    with engine.connect() as conn:
        items = conn.execute(
            select(PlaylistItemRow.track_id)
            .where(PlaylistItemRow.playlist_id == "mpd:3")
            .order_by(PlaylistItemRow.position)
        ).scalars()
        assert list(items) == [uri(4), uri(5)]


def test_ingesting_playlists_twice_changes_nothing(
    engine: Engine, mpd_folder: Path, problems: ProblemLog
) -> None:
    ingest_playlists(engine, [mpd_folder], problems=problems, progress=False)
    before = counts(engine)

    again = ingest_playlists(engine, [mpd_folder], problems=problems, batch_size=1, progress=False)

    assert counts(engine) == before
    assert (again.read, again.added) == (3, 0)


def test_track_csv_fills_in_tracks_known_from_playlists(
    engine: Engine, mpd_folder: Path, write: Writer, problems: ProblemLog
) -> None:
    ingest_playlists(engine, [mpd_folder], problems=problems, progress=False)
    csv_path = write(
        "tracks/hits.csv",
        "uri,name,artist,energy,valence,year\n"
        f"{uri(5)},Crazy In Love (feat. Jay-Z),Beyoncé,0.7,0.68,2003\n"
        f"{uri(6)},Halo,Beyoncé,0.72,0.47,2008\n",
    )

    report = ingest_tracks(engine, [csv_path], problems=problems, progress=False)

    assert (report.read, report.added) == (2, 1)
    assert counts(engine).tracks == 6
    crazy = track_row(engine, uri(5))
    assert crazy.name == "Crazy In Love"  # the name first seen stays
    assert (crazy.energy, crazy.valence, crazy.year, crazy.decade) == (
        pytest.approx(0.7),
        pytest.approx(0.68),
        2003,
        2000,
    )
    assert track_row(engine, uri(1)).energy is None  # tracks not in the CSV are untouched


def test_history_plays_resolve_to_catalog_tracks_by_normalized_name(
    engine: Engine, mpd_folder: Path, write: Writer, problems: ProblemLog
) -> None:
    ingest_playlists(engine, [mpd_folder], problems=problems, progress=False)
    history_path = write(
        "history/scrobbles.csv",
        "artist,track,timestamp\n"
        "BEYONCÉ,crazy in love,1546300800\n"  # the catalog has "Beyoncé" / "Crazy In Love"
        "Nina Simone,Not In Any Playlist,1546300900\n",
    )

    report = ingest_history(engine, [history_path], user="ana", problems=problems, progress=False)

    assert (report.read, report.added) == (2, 2)
    assert played_track_ids(engine) == sorted(
        [uri(5), stable_track_id("Nina Simone", "Not In Any Playlist")]
    )
    after = counts(engine)
    # The song in no playlist joins the catalog under its name-derived id.
    assert (after.tracks, after.users, after.listening_events) == (6, 1, 2)

    again = ingest_history(engine, [history_path], user="ana", problems=problems, progress=False)

    assert (again.read, again.added) == (2, 0)
    assert counts(engine) == after
    assert len(problems) == 0


def test_plays_prefer_the_spotify_track_over_a_name_derived_one(
    engine: Engine, write: Writer, problems: ProblemLog
) -> None:
    first = write("h1.csv", "artist,track,timestamp\nBeyoncé,Halo,1546300800\n")
    ingest_history(engine, [first], user="ana", problems=problems, progress=False)
    tracks = write("t.csv", f"uri,title,artist\n{uri(7)},Halo,Beyoncé\n")
    ingest_tracks(engine, [tracks], problems=problems, progress=False)
    later = write("h2.csv", "artist,track,timestamp\nbeyonce,HALO,1546400800\n")

    ingest_history(engine, [later], user="ana", problems=problems, progress=False)

    assert played_track_ids(engine) == sorted([stable_track_id("Beyoncé", "Halo"), uri(7)])


def test_each_user_has_their_own_plays(engine: Engine, write: Writer, problems: ProblemLog) -> None:
    path = write("h.csv", "artist,track,timestamp\nBeyoncé,Halo,1546300800\n")

    ingest_history(engine, [path], user="ana", problems=problems, progress=False)
    report = ingest_history(engine, [path], user="bo", problems=problems, progress=False)

    assert report.added == 1
    assert (counts(engine).users, counts(engine).listening_events) == (2, 2)


def test_spotify_history_adds_tracks_it_names_by_uri(
    engine: Engine, write: Writer, problems: ProblemLog
) -> None:
    entry = (
        '{"ts": "2021-03-04T12:00:00Z", "ms_played": 183000, "master_metadata_track_name": "Sinnerman",'
        f' "master_metadata_album_artist_name": "Nina Simone", "spotify_track_uri": "{uri(8)}"}}'
    )
    path = write("endsong_0.json", f"[{entry}]")

    ingest_history(engine, [path], user="ana", problems=problems, progress=False)

    assert played_track_ids(engine) == [uri(8)]
    assert track_row(engine, uri(8)).name == "Sinnerman"
    with engine.connect() as conn:
        assert conn.scalars(select(ListeningEventRow.ms_played)).one() == 183_000


def test_artist_genres_join_artists_by_name(
    engine: Engine, mpd_folder: Path, write: Writer, problems: ProblemLog
) -> None:
    ingest_playlists(engine, [mpd_folder], problems=problems, progress=False)
    path = write(
        "data_w_genres.csv",
        "artists,genres,popularity\n"
        "BEYONCE,\"['dance pop', 'pop', 'r&b']\",80\n"
        "Somebody Else,[],10\n",
    )

    report = ingest_artists(engine, [path], problems=problems, progress=False)

    assert (report.read, report.added) == (2, 1)
    with engine.connect() as conn:
        row = conn.execute(
            select(ArtistRow.name, ArtistRow.genres).where(ArtistRow.name == "Beyoncé")
        ).one()
    assert row.genres == "dance pop|pop|r&b"
    assert counts(engine).artists == 3


def _failing_after(
    count: int, read: Callable[..., Iterator[Playlist]]
) -> Callable[..., Iterator[Playlist]]:
    """A reader that yields ``count`` records and then fails like a disk going away."""

    def reader(*args: Any) -> Iterator[Playlist]:
        for n, record in enumerate(read(*args)):
            if n == count:
                raise RuntimeError("disk went away")
            yield record

    return reader


@pytest.fixture
def four_playlists(write: Writer) -> Path:
    """pid 1 [t1, t2], pid 2 [t3], pid 3 [t4], pid 4 [t5]: two batches of two."""
    return write(
        "mpd.slice.0-999.json",
        mpd_slice(*(mpd_playlist(p, [mpd_track(p), mpd_track(p + 10)]) for p in (1, 2, 3, 4))),
    )


def test_a_reader_failing_mid_way_leaves_earlier_batches_committed(
    engine: Engine, four_playlists: Path, problems: ProblemLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "read_playlists", _failing_after(3, read_playlists))

    with pytest.raises(RuntimeError, match="disk went away"):
        ingest_playlists(engine, [four_playlists], problems=problems, batch_size=2, progress=False)

    after = counts(engine)
    # All of batch 1 (pids 1 and 2), nothing of batch 2.
    assert (after.playlists, after.playlist_items, after.tracks) == (2, 4, 4)


def test_a_write_failing_mid_batch_rolls_that_batch_back_and_a_rerun_finishes(
    engine: Engine, four_playlists: Path, problems: ProblemLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = catalog.insert_playlists
    calls: list[int] = []

    def insert_then_fail(**kwargs: Any) -> int:
        calls.append(1)
        added = real(**kwargs)  # batch 2 writes its tracks, playlists and items ...
        if len(calls) == 2:
            raise ConnectionError("database went away")  # ... and then the connection drops
        return added

    monkeypatch.setattr(catalog, "insert_playlists", insert_then_fail)
    with pytest.raises(ConnectionError):
        ingest_playlists(engine, [four_playlists], problems=problems, batch_size=2, progress=False)

    after = counts(engine)
    assert (after.playlists, after.playlist_items, after.tracks, after.artists) == (2, 4, 4, 1)

    monkeypatch.setattr(catalog, "insert_playlists", real)
    rerun = ingest_playlists(
        engine, [four_playlists], problems=problems, batch_size=2, progress=False
    )

    assert (rerun.read, rerun.added) == (4, 2)
    assert (counts(engine).playlists, counts(engine).tracks) == (4, 8)


def test_a_broken_file_is_reported_and_the_good_one_ingested(
    engine: Engine, write: Writer, problems: ProblemLog
) -> None:
    write("mpd/good.json", mpd_slice(mpd_playlist(1, [mpd_track(1)])))
    broken = write("mpd/broken.json", "this is not JSON\n")

    report = ingest_playlists(engine, [write.folder / "mpd"], problems=problems, progress=False)

    assert (report.files, report.files_failed, report.read, report.added) == (2, 1, 1, 1)
    assert [(p.path, p.line) for p in problems.problems] == [(broken, None)]
    assert problems.problems[0].message.startswith("not an MPD slice")
    assert "1 could not be read" in report.summary()
    assert counts(engine).playlists == 1


def test_a_broken_track_file_does_not_stop_the_others(
    engine: Engine, write: Writer, problems: ProblemLog
) -> None:
    write("t/a.csv", "uri,energy\nx,0.5\n")  # no title or artist column
    write("t/b.csv.gz", f"uri,title,artist\n{uri(1)},Halo,Beyoncé\n")

    report = ingest_tracks(engine, [write.folder / "t"], problems=problems, progress=False)

    assert (report.files_failed, report.read, report.added) == (1, 1, 1)
    assert problems.problems[0].path == write.folder / "t" / "a.csv"


def test_nothing_readable_reads_nothing(
    engine: Engine, tmp_path: Path, write: Writer, problems: ProblemLog
) -> None:
    write("mpd/empty.json", "")

    report = ingest_playlists(
        engine, [write.folder / "mpd", tmp_path / "missing"], problems=problems, progress=False
    )

    assert report.nothing_read is True
    assert (report.files, report.files_failed, report.added) == (1, 1, 0)
    assert [p.message for p in problems.problems] == ["no such file or folder", "file is empty"]
    assert counts(engine).playlists == 0
