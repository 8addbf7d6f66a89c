"""Reading artist CSVs that carry genres."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ingest.artists_csv import read_artists
from ingest.files import InputError
from wavelength.ids import artist_id

if TYPE_CHECKING:
    from pathlib import Path

    from ingest.problems import ProblemLog
    from tests.ingest.samples import Writer


def test_artists_with_genre_lists(write: Writer, problems: ProblemLog) -> None:
    path = write(
        "data_w_genres.csv",
        "genres,artists,acousticness,id\n"
        "\"['dance pop', 'pop']\",Beyoncé,0.2,6vWDO969PvNqNYHIOW5v0m\n"
        '[],"Earth, Wind & Fire",0.3,\n'
        "\"['hip hop']\",\"['Jay-Z', 'Kanye West']\",0.1,\n"
        "\"['pop']\",,0.5,\n",
    )

    beyonce, ewf, duo = read_artists(path, problems)

    assert (beyonce.id, beyonce.name, beyonce.genres) == (
        artist_id("Beyoncé"),
        "Beyoncé",
        ("dance pop", "pop"),
    )
    assert beyonce.spotify_uri == "spotify:artist:6vWDO969PvNqNYHIOW5v0m"
    assert (ewf.name, ewf.genres, ewf.spotify_uri) == ("Earth, Wind & Fire", (), None)
    assert (duo.name, duo.genres) == ("Jay-Z, Kanye West", ("hip hop",))
    assert [(p.line, p.message) for p in problems.problems] == [(5, "no artist name; row skipped")]


def test_a_file_without_genres_is_an_input_error(write: Writer, problems: ProblemLog) -> None:
    path = write("a.csv", "artist,popularity\nBeyoncé,80\n")
    with pytest.raises(InputError, match="can't find artist and genres columns"):
        list(read_artists(path, problems))


@pytest.mark.shared_data
def test_real_artists_with_genres(shared_data: Path, problems: ProblemLog) -> None:
    artists = list(read_artists(shared_data / "tracks" / "data_w_genres.csv", problems))
    assert len(artists) == 28_680
    assert sum(1 for a in artists if a.genres) == 18_823
    assert len(problems) == 0
