"""`wavelength jobs` as an operator runs it: the model refresh by hand and what `list` says."""

from __future__ import annotations

import json
from pathlib import Path

from tests.wavelength.test_cli import TRACKS_CSV, wl

ENV = {"WAVELENGTH_DEMO_CATALOG": "false", "WAVELENGTH_REFRESH_MIN_NEW_ITEMS": "10"}


def _slice(first_pid: int, count: int) -> str:
    """Playlists of the six CSV tracks: jazz ones and metal ones."""

    def item(n: int) -> dict[str, object]:
        return {"track_uri": f"spotify:track:{n:022d}", "artist_name": "x", "track_name": "y"}

    playlists = [
        {"pid": pid, "name": "jazz" if pid % 2 else "metal",
         "tracks": [item(n) for n in ((1, 2, 3) if pid % 2 else (4, 5, 6))]}
        for pid in range(first_pid, first_pid + count)
    ]  # fmt: skip
    return json.dumps({"info": {}, "playlists": playlists})


def _ingest(tmp_path: Path, kind: str, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    result = wl("ingest", kind, str(tmp_path / name), "--no-progress", env=ENV)
    assert result.returncode == 0, result.stderr


def test_a_refresh_by_hand_swaps_in_a_new_generation(tmp_path: Path) -> None:
    _ingest(tmp_path, "tracks", "tracks.csv", TRACKS_CSV)
    _ingest(tmp_path, "playlists", "mpd.slice.0-11.json", _slice(0, 12))
    assert wl("train", "--no-progress", env=ENV).returncode == 0

    first = wl("jobs", "run", "model-refresh", env=ENV)
    assert first.returncode == 0, first.stderr
    # `train` recorded what it learned from: the refresh counts from there.
    assert "model-refresh: not due: 0 new playlist items since generation 0 (36)" in first.stdout

    _ingest(tmp_path, "playlists", "mpd.slice.12-15.json", _slice(12, 4))  # 12 items: due
    listed = wl("jobs", "list", env=ENV)
    assert listed.returncode == 0, listed.stderr
    assert "Vectors: generation 0 live, trained" in listed.stdout
    assert "on 36 playlist items (12 playlists, 6 tracks)" in listed.stdout
    assert "12 new playlist items since generation 0 (36); at least 10: due" in listed.stdout

    done = wl("jobs", "run", "model-refresh", env=ENV)
    assert done.returncode == 0, done.stderr
    assert "model-refresh: swapped: generation 1 live (was 0)" in done.stdout
    assert "cf ..." in done.stderr  # the stages, as `train` shows them
    vectors = Path(tmp_path / "home" / "vectors")
    assert (vectors / "LIVE").read_text().strip() == "g1"
    assert sorted(p.name for p in vectors.iterdir()) == ["LIVE", "g1"]

    listed = wl("jobs", "list", env=ENV)
    assert "Vectors: generation 1 live, trained" in listed.stdout
    assert "on 48 playlist items (16 playlists, 6 tracks)" in listed.stdout

    forced = wl("jobs", "run", "model-refresh", "--force", env=ENV)
    assert "swapped: generation 2 live (was 1)" in forced.stdout, forced.stderr


def test_daily_picks_still_need_a_user() -> None:
    result = wl("jobs", "run", "daily-picks", env=ENV)
    assert result.returncode == 2
    assert "daily-picks needs --user NAME" in result.stderr
