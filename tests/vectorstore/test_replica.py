"""EdgeReplicas: a compose worker searches a private copy of the owner's live generation.

The owner process holds every shard open (and its flock), so a copy is the only way a second
process can search. These tests keep a real owner open beside the replicas and check that the
copies answer exactly as the owner does, never touch the source, follow a new generation and
leave nothing behind. Shards live in RAM (``ram_folder``): on disk each one costs a second of
fsync.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vectorstore.catalog import CATALOG, MIXED_QUERY, TRACKS, axis, unit
from tests.vectorstore.conftest import ram_folder
from tests.vectorstore.test_generations import fill, marker
from vectorstore import (
    CollectionName,
    Filter,
    Hit,
    LiveStore,
    Payload,
    Point,
    VectorName,
    VectorStore,
    VectorStoreError,
)
from vectorstore.edge_generations import EdgeGenerations
from vectorstore.replica import EdgeReplicas

REPO = Path(__file__).resolve().parents[2]
# Generation 1 leaves out the jazz cluster, so its answers differ from generation 0's.
DROPPED_IN_G1 = tuple(p.id for p in CATALOG if p.id.startswith("jazz:"))
TEXT_QUERIES = (axis(0), axis(1), axis(3), MIXED_QUERY)
CF_QUERIES = (unit([1.0, 0.2, 0.0, 0.0]), unit([0.0, 0.3, 1.0, 0.1]))
# Leaves out tracks near axis(0) and MIXED_QUERY, and the marker: those answers change.
EXCLUDED = Filter(exclude_ids=("jazz:1", "jazz:2", "metal:1", "marker:g0"))


def answers(store: VectorStore) -> list[list[Hit]]:
    """Searches (with and without a filter) and one recommend, in a fixed order."""
    found: list[list[Hit]] = []
    for using, queries in ((VectorName.TEXT, TEXT_QUERIES), (VectorName.CF, CF_QUERIES)):
        for query in queries:
            for where in (Filter(), EXCLUDED):
                found.append(store.search(TRACKS, using=using, vector=query, n=8, where=where))
    found.append(
        store.recommend(TRACKS, using=VectorName.TEXT, positive=["metal:2"], negative=["pop:1"])
    )
    return found


def files(folder: Path) -> dict[str, tuple[int, int] | None]:
    """Every path under ``folder``, a file with its size and mtime (any write changes one).
    Not the contents: the shards preallocate about 600 MB, mostly holes, for 25 points."""
    found: dict[str, tuple[int, int] | None] = {}
    for path in sorted(folder.rglob("*")):
        stat = path.stat()
        found[str(path.relative_to(folder))] = (
            (stat.st_size, stat.st_mtime_ns) if path.is_file() else None
        )
    return found


def copies(scratch: Path) -> list[str]:
    return sorted(p.name for p in scratch.iterdir()) if scratch.exists() else []


def build_g1(source: Path) -> None:
    """Generation 1 as a model refresh builds it: beside the live one, through the owner's
    EdgeGenerations, with the jazz cluster gone and its own marker."""
    store = EdgeGenerations(source).open(1)
    try:
        fill(store, "g1")
        store.delete(TRACKS, DROPPED_IN_G1)
    finally:
        store.close()


@pytest.fixture
def folder() -> Iterator[Path]:
    with ram_folder() as found:
        yield found


@pytest.fixture
def source(folder: Path) -> Path:
    """Generation 0 as `wavelength train` leaves it: written, then closed."""
    root = folder / "vectors"
    store = EdgeGenerations(root).open(0)
    try:
        fill(store, "g0")
    finally:
        store.close()
    return root


@pytest.fixture
def scratch(folder: Path) -> Path:
    return folder / "scratch"


@pytest.fixture
def owner(source: Path) -> Iterator[LiveStore]:
    """The process that owns the shards, with every one open (so it holds every flock)."""
    store = LiveStore(EdgeGenerations(source))
    for name in CollectionName:
        assert store.info(name) is not None
    yield store
    store.close()


def test_a_copy_answers_exactly_as_the_owner_does(
    owner: LiveStore, source: Path, scratch: Path
) -> None:
    expected = answers(owner)
    # Not vacuous: every query found hits, and the filter changed what came back.
    assert all(expected)
    unfiltered, filtered = ({h.id for h in hits} for hits in expected[:2])  # axis(0): jazz
    assert {"jazz:1", "jazz:2"} <= unfiltered
    assert not filtered & set(EXCLUDED.exclude_ids)
    replica = LiveStore(EdgeReplicas(source, scratch))
    try:
        assert replica.generation == 0
        assert answers(replica) == expected  # same ids and the same float scores
        assert replica.count(TRACKS) == owner.count(TRACKS) == len(CATALOG) + 1
    finally:
        replica.close()


def test_the_copy_lives_under_scratch_and_the_source_is_untouched(
    owner: LiveStore, source: Path, scratch: Path
) -> None:
    before = files(source)
    assert f"{TRACKS.value}.lock" in before  # the owner's flock file, taken by the fixture
    assert any(name.endswith(".mmap") for name in before)  # and the shards' data
    replica = LiveStore(EdgeReplicas(source, scratch))
    try:
        assert marker(replica) == "marker:g0"
        assert copies(scratch) == ["g0-1"]
        copied = sorted(p.name for p in (scratch / "g0-1").iterdir() if p.is_dir())
        assert copied == sorted(n.value for n in CollectionName)
        assert not scratch.is_relative_to(source)
    finally:
        replica.close()
    assert files(source) == before


def test_writes_are_refused_or_land_only_in_the_private_copy(
    owner: LiveStore, source: Path, scratch: Path
) -> None:
    replicas = EdgeReplicas(source, scratch)
    for refused in (
        lambda: replicas.open(1),
        lambda: replicas.publish(0),
        lambda: replicas.drop(0),
    ):
        with pytest.raises(VectorStoreError, match="read-only"):
            refused()
    replica = LiveStore(replicas)
    try:
        # LiveStore hands upserts to the copy's EdgeStore, which accepts them: a write lands
        # only in the private copy (gone at close), never in the source the owner serves.
        extra = Point("written:by-replica", {VectorName.TEXT: axis(2)}, Payload())
        assert replica.upsert(TRACKS, [extra]) == 1
        assert replica.count(TRACKS) == len(CATALOG) + 2
        assert owner.count(TRACKS) == len(CATALOG) + 1
        assert owner.vectors(TRACKS, [extra.id], using=VectorName.TEXT) == {}
    finally:
        replica.close()
    # Nor does a fresh copy, made once the owner has let go of the source.
    owner.close()
    again = LiveStore(EdgeReplicas(source, scratch))
    try:
        assert again.count(TRACKS) == len(CATALOG) + 1
    finally:
        again.close()


def test_following_a_new_generation_copies_it_and_prunes_the_old_copy(
    owner: LiveStore, source: Path, scratch: Path
) -> None:
    replicas = EdgeReplicas(source, scratch)
    replica = LiveStore(replicas)
    replica.on_swap(lambda _generation: replicas.prune())  # as wavelength/compose_pool.py does
    try:
        before = answers(replica)
        build_g1(source)
        assert replica.follow() is False  # built but not published: nothing to copy
        assert copies(scratch) == ["g0-1"]

        EdgeGenerations(source).publish(1)
        assert replica.follow() is True
        assert (replica.generation, marker(replica)) == (1, "marker:g1")
        assert replica.count(TRACKS) == len(CATALOG) + 1 - len(DROPPED_IN_G1)
        assert copies(scratch) == ["g1-2"]  # the generation 0 copy was closed, then deleted

        assert owner.follow() is True
        after = answers(replica)
        assert after == answers(owner)
        assert after != before
        assert not {h.id for hits in after for h in hits} & set(DROPPED_IN_G1)
        assert replica.follow() is False
    finally:
        replica.close()


def test_a_replica_follows_on_its_own_with_follow_every_s(
    owner: LiveStore, source: Path, scratch: Path
) -> None:
    replicas = EdgeReplicas(source, scratch)
    replica = LiveStore(replicas, follow_every_s=0.05)
    swapped = threading.Event()
    replica.on_swap(lambda _generation: swapped.set())
    try:
        assert marker(replica) == "marker:g0"
        build_g1(source)
        EdgeGenerations(source).publish(1)
        seen = marker(replica)
        deadline = time.monotonic() + 10
        while seen != "marker:g1" and time.monotonic() < deadline:
            time.sleep(0.02)
            seen = marker(replica)  # each search may start the look, in its own thread
        assert seen == "marker:g1", "the replica did not notice generation 1 within 10 s"
        assert swapped.wait(10) and replica.generation == 1
    finally:
        replica.close()


def test_close_deletes_every_copy_and_leaves_the_source(
    owner: LiveStore, source: Path, scratch: Path
) -> None:
    replica = LiveStore(EdgeReplicas(source, scratch))
    assert marker(replica) == "marker:g0"
    assert copies(scratch) == ["g0-1"]
    replica.close()
    assert not scratch.exists()
    assert marker(owner) == "marker:g0" and owner.count(TRACKS) == len(CATALOG) + 1


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_a_source_without_collections_is_a_clear_error(
    kind: str, folder: Path, scratch: Path
) -> None:
    source = folder / "vectors"
    if kind == "empty":
        source.mkdir()
    replicas = EdgeReplicas(source, scratch)
    with pytest.raises(VectorStoreError, match="wavelength train"):
        replicas.open_live()
    with pytest.raises(VectorStoreError, match="wavelength train"):
        LiveStore(replicas)  # what a compose worker does when it starts
    assert copies(scratch) == []  # no empty copy folder left behind
    assert source.exists() is (kind == "empty")  # nor a source folder made up


_WORKER = """
import json, sys
from pathlib import Path
from tests.vectorstore.catalog import MIXED_QUERY, TRACKS
from vectorstore import LiveStore, VectorName, VectorStoreError
from vectorstore.edge import EdgeStore
from vectorstore.replica import EdgeReplicas

