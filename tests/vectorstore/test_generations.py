"""Generations on both backends: build beside the live one, publish atomically, switch a
LiveStore in place (calls in flight finish on the old one), drop what nobody reads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from tests.vectorstore.catalog import CATALOG, DIMS, TRACKS, axis
from tests.vectorstore.conftest import ram_folder
from vectorstore import (
    CollectionName,
    Generations,
    LiveStore,
    Payload,
    Point,
    VectorName,
    VectorStore,
    VectorStoreError,
    generation_of,
    open_store,
)
from vectorstore.edge_generations import POINTER, EdgeGenerations
from vectorstore.server import QdrantServerStore
from vectorstore.server_generations import ServerGenerations


def fill(store: VectorStore, tag: str) -> None:
    """Every collection, with one marker point saying which generation this is."""
    for name in CollectionName:
        store.ensure_collection(name, dims=DIMS)
    store.upsert(TRACKS, CATALOG)
    marker = {VectorName.TEXT: axis(5), VectorName.CF: np.ones(4, np.float32)}
    store.upsert(TRACKS, [Point(f"marker:{tag}", marker, Payload())])
    for name in (CollectionName.ARTISTS, CollectionName.PLAYLISTS):
        store.upsert(name, [Point(f"{name.value}:{tag}", marker, Payload())])


def marker(store: VectorStore) -> str:
    hits = store.search(TRACKS, using=VectorName.TEXT, vector=axis(5), n=1)
    return hits[0].id


@pytest.fixture(params=["edge", "server"])
def generations(request: pytest.FixtureRequest) -> Iterator[Generations]:
    if request.param == "edge":
        with ram_folder() as folder:
            found: Generations = EdgeGenerations(folder / "vectors")
            yield found
            found.close()
    else:
        found = ServerGenerations.local()
        yield found
        found.close()


def build(generations: Generations, generation: int, tag: str) -> None:
    store = generations.open(generation)
    try:
        fill(store, tag)
    finally:
        store.close()


def test_a_new_generation_is_built_beside_the_live_one_then_swapped_in(
    generations: Generations,
) -> None:
    assert generations.live() == 0 and generations.built() == []
    build(generations, 0, "g0")  # what `wavelength train` wrote before any refresh
    live = LiveStore(generations)
    swaps: list[int] = []
    live.on_swap(swaps.append)
    try:
        assert (live.generation, marker(live), generation_of(live)) == (0, "marker:g0", 0)
        build(generations, 1, "g1")
        assert generations.built() == [0, 1]
        assert marker(live) == "marker:g0"  # built, not published: nobody reads it
        assert live.follow() is False

        generations.publish(1)
        assert generations.live() == 1
        assert live.follow() is True and not live.follow()
        assert (live.generation, marker(live), swaps) == (1, "marker:g1", [1])
        assert live.count(TRACKS) == len(CATALOG) + 1

        assert generations.drop(0)
        assert generations.built() == [1]
        assert marker(live) == "marker:g1"
        with pytest.raises(ValueError, match="is live"):
            generations.drop(1)
    finally:
        live.close()


def test_only_a_complete_generation_can_be_published(generations: Generations) -> None:
    build(generations, 0, "g0")
    half = generations.open(2)
    half.ensure_collection(TRACKS, dims=DIMS)  # a refresh that died after one collection
    half.close()
    with pytest.raises(ValueError, match="generation 2 is not built"):
        generations.publish(2)
    assert generations.live() == 0
    assert generations.built() == [0, 2]
    assert generations.drop(2) and generations.built() == [0]


def test_a_call_in_flight_finishes_on_the_old_generation(generations: Generations) -> None:
    build(generations, 0, "g0")
    build(generations, 1, "g1")
    live = LiveStore(generations, drain_s=30)
    started, release = threading.Event(), threading.Event()

    def slow_points() -> Iterator[Point]:
        started.set()
        release.wait(10)
        yield Point("late", {VectorName.TEXT: axis(4)}, Payload())

    written: list[int] = []
    writer = threading.Thread(target=lambda: written.append(live.upsert(TRACKS, slow_points())))
    writer.start()
    assert started.wait(10)
    generations.publish(1)
    switcher = threading.Thread(target=live.follow)
    switcher.start()
    try:
        # The switch opens generation 1's shards first: on a busy machine that took more
        # than the half second this test once allowed, so it waits for the switch itself.
        deadline = time.monotonic() + 10
        while live.generation != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert live.generation == 1, "the store did not switch to generation 1"
        assert switcher.is_alive()  # waiting for the upsert still running on generation 0
        assert marker(live) == "marker:g1"  # while new calls already go to generation 1
    finally:
        release.set()  # a failure above must not leave the threads to outlive the folder
    writer.join(10)
    switcher.join(10)
    assert written == [1] and not switcher.is_alive()
    # The embedded store held generation 0's shards for the whole call; a server resolves
    # the alias when the request arrives, which here was after the publish.
    # (On a server, generation 0's real collections are gone after the publish.)
    embedded = isinstance(generations, EdgeGenerations)
    for generation, has_it in ((0, True), (1, False)) if embedded else ((1, True),):
        store = generations.open(generation)
        try:
            found = store.vectors(TRACKS, ["late"], using=VectorName.TEXT)
            assert ("late" in found) is has_it
        finally:
            store.close()
    live.close()


def test_the_embedded_pointer_names_the_live_folder(tmp_path: Path) -> None:
    root = tmp_path / "vectors"
    generations = EdgeGenerations(root)
    build(generations, 0, "g0")
    build(generations, 3, "g3")
    generations.publish(3)
    assert (root / POINTER).read_text().strip() == "g3"
    assert not list(root.glob(f".{POINTER}*"))  # the temporary file was renamed, not left
    opened = open_store(url=None, api_key=None, path=root)  # what `open_store` now opens
    try:
        assert marker(opened) == "marker:g3"
    finally:
        opened.close()
    # Generation 0 stays in use while a store has it open; then only its shards go.
    still = generations.open(0)
    still.info(TRACKS)
    assert generations.drop(0) is False and (root / "tracks").is_dir()
    still.close()
    assert generations.drop(0) is True
    assert sorted(p.name for p in root.iterdir()) == [POINTER, "g3"]

    (root / POINTER).write_text("../elsewhere\n")
    with pytest.raises(VectorStoreError, match="should name the live generation's folder"):
        generations.live()


def test_without_a_pointer_the_folder_itself_is_generation_0(tmp_path: Path) -> None:
    generations = EdgeGenerations(tmp_path / "vectors")
    build(generations, 0, "g0")
    assert generations.live() == 0
    assert generations.folder(0) == (tmp_path / "vectors").resolve()
    opened = open_store(url=None, api_key=None, path=tmp_path / "vectors")
    try:
        assert marker(opened) == "marker:g0"
    finally:
        opened.close()


def test_server_aliases_replace_the_real_collections_in_one_step() -> None:
    client = QdrantClient(location=":memory:")
    generations = ServerGenerations(QdrantServerStore(client))
    build(generations, 0, "g0")
    assert client.collection_exists("wavelength_tracks")
    # Another process's store: it reads the alias names and never switches anything itself.
    other = QdrantServerStore(client, owns_client=False)
    assert marker(other) == "marker:g0"

    build(generations, 1, "g1")
    generations.publish(1)
    aliases = {a.alias_name: a.collection_name for a in client.get_aliases().aliases}
    assert aliases == {f"wavelength_{n.value}": f"wavelength_{n.value}_g1" for n in CollectionName}
    assert marker(other) == "marker:g1"  # seen at once, through the alias

    build(generations, 2, "g2")
    generations.publish(2)  # an alias that exists is moved, in the same call
    assert marker(other) == "marker:g2"
    assert generations.built() == [1, 2]
    assert generations.drop(1) and generations.built() == [2]
    names = {c.name for c in client.get_collections().collections}
    assert names == {f"wavelength_{n.value}_g2" for n in CollectionName}
    generations.close()


def test_a_live_store_on_a_shared_server_follows_on_its_own() -> None:
    client = QdrantClient(location=":memory:")
    mine = ServerGenerations(QdrantServerStore(client))
    theirs = ServerGenerations(QdrantServerStore(client, owns_client=False))
    build(mine, 0, "g0")
    live = LiveStore(mine, follow_every_s=0.0)
    switched = threading.Event()
    live.on_swap(lambda _generation: switched.set())
    build(theirs, 1, "g1")
    theirs.publish(1)  # another process refreshed
    assert marker(live) == "marker:g1"  # the alias answers at once
    assert switched.wait(10) and live.generation == 1  # and the store noticed by itself
    live.close()
