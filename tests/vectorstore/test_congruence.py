"""Same seeded points in both backends: after finish_bulk_load their answers agree.

qdrant-client's local mode searches exactly; the edge shard is tuned so that it really builds
HNSW graphs on these 2,000 points and searches them with a high ef, so the overlap measures
the graph, the payload indexes and the filter translation together.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from tests.vectorstore.conftest import ram_folder
from vectorstore import CollectionName, Filter, Payload, Point, VectorName, VectorStore
from vectorstore.edge import EdgeStore, EdgeTuning
from vectorstore.server import QdrantServerStore

TRACKS = CollectionName.TRACKS
TEXT, CF = VectorName.TEXT, VectorName.CF
DIMS = {TEXT: 32, CF: 16}
POINTS = 2_000
QUERIES = 15  # local mode filters in Python (~80 ms a query here)
FILTERS = [
    Filter(),
    Filter(year_min=1980, year_max=2005, explicit=False),
    Filter(genres_any=("g1", "g4"), popularity_min=30, exclude_artist_ids=("a3",)),
]


def seeded_points(seed: int = 11) -> list[Point]:
    rng = np.random.default_rng(seed)
    points = []
    for i in range(POINTS):
        vectors = {TEXT: rng.standard_normal(DIMS[TEXT]).astype(np.float32)}
        if i % 10:  # every tenth point has no cf vector
            vectors[CF] = rng.standard_normal(DIMS[CF]).astype(np.float32)
        payload = Payload(
            artist_id=f"a{rng.integers(50)}",
            genres=tuple(
                f"g{g}" for g in rng.choice(8, size=int(rng.integers(0, 3)), replace=False)
            ),
            year=None if i % 13 == 0 else int(rng.integers(1960, 2024)),
            explicit=[True, False, None][i % 3],
            popularity=int(rng.integers(0, 100)),
        )
        points.append(Point(f"spotify:track:{i:06d}", vectors, payload))
    return points


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[EdgeStore, VectorStore]]:
    tuning = EdgeTuning(
        hnsw_ef=256, ef_construct=64, indexing_threshold_kb=10, full_scan_threshold_kb=1
    )
    with ram_folder() as folder:
        edge = EdgeStore(folder, tuning=tuning)
        local = QdrantServerStore.local()
        points = seeded_points()
        for store in (edge, local):
            store.ensure_collection(TRACKS, dims=DIMS)
            store.upsert(TRACKS, points, batch_size=500)
            store.finish_bulk_load(TRACKS)
        yield edge, local
        edge.close()
        local.close()


def test_the_edge_shard_really_built_hnsw(pair: tuple[EdgeStore, VectorStore]) -> None:
    edge, local = pair
    assert edge.indexed_vectors(TRACKS) >= POINTS
    assert edge.count(TRACKS) == local.count(TRACKS) == POINTS


@pytest.mark.parametrize("where", FILTERS, ids=["none", "year+clean", "genre+pop+artist"])
@pytest.mark.parametrize("using", [TEXT, CF])
def test_top_10_agree(
    pair: tuple[EdgeStore, VectorStore], using: VectorName, where: Filter
) -> None:
    edge, local = pair
    rng = np.random.default_rng(5)
    overlaps = []
    for _ in range(QUERIES):
        query = rng.standard_normal(DIMS[using]).astype(np.float32)
        exact = [h.id for h in local.search(TRACKS, using=using, vector=query, n=10, where=where)]
        approx = [h.id for h in edge.search(TRACKS, using=using, vector=query, n=10, where=where)]
        assert len(exact) == 10
        overlaps.append(len(set(exact) & set(approx)) / 10)
    assert np.mean(overlaps) >= 0.95


def test_recommend_agrees(pair: tuple[EdgeStore, VectorStore]) -> None:
    edge, local = pair
    positive = ["spotify:track:000001", "spotify:track:000042", "spotify:track:000077"]
    negative = ["spotify:track:000005"]
    for where in FILTERS:
        want = local.recommend(TRACKS, using=CF, positive=positive, negative=negative, where=where)
        got = edge.recommend(TRACKS, using=CF, positive=positive, negative=negative, where=where)
        assert len(set(h.id for h in want) & set(h.id for h in got)) >= 9
        np.testing.assert_allclose(got[0].score, want[0].score, atol=1e-5)
