"""What only the embedded store promises: persistence, one opener per shard, the process lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO
from tests.vectorstore.catalog import CATALOG, DIMS, MIXED_QUERY, TRACKS, axis
from vectorstore import CollectionName, Filter, Payload, Point, VectorName, VectorStoreError
from vectorstore.edge import EdgeStore

TEXT = VectorName.TEXT

# Opens the store in a fresh interpreter and prints the count, or the one-line error.
OTHER_PROCESS = """
import sys
from pathlib import Path
from vectorstore import CollectionName, VectorStoreError
from vectorstore.edge import EdgeStore
store = EdgeStore(Path(sys.argv[1]))
try:
    print(store.count(CollectionName.TRACKS))
except VectorStoreError as exc:
    print(exc)
    sys.exit(3)
finally:
    store.close()
"""


def loaded(root: Path) -> EdgeStore:
    store = EdgeStore(root)
    store.ensure_collection(TRACKS, dims=DIMS)
    store.upsert(TRACKS, CATALOG)
    return store


def run_other_process(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
        env=env,
    )


def test_points_and_indexes_survive_close_and_reopen(shard_root: Path) -> None:
    store = loaded(shard_root)
    store.finish_bulk_load(TRACKS)
    where = Filter(explicit=False, year_min=1962)
    before = store.search(TRACKS, using=TEXT, vector=MIXED_QUERY, n=100, where=where)
    store.upsert(TRACKS, [Point("late", {TEXT: axis(5)}, Payload(year=2001))])  # after the build
    store.close()

    reopened = EdgeStore(shard_root)
    try:
        assert reopened.count(TRACKS) == len(CATALOG) + 1
        info = reopened.info(TRACKS)
        assert info is not None and dict(info.dims) == DIMS
        after = reopened.search(TRACKS, using=TEXT, vector=MIXED_QUERY, n=100, where=where)
        assert [h.id for h in after if h.id != "late"] == [h.id for h in before]
        assert reopened.search(TRACKS, using=TEXT, vector=axis(5), n=1)[0].id == "late"
        np.testing.assert_allclose(
            reopened.vectors(TRACKS, ["jazz:1"], using=TEXT)["jazz:1"],
            CATALOG[0].vectors[TEXT],
            atol=1e-6,
        )
        with pytest.raises(ValueError, match="delete that folder"):
            reopened.ensure_collection(TRACKS, dims={TEXT: 6})
    finally:
        reopened.close()


def test_two_stores_on_one_folder_share_the_open_shard(shard_root: Path) -> None:
    first = loaded(shard_root)
    second = EdgeStore(shard_root / "." / "")  # the same folder, spelled differently
    try:
        assert second.count(TRACKS) == len(CATALOG)
        second.upsert(TRACKS, [Point("new", {TEXT: axis(5)}, Payload())])
        assert first.count(TRACKS) == len(CATALOG) + 1  # the write is visible to both
        first.delete(TRACKS, ["new"])
        assert second.vectors(TRACKS, ["new"], using=TEXT) == {}

        first.close()  # the shard stays open while the second store uses it
        assert second.search(TRACKS, using=TEXT, vector=axis(0), n=1)[0].id == "jazz:1"
    finally:
        second.close()
    third = EdgeStore(shard_root)  # and opens again once both are closed
    try:
        assert third.count(TRACKS) == len(CATALOG)
    finally:
        third.close()


def test_stores_opened_from_many_threads_share_one_shard(shard_root: Path) -> None:
    loaded(shard_root).close()
    stores: list[EdgeStore] = []
    errors: list[BaseException] = []

    def open_and_count() -> None:
        try:
            store = EdgeStore(shard_root)
            stores.append(store)
            assert store.count(TRACKS) == len(CATALOG)
        except BaseException as exc:  # collected so the main thread can fail the test
            errors.append(exc)

    threads = [threading.Thread(target=open_and_count) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert errors == []
    assert len(stores) == 8


def test_another_process_is_refused_while_the_shard_is_open(shard_root: Path) -> None:
    store = loaded(shard_root)
    try:
        refused = run_other_process(shard_root)
        assert refused.returncode == 3, refused.stderr
        message = refused.stdout.strip()
        assert "\n" not in message
        assert str(shard_root / "tracks") in message
        assert f"open in another process (pid {os.getpid()})" in message
        assert "QDRANT_URL" in message
    finally:
        store.close()

    allowed = run_other_process(shard_root)
    assert (allowed.returncode, allowed.stdout.strip()) == (0, str(len(CATALOG))), allowed.stderr


def test_looking_up_a_missing_collection_creates_nothing(shard_root: Path) -> None:
    store = EdgeStore(shard_root / "vectors")
    try:
        assert store.info(CollectionName.ARTISTS) is None
        with pytest.raises(ValueError, match=r"'artists' does not exist in .*vectors"):
            store.search(CollectionName.ARTISTS, using=TEXT, vector=axis(0))
    finally:
        store.close()
    assert not (shard_root / "vectors").exists()


def test_a_closed_store_says_so(shard_root: Path) -> None:
    store = loaded(shard_root)
    store.close()
    store.close()  # closing twice is harmless
    with pytest.raises(VectorStoreError, match="is closed"):
        store.count(TRACKS)


def test_a_damaged_shard_gives_a_store_error(shard_root: Path) -> None:
    loaded(shard_root).close()
    for segment in (shard_root / "tracks" / "segments").iterdir():
        (segment / "segment.json").write_text("not json", encoding="utf-8")

    store = EdgeStore(shard_root)
    try:
        with pytest.raises(VectorStoreError, match=r"could not open the shard in .*tracks.*delete"):
            store.count(TRACKS)
    finally:
        store.close()
    other = run_other_process(shard_root)  # the failed open released its lock
    assert other.returncode == 3, other.stderr
    assert "could not open the shard" in other.stdout
    assert "another process" not in other.stdout


def test_finish_bulk_load_builds_hnsw_on_a_big_enough_shard(shard_root: Path) -> None:
    from vectorstore.edge import EdgeTuning

    store = EdgeStore(shard_root, tuning=EdgeTuning(indexing_threshold_kb=1))
    try:
        store.ensure_collection(TRACKS, dims={TEXT: 16})
        rng = np.random.default_rng(3)
        vectors = rng.standard_normal((300, 16)).astype(np.float32)
        store.upsert(TRACKS, [Point(f"p{i}", {TEXT: v}, Payload()) for i, v in enumerate(vectors)])
        assert store.indexed_vectors(TRACKS) == 0  # nothing is indexed while loading
        store.finish_bulk_load(TRACKS)
        assert store.indexed_vectors(TRACKS) == 300
        assert store.search(TRACKS, using=TEXT, vector=vectors[7], n=1)[0].id == "p7"
    finally:
        store.close()
