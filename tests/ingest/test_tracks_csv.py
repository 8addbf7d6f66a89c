"""Reading track CSVs in the layouts real exports use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ingest.files import InputError
from ingest.tracks_csv import decade_from_filename, read_tracks
from tests.ingest.samples import uri
from wavelength.ids import artist_id, stable_track_id

if TYPE_CHECKING:
    from pathlib import Path

    from ingest.problems import ProblemLog
    from tests.ingest.samples import Writer

HIT_HEADER = "track,artist,uri,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,duration_ms,time_signature,chorus_hit,sections,target"
TOP_HEADER = "Index,Title,Artist,Top Genre,Year,Beats Per Minute (BPM),Energy,Danceability,Loudness (dB),Liveness,Valence,Length (Duration),Acousticness,Speechiness,Popularity"


@pytest.mark.parametrize(
    ("name", "decade"),
    [
        ("dataset-of-60s.csv", 1960),
        ("dataset-of-90s.csv", 1990),
        ("dataset-of-00s.csv", 2000),
        ("dataset-of-10s.csv", 2010),
        ("20s_hits.csv", 2020),
        ("Spotify-2000.csv", None),
        ("top-2000s.csv", None),
        ("tracks.csv", None),
    ],
)
def test_decade_from_filename(name: str, decade: int | None) -> None:
    assert decade_from_filename(name) == decade


def test_hit_predictor_layout(write: Writer, problems: ProblemLog) -> None:
    path = write(
        "hit_predictor/dataset-of-60s.csv",
        f"{HIT_HEADER}\n"
        f"Jealous Kind Of Fella,Garland Green,{uri(1)},0.417,0.62,3,-7.727,1,0.0403,0.49,0,0.0779,0.845,185.655,173533,3,32.94975,9,1\n"
        f"Initials B.B.,Serge Gainsbourg,{uri(2).split(':')[-1]},0.498,0.505,3,-12.475,1,0.0337,0.018,0.107,0.176,0.797,101.801,213613,4,48.8251,10,0\n",
    )

    first, second = read_tracks(path, problems)

    assert (first.id, first.name, first.artist.name) == (
        uri(1),
        "Jealous Kind Of Fella",
        "Garland Green",
    )
    assert second.id == uri(2)  # a bare base62 id becomes a URI
    assert (first.year, first.decade, second.decade) == (None, 1960, 1960)
    assert first.duration_ms == 173533
    f = first.features
    assert (f.danceability, f.energy, f.valence, f.instrumentalness) == (0.417, 0.62, 0.845, 0.0)
    assert (f.key, f.mode, f.tempo, f.loudness) == (3, 1, 185.655, -7.727)
    assert (first.genre, first.album, first.popularity) == (None, None, None)
    assert len(problems) == 0
    assert problems.notes == [
        f"{path}: ignored columns time signature, chorus hit, sections, target"
    ]


def test_top_2000_layout_rescales_percent_features_and_seconds(
    write: Writer, problems: ProblemLog
) -> None:
    path = write(
        "Spotify-2000.csv",
        f"{TOP_HEADER}\n"
        "1,Sunrise,Norah Jones,adult standards,2004,157,30,53,-14,11,68,201,94,3,71\n"
        # A row wrapped whole in quotes: one cell holding the real row, inner quotes doubled.
        '"49,""You\'re The First, The Last, My Everything"",Barry White,adult standards,2009,131,72,64,-7,14,80,213,1,4,67"\n',
    )

    sunrise, barry = read_tracks(path, problems)

    assert (sunrise.name, sunrise.artist.name, sunrise.genre) == (
        "Sunrise",
        "Norah Jones",
        "adult standards",
    )
    assert sunrise.id == stable_track_id("Norah Jones", "Sunrise")  # no URI column
    assert (sunrise.year, sunrise.decade, sunrise.duration_ms, sunrise.popularity) == (
        2004,
        2000,
        201_000,
        71,
    )
    f = sunrise.features
    assert (f.energy, f.danceability, f.valence) == pytest.approx((0.30, 0.53, 0.68))
    assert (f.liveness, f.acousticness, f.speechiness) == pytest.approx((0.11, 0.94, 0.03))
    assert (f.tempo, f.loudness) == (157.0, -14.0)  # not 0..1 features: left as they are
    assert barry.name == "You're The First, The Last, My Everything"
    assert (barry.artist.name, barry.year, barry.duration_ms) == ("Barry White", 2009, 213_000)
    assert barry.features.energy == pytest.approx(0.72)
    assert len(problems) == 0
    assert problems.notes == [f"{path}: ignored columns index"]


def test_genre_list_literals_and_artist_lists(write: Writer, problems: ProblemLog) -> None:
    path = write(
        "tracks.csv",
        "name,artists,genres,release_date\n"
        "\"Drunk in Love\",\"['Beyoncé', 'Jay-Z']\",\"['pop', 'r&b']\",2013-12-13\n"
        '"September","Earth, Wind & Fire","disco|funk",1978\n',
    )

    drunk, september = read_tracks(path, problems)

    assert (drunk.artist.name, drunk.artist.id) == ("Beyoncé", artist_id("Beyoncé"))
    assert drunk.genre == "pop, r&b"
    assert (drunk.year, drunk.decade) == (2013, 2010)  # the year taken from a release date
    assert september.artist.name == "Earth, Wind & Fire"
    assert (september.genre, september.year) == ("disco, funk", 1978)
    assert len(problems) == 0


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_tab_and_semicolon_delimited_files(
    write: Writer, problems: ProblemLog, delimiter: str
) -> None:
    rows = [["title", "artist", "energy"], ["Sunrise", "Norah Jones", "0.3"]]
    path = write("t.tsv", "\n".join(delimiter.join(r) for r in rows) + "\n")

    [track] = read_tracks(path, problems)

    assert (track.name, track.artist.name, track.features.energy) == ("Sunrise", "Norah Jones", 0.3)


def test_rows_without_title_or_artist_are_reported_with_their_line(
    write: Writer, problems: ProblemLog
) -> None:
    lines = ["title,artist,energy"]
    lines += [f"Song {n},Nina Simone,0.5" for n in range(1, 1000)]
    lines[3] = ",Nina Simone,0.5"  # line 4: inside the rows sampled for the layout
    lines[700] = "Song 700,,0.5"  # line 701: after them
    lines[800] = ",,"  # an empty row is not a problem
    path = write("t.csv", "\n".join(lines) + "\n")

    tracks = list(read_tracks(path, problems))

    assert len(tracks) == 999 - 3
    assert [(p.path, p.line, p.message) for p in problems.problems] == [
        (path, 4, "no track title; row skipped"),
        (path, 701, "no artist; row skipped"),
    ]


def test_a_feature_column_with_negative_values_is_ignored(
    write: Writer, problems: ProblemLog
) -> None:
    # Standardized valence from a mood dataset is not Spotify's 0..1 valence.
    path = write(
        "moods.csv",
        "track_name,artist_name,valence,energy\nA,X,-1.2,0.4\nB,Y,0.9,0.5\nC,Z,2.3,0.6\n",
    )

    tracks = list(read_tracks(path, problems))

    assert [t.features.valence for t in tracks] == [None, None, None]
    assert [t.features.energy for t in tracks] == [0.4, 0.5, 0.6]
    assert problems.notes == [f"{path}: column valence is not on a 0-1 or 0-100 scale; ignored"]
    assert len(problems) == 0


def test_implausible_years_are_dropped_and_the_file_decade_used(
    write: Writer, problems: ProblemLog
) -> None:
    path = write("dataset-of-70s.csv", "title,artist,year\nA,X,0\nB,Y,1975\nC,Z,\n")

    tracks = list(read_tracks(path, problems))

    assert [(t.year, t.decade) for t in tracks] == [(None, 1970), (1975, 1970), (None, 1970)]


def test_a_file_without_title_and_artist_columns_is_an_input_error(
    write: Writer, problems: ProblemLog
) -> None:
    path = write("t.csv", "uri,energy\nabc,0.5\n")
    with pytest.raises(
        InputError, match="can't find the track title and artist columns; found: uri, energy"
    ):
        list(read_tracks(path, problems))


def test_latin1_file_reads_with_accents(write: Writer, problems: ProblemLog) -> None:
    path = write("t.csv", "title,artist\nCrazy In Love,Beyoncé\n", "latin-1")

    [track] = read_tracks(path, problems)

    assert (track.name, track.artist.name) == ("Crazy In Love", "Beyoncé")
    assert len(problems.notes) == 1


@pytest.mark.shared_data
def test_real_top_2000_file_reads_whole(shared_data: Path, problems: ProblemLog) -> None:
    tracks = list(read_tracks(shared_data / "tracks" / "Spotify-2000.csv", problems))
    assert len(tracks) == 1_994
    assert len(problems) == 0
    # The 58 rows wrapped whole in quotes would lose year and features if not re-parsed.
    assert all(t.year is not None and 1956 <= t.year <= 2019 for t in tracks)
    assert all(t.features.energy is not None and 0 <= t.features.energy <= 1 for t in tracks)


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("decade", "count"),
    [(1960, 8_642), (1970, 7_766), (1980, 6_908), (1990, 5_520), (2000, 5_872), (2010, 6_398)],
)
def test_real_hit_predictor_files_read_whole(
    shared_data: Path, problems: ProblemLog, decade: int, count: int
) -> None:
    path = shared_data / "tracks" / "hit_predictor" / f"dataset-of-{decade % 100:02d}s.csv"
    tracks = list(read_tracks(path, problems))
    assert len(tracks) == count
    assert len(problems) == 0
    assert {t.decade for t in tracks} == {decade}
    assert all(t.id.startswith("spotify:track:") for t in tracks)
    assert all(0 <= (t.features.danceability or 0) <= 1 for t in tracks)
