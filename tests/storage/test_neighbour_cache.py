"""``SqliteNeighbourCache``: liked tracks' neighbours shared by the processes of a data home.
The contract part runs on the in-memory fake too, so the fake the station tests use answers
as the file does."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from recommender.station.ports import SharedNeighbours
from storage.neighbour_cache import SqliteNeighbourCache
from tests.support.fakes import DictNeighbours
from wavelength.domain import TrackId

IDS = [TrackId(f"spotify:track:{i:022d}") for i in range(200)]
# Cosines as the liked source keeps them: float64, floored at 0, not round numbers.
SCORES = np.maximum(np.linspace(0.93, -0.2, 200) + 1e-9 * np.arange(200), 0.0)


@pytest.fixture(params=["sqlite", "fake"])
def shelf(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SharedNeighbours]:
    if request.param == "fake":
        yield DictNeighbours()
        return
    cache = SqliteNeighbourCache(tmp_path / "cache" / "neighbours.sqlite")
    yield cache
    cache.close()


def test_a_list_comes_back_exactly(shelf: SharedNeighbours) -> None:
    shelf.put("g0:42|text|150|k|abc|t1", IDS, SCORES)
    found = shelf.get("g0:42|text|150|k|abc|t1")
    assert found is not None
    ids, scores = found
    assert ids == IDS
    assert scores.dtype == np.float64
    assert scores.tobytes() == SCORES.tobytes()  # bit for bit: top_sums adds them


def test_an_unknown_key_is_a_miss_and_a_put_replaces(shelf: SharedNeighbours) -> None:
    assert shelf.get("nothing here") is None
    shelf.put("k", IDS[:3], SCORES[:3])
    shelf.put("k", IDS[3:5], SCORES[3:5])
    assert shelf.get("k") == (IDS[3:5], pytest.approx(SCORES[3:5]))


def test_an_empty_list_is_kept_as_empty(shelf: SharedNeighbours) -> None:
    # A liked track whose search found nothing within the station's limits: no search again.
    shelf.put("empty", [], np.zeros(0))
    found = shelf.get("empty")
    assert found is not None and found[0] == [] and found[1].size == 0


def test_two_processes_on_one_file_see_each_others_lists(tmp_path: Path) -> None:
    path = tmp_path / "neighbours.sqlite"
    first, second = SqliteNeighbourCache(path), SqliteNeighbourCache(path)
    first.put("k", IDS, SCORES)
    found = second.get("k")
    assert found is not None and found[0] == IDS
    first.close()
    second.close()


def test_it_keeps_the_newest_rows_only(tmp_path: Path) -> None:
    cache = SqliteNeighbourCache(tmp_path / "n.sqlite", max_rows=5, prune_every=4)
    for i in range(12):
        cache.put(f"k{i}", IDS[:2], SCORES[:2])
    assert len(cache) == 5  # pruned after the 12th put: the newest five stay
    assert cache.get("k11") is not None and cache.get("k7") is not None
    assert cache.get("k6") is None and cache.get("k0") is None
    cache.close()


def test_a_row_that_does_not_decode_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite"
    cache = SqliteNeighbourCache(path)
    cache.put("k", IDS[:3], SCORES[:3])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE neighbours SET scores = ? WHERE key = 'k'", (b"\x00" * 12,))
    assert cache.get("k") is None  # 12 bytes: not whole float64s
    with sqlite3.connect(path) as db:
        db.execute("UPDATE neighbours SET scores = ? WHERE key = 'k'", (b"\x00" * 16,))
    assert cache.get("k") is None  # two scores for three ids
    cache.close()


def test_an_id_with_a_newline_is_not_shared(tmp_path: Path) -> None:
    cache = SqliteNeighbourCache(tmp_path / "n.sqlite")
    cache.put("k", [TrackId("a\nb"), TrackId("c")], SCORES[:2])
    assert cache.get("k") is None
    cache.close()


def test_a_busy_file_costs_a_search_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite"
    cache = SqliteNeighbourCache(path)
    cache.put("old", IDS[:2], SCORES[:2])
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        cache.put("new", IDS[:2], SCORES[:2])  # gives up after the short busy timeout
        assert cache.get("old") is not None  # WAL: reading goes on meanwhile
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert cache.get("new") is None
    cache.put("new", IDS[:2], SCORES[:2])
    assert cache.get("new") is not None
    cache.close()


def test_a_file_that_is_not_a_database_is_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite"
    path.write_bytes(b"this is not a database, just some bytes " * 200)
    cache = SqliteNeighbourCache(path)
    assert cache.get("k") is None
    cache.put("k", IDS[:2], SCORES[:2])
    assert cache.get("k") is not None
    cache.close()


def test_a_closed_file_is_a_miss(tmp_path: Path) -> None:
    cache = SqliteNeighbourCache(tmp_path / "n.sqlite")
    cache.put("k", IDS[:2], SCORES[:2])
    cache.close()
    assert cache.get("k") is None
    cache.put("k2", IDS[:2], SCORES[:2])  # nothing raised


def test_a_file_it_cannot_open_is_left_alone(tmp_path: Path) -> None:
    # "Cannot open" (locked by a starting neighbour, read-only, a folder in the way) is not
    # "not a database": the file is never deleted for it, the error goes to the caller.
    path = tmp_path / "n.sqlite"
    path.mkdir()
    (path / "keep").write_text("x")
    with pytest.raises(sqlite3.OperationalError):
        SqliteNeighbourCache(path)
    assert (path / "keep").exists()
