"""The embedded store searches without reading payloads: our ids come from what it knows.

``EdgeStore`` remembers our id for each Qdrant id it has written, read or searched, and reads
the id payload only for hits it does not know, in one read per search. These tests pin that
the answers stay exactly those of the payload route, from an empty memory, a full one, and
one cleared over and over by a tiny bound.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe

from tests.vectorstore.catalog import (
    BY_ID,
    CATALOG,
    DIMS,
    MIXED_QUERY,
    TRACKS,
    axis,
    expected_recommend,
    expected_search,
)
from vectorstore import Filter, Hit, Payload, Point, VectorName
from vectorstore._common import ID_KEY
from vectorstore.edge import EdgeStore, EdgeTuning

TEXT, CF = VectorName.TEXT, VectorName.CF
WHERE = Filter(explicit=False, exclude_ids=("jazz:2", "metal:1"))


class RecordingEngine:
    """The real engine, noting what each search asked for and which ids were read back."""

    def __init__(self, engine: qe.EdgeShard) -> None:
        self._engine = engine
        self.asked_payload: list[object] = []
        self.id_reads: list[int] = []  # how many ids each payload read asked for

    def query(self, request: qe.QueryRequest) -> list[qe.ScoredPoint]:
        self.asked_payload.append(request.with_payload)
        return self._engine.query(request)

    def retrieve(
        self, point_ids: list[qe.PointId], with_payload: Any = None, with_vector: Any = None
    ) -> list[qe.Record]:
        if with_payload:
            self.id_reads.append(len(point_ids))
        return self._engine.retrieve(point_ids, with_payload, with_vector)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def recording(store: EdgeStore) -> RecordingEngine:
    shared = store._get(TRACKS)
    spy = RecordingEngine(shared.engine)
    shared.engine = spy  # type: ignore[assignment]
    return spy


def loaded(root: Path, **tuning: Any) -> EdgeStore:
    store = EdgeStore(root, tuning=EdgeTuning(**tuning))
    store.ensure_collection(TRACKS, dims=DIMS)
    store.upsert(TRACKS, CATALOG)
    return store


def payload_route(store: EdgeStore, query: Sequence[float], n: int) -> list[Hit]:
    """The answer as the store gave it before: our id read from each hit's payload."""
    request = qe.QueryRequest(
        limit=n,
        query=qe.Query.Nearest([float(x) for x in query], using=TEXT.value),
        params=qe.SearchParams(hnsw_ef=max(128, n)),
        with_payload=[ID_KEY],
        with_vector=False,
    )
    scored = store._get(TRACKS).engine.query(request)
    return [Hit(str((p.payload or {})[ID_KEY]), float(p.score)) for p in scored]


def assert_matches_reference(got: list[Hit], want: list[Hit]) -> None:
    assert [h.id for h in got] == [h.id for h in want]
    np.testing.assert_allclose([h.score for h in got], [h.score for h in want], atol=1e-5)


def test_a_store_that_knows_no_ids_reads_them_once_and_answers_the_same(
    shard_root: Path,
) -> None:
    writer = loaded(shard_root)  # knows every id: it wrote them
    reader = EdgeStore(shard_root)  # shares the open shard, knows none
    try:
        spy = recording(reader)
        wrote = writer.search(TRACKS, using=TEXT, vector=MIXED_QUERY, n=24)
        cold = reader.search(TRACKS, using=TEXT, vector=MIXED_QUERY, n=24)
        assert spy.id_reads == [24]  # every hit unknown, read in one go
        warm = reader.search(TRACKS, using=TEXT, vector=MIXED_QUERY, n=24)
        assert spy.id_reads == [24]  # and remembered
        assert spy.asked_payload == [False, False, False]

        assert cold == warm == wrote == payload_route(reader, MIXED_QUERY, 24)
        assert_matches_reference(cold, expected_search(MIXED_QUERY, TEXT, n=24))
        filtered = reader.search(TRACKS, using=TEXT, vector=MIXED_QUERY, n=24, where=WHERE)
        assert_matches_reference(filtered, expected_search(MIXED_QUERY, TEXT, where=WHERE))
        assert spy.id_reads == [24]
    finally:
        reader.close()
        writer.close()


def test_recommend_reads_no_payload_for_ids_it_has_seen(shard_root: Path) -> None:
    loaded(shard_root).close()
    store = EdgeStore(shard_root)  # reopened: knows no id
    try:
        spy = recording(store)
        cold = store.recommend(TRACKS, using=CF, positive=["jazz:1"], negative=["pop:2"], n=8)
        warm = store.recommend(TRACKS, using=CF, positive=["jazz:1"], negative=["pop:2"], n=8)
        assert cold == warm
        assert_matches_reference(cold, expected_recommend(CF, ["jazz:1"], ["pop:2"], n=8))
        assert spy.id_reads == [8]
        assert spy.asked_payload == [False, False]
    finally:
        store.close()


def test_answers_stay_right_when_the_memory_is_cleared_mid_search(shard_root: Path) -> None:
    store = loaded(shard_root, known_ids=5)  # cleared several times by every 24-hit search
    try:
        want = expected_search(MIXED_QUERY, TEXT, n=24)
        for _ in range(3):
            assert_matches_reference(
                store.search(TRACKS, using=TEXT, vector=MIXED_QUERY, n=24), want
            )
            assert len(store._known[TRACKS]) <= 5
        store._known[TRACKS].clear()
        assert_matches_reference(store.search(TRACKS, using=TEXT, vector=MIXED_QUERY, n=24), want)
    finally:
        store.close()


def test_threads_searching_at_once_all_get_the_right_answer(shard_root: Path) -> None:
    store = loaded(shard_root, known_ids=7)
    queries = [MIXED_QUERY, *(axis(i) for i in range(4))]
    wants = [[h.id for h in expected_search(q, TEXT, n=20)] for q in queries]
    wrong: list[object] = []

    def search_many(offset: int) -> None:
        try:
            for i in range(60):
                k = (i + offset) % len(queries)
                got = [h.id for h in store.search(TRACKS, using=TEXT, vector=queries[k], n=20)]
                if got != wants[k]:
                    wrong.append((k, got))
        except BaseException as exc:  # collected so the main thread can fail the test
            wrong.append(exc)

    threads = [threading.Thread(target=search_many, args=(t,)) for t in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        store.close()
    assert wrong == []


def test_deleted_and_re_upserted_points_answer_right(shard_root: Path) -> None:
    store = loaded(shard_root)
    try:
        query = BY_ID["jazz:1"].vectors[TEXT]
        store.delete(TRACKS, ["jazz:1"])
        hits = store.search(TRACKS, using=TEXT, vector=query, n=3)
        assert "jazz:1" not in {h.id for h in hits}
        assert hits[0].id == "jazz:2"

        store.upsert(TRACKS, [Point("jazz:1", {TEXT: axis(5)}, Payload())])  # moved elsewhere
        assert store.search(TRACKS, using=TEXT, vector=axis(5), n=1)[0].id == "jazz:1"
        assert store.search(TRACKS, using=TEXT, vector=query, n=1)[0].id == "jazz:2"
    finally:
        store.close()