source, scratch = Path(sys.argv[1]), Path(sys.argv[2])
try:
    EdgeStore(source).count(TRACKS)
    refused = ""
except VectorStoreError as exc:
    refused = str(exc)
live = LiveStore(EdgeReplicas(source, scratch))
hits = live.search(TRACKS, using=VectorName.TEXT, vector=MIXED_QUERY, n=8)
live.close()
print(json.dumps({"refused": refused, "hits": [[h.id, h.score] for h in hits]}))
"""


def test_another_process_is_refused_the_source_but_searches_a_copy(
    owner: LiveStore, source: Path, scratch: Path
) -> None:
    # The reason replicas exist: the owner's flock turns a second process away from the
    # shards themselves, while a copy of them answers that process exactly as the owner.
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(source), str(scratch)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert "open in another process" in reply["refused"]
    expected = owner.search(TRACKS, using=VectorName.TEXT, vector=MIXED_QUERY, n=8)
    assert [Hit(i, s) for i, s in reply["hits"]] == expected
    assert not scratch.exists()  # the worker's close deleted its copy


def test_sparse_copy_keeps_the_bytes_and_the_holes(tmp_path: Path) -> None:
    from vectorstore.replica import sparse_copy

    source = tmp_path / "reserved.bin"
    with source.open("wb") as out:
        out.write(b"head" * 1000)
        out.seek(64 << 20)  # a 64 MB hole, as qdrant-edge reserves
        out.write(b"tail")
    target = tmp_path / "copy.bin"
    sparse_copy(str(source), str(target))
    assert target.read_bytes() == source.read_bytes()
    if source.stat().st_blocks * 512 < 8 << 20:  # this file system keeps holes at all
        assert target.stat().st_blocks * 512 < 8 << 20


def test_sparse_copy_copies_whole_where_holes_cannot_be_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from vectorstore.replica import sparse_copy

    source = tmp_path / "data.bin"
    source.write_bytes(bytes(range(256)) * 4096)
    real_lseek = os.lseek

    def no_seek_data(fd: int, pos: int, how: int) -> int:
        if how == os.SEEK_DATA:
            raise OSError(errno.EINVAL, "SEEK_DATA not supported")
        return real_lseek(fd, pos, how)

    monkeypatch.setattr(os, "lseek", no_seek_data)
    target = tmp_path / "copy.bin"
    sparse_copy(str(source), str(target))
    assert target.read_bytes() == source.read_bytes()
