"""The bundled demo catalog: small, clean, and rebuilt byte for byte from the real files."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ingest.demo import HEADER, build_demo_catalog, demo_catalog_path
from ingest.files import open_text
from ingest.tracks_csv import read_tracks

if TYPE_CHECKING:
    from pathlib import Path

    from ingest.problems import ProblemLog


def test_bundled_catalog_is_small_and_reads_cleanly(problems: ProblemLog) -> None:
    path = demo_catalog_path()
    assert path.is_file()
    assert path.stat().st_size < 5 * 1024 * 1024

    tracks = list(read_tracks(path, problems))

    assert len(tracks) > 40_000
    assert len(problems) == 0
    assert problems.notes == []  # every column is one the track reader understands
    assert len({t.id for t in tracks}) == len(tracks)
    assert sum(t.id.startswith("spotify:track:") for t in tracks) > 40_000
    assert all(t.decade is not None for t in tracks)
    assert all(0 <= (t.features.energy or 0) <= 1 for t in tracks)


def test_bundled_catalog_has_the_documented_header(problems: ProblemLog) -> None:
    with open_text(demo_catalog_path(), problems) as text:
        assert text.readline().rstrip("\n") == ",".join(HEADER)


@pytest.mark.shared_data
def test_rebuilding_from_the_real_files_gives_the_same_bytes(
    shared_data: Path, tmp_path: Path
) -> None:
    # Same file name: gzip records it in its header.
    out = tmp_path / "rebuilt" / demo_catalog_path().name

    rows = build_demo_catalog(shared_data / "tracks", out)

    assert rows > 40_000
    assert out.read_bytes() == demo_catalog_path().read_bytes()
