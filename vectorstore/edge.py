"""The embedded backend: the Qdrant engine in-process through qdrant-edge, one shard per collection.

Layout under the data folder: ``<root>/<collection>/`` is the shard, ``<root>/<collection>.lock``
keeps other processes out. A shard folder may be opened only once per process, so open shards
come from a process-wide registry (``_shards``) and every ``EdgeStore`` on the same folder
shares them.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import qdrant_edge as qe

from vectorstore._common import (
    DEFAULT_HNSW_EF,
    HNSW_EF_CONSTRUCT,
    HNSW_M,
    ID_KEY,
    PAYLOAD_INDEXES,
    AnyOf,
    Between,
    FilterPlan,
    IndexKind,
    average_vector,
    batched,
    check_batch_size,
    check_collection,
    check_dims,
    check_filter,
    check_ids,
    check_n,
    check_point,
    check_using,
    check_vector,
    dims_text,
    plan_filter,
    point_uuid,
    stored_payload,
)
from vectorstore._shards import NewShard, OpenShard, acquire, engine_errors, release
from vectorstore.base import (
    NO_FILTER,
    CollectionInfo,
    CollectionName,
    Filter,
    Hit,
    Point,
    Vector,
    VectorName,
    VectorStoreError,
)

if TYPE_CHECKING:
    from qdrant_edge import ConditionType, NamedVector


@dataclass(frozen=True, slots=True)
class EdgeTuning:
    """Index and search settings. The HNSW ones apply when a shard is created."""

    hnsw_ef: int = DEFAULT_HNSW_EF
    m: int = HNSW_M
    ef_construct: int = HNSW_EF_CONSTRUCT
    # Segments smaller than this (KB of vectors) are searched exactly, as in Qdrant.
    full_scan_threshold_kb: int = 10_000
    # Segments larger than this get an HNSW graph on finish_bulk_load; None: engine default.
    indexing_threshold_kb: int | None = None
    # Extra HNSW links per value of the indexed payload fields (Qdrant's filterable HNSW):
    # better recall under selective filters, at a multiple of the build time.
    payload_hnsw: bool = True
    # Exact (brute-force) search everywhere: the ground truth for recall measurements.
    exact: bool = False
    # How many Qdrant ids each collection remembers our ids for (``_KnownIds``), about
    # 170 bytes each: 2**17 is some 22 MB per collection, and holds the demo's 42k tracks whole.
    known_ids: int = 1 << 17

    def __post_init__(self) -> None:
        if self.known_ids < 1:
            raise ValueError(f"known_ids must be at least 1, got {self.known_ids}")


def _new_shard(dims: Mapping[VectorName, int], tuning: EdgeTuning) -> NewShard:
    config = qe.EdgeConfig(
        vectors={
            name.value: qe.EdgeVectorParams(size=size, distance=qe.Distance.Cosine)
            for name, size in dims.items()
        },
        hnsw_config=qe.HnswIndexConfig(
            m=tuning.m,
            ef_construct=tuning.ef_construct,
            full_scan_threshold=tuning.full_scan_threshold_kb,
        ),
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=tuning.indexing_threshold_kb),
    )
    links = tuning.payload_hnsw
    schemas: dict[IndexKind, qe.PayloadSchemaParams] = {
        IndexKind.KEYWORD: qe.KeywordIndexParams(enable_hnsw=links),
        IndexKind.INTEGER: qe.IntegerIndexParams(lookup=True, range=True, enable_hnsw=links),
        IndexKind.BOOL: qe.BoolIndexParams(enable_hnsw=links),
    }
    indexes = {field_name: schemas[kind] for field_name, kind in PAYLOAD_INDEXES.items()}
    return NewShard(dims=dict(dims), config=config, indexes=indexes)


def _condition(condition: AnyOf | Between) -> ConditionType:
    if isinstance(condition, Between):
        return qe.FieldCondition(
            condition.key,
            range=qe.RangeFloat(
                gte=None if condition.gte is None else float(condition.gte),
                lte=None if condition.lte is None else float(condition.lte),
            ),
        )
    values = condition.values
    if values == (True,):
        # qdrant-edge 0.9.0 reads a Python bool as the integer 1, which never matches a JSON
        # bool; numpy's bool is extracted as a real bool (tests/vectorstore cover it).
        return qe.FieldCondition(condition.key, match=qe.MatchValue(np.True_))  # type: ignore[arg-type]
    if len(values) == 1:
        return qe.FieldCondition(condition.key, match=qe.MatchValue(values[0]))
    return qe.FieldCondition(condition.key, match=qe.MatchAny([str(v) for v in values]))


@functools.lru_cache(maxsize=256)
def _edge_filter(plan: FilterPlan | None) -> qe.Filter | None:
    # Memoised: one compose searches several times with the same limits, and the next batch
    # of a station leaves out nearly the same tracks; building the id set is the cost.
    if plan is None:
        return None
    must = [_condition(c) for c in plan.must]
    must_not = [_condition(c) for c in plan.must_not]
    if plan.exclude_uuids:
        must_not.append(_excluding(plan.exclude_uuids))
    return qe.Filter(must=must or None, must_not=must_not or None)


@functools.lru_cache(maxsize=64)
def _excluding(uuids: tuple[str, ...]) -> qe.HasIdCondition:
    # Memoised apart from the rest of the filter: a station's mood and genre searches leave
    # out the same tracks under different limits, and this part is nearly all the cost.
    return qe.HasIdCondition({_uuid_object(u) for u in uuids})


@functools.lru_cache(maxsize=1 << 18)
def _uuid_object(point_uuid: str) -> uuid.UUID:
    """A Qdrant id as a ``uuid.UUID``: qdrant-edge (0.9) turns a set of these into a filter in
    half the time it takes for the same ids as strings, 2.2 against 4 us each (a station that
    played 500 tracks built a 2 ms filter per search; benchmarks/probe_edge_ids.py)."""
    return uuid.UUID(point_uuid)


def _uuid_key(point_id: qe.PointId) -> int:
    """A Qdrant id as the 128-bit int of its UUID: the engine hands back ``uuid.UUID``
    objects, whose ``.int`` is a plain attribute, where ``str()`` of one takes a microsecond."""
    if isinstance(point_id, uuid.UUID):
        return point_id.int
    return uuid.UUID(str(point_id)).int


class _KnownIds:
    """Our ids by Qdrant id (``_uuid_key``), so that searches need not read payloads: reading
    the id payload made a 200-result search on 42k tracks cost 0.86 ms instead of 0.29.

    Only a cache: ids map 1:1 to uuids (uuid5), so an entry is right or belongs to a point
    that is gone, which the engine never returns. Cleared whole when full, after which
    misses cost one payload read per search until it fills again. Safe to share between
    threads without a lock: only ``get``, item assignment and ``clear`` on a dict keyed by
    ints, each atomic under the GIL, and nothing iterates it.
    """

    def __init__(self, bound: int) -> None:
        self._bound = bound
        self._ids: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, key: int) -> str | None:
        return self._ids.get(key)

    def learn(self, key: int, point_id: str) -> None:
        if len(self._ids) >= self._bound:
            self._ids.clear()
        self._ids[key] = point_id

    def clear(self) -> None:
        self._ids.clear()


class EdgeStore:
    """``VectorStore`` on qdrant-edge shards under ``root``."""

    def __init__(self, root: Path, *, tuning: EdgeTuning | None = None) -> None:
        self._root = root.expanduser().resolve()
        self._tuning = tuning or EdgeTuning()
        self._shards: dict[CollectionName, OpenShard] = {}
        # One per collection up front, so no thread ever adds one while another reads.
        self._known = {name: _KnownIds(self._tuning.known_ids) for name in CollectionName}
        self._lock = threading.Lock()
        self._closed = False

    @property
    def root(self) -> Path:
        return self._root

    def __repr__(self) -> str:
        return f"EdgeStore({str(self._root)!r})"

    # -- collections -----------------------------------------------------------------------

    def _path(self, name: CollectionName) -> Path:
        return self._root / name.value

    def _find(self, name: CollectionName) -> OpenShard | None:
        with self._lock:
            if self._closed:
                raise VectorStoreError(f"{self!r} is closed")
            shared = self._shards.get(name)
            if shared is None:
                shared = acquire(self._path(name))
                if shared is not None:
                    self._shards[name] = shared
            return shared

    def _get(self, name: CollectionName) -> OpenShard:
        shared = self._find(name)
        if shared is None:
            raise ValueError(
                f"collection {name.value!r} does not exist in {self._root} "
                "(ensure_collection creates it; `wavelength train` fills it)"
            )
        return shared

    def ensure_collection(self, name: CollectionName, *, dims: Mapping[VectorName, int]) -> None:
        name = check_collection(name)
        wanted = check_dims(dims)
        with self._lock:
            if self._closed:
                raise VectorStoreError(f"{self!r} is closed")
            shared = self._shards.get(name)
            if shared is None:
                shared = acquire(self._path(name), create=_new_shard(wanted, self._tuning))
                if shared is None:  # only if the folder vanished while we created it
                    raise VectorStoreError(f"could not create {self._path(name)}")
                self._shards[name] = shared
        if shared.dims != wanted:
            raise ValueError(
                f"collection {name.value!r} in {shared.path} has dims {dims_text(shared.dims)}, "
                f"not {dims_text(wanted)}; delete that folder to rebuild it with new dimensions"
            )

    def info(self, name: CollectionName) -> CollectionInfo | None:
        name = check_collection(name)
        shared = self._find(name)
        if shared is None:
            return None
        return CollectionInfo(name=name, points=self._count(shared), dims=dict(shared.dims))

    def count(self, name: CollectionName) -> int:
        return self._count(self._get(check_collection(name)))

    def _count(self, shared: OpenShard) -> int:
        with engine_errors(shared.path, "count points"):
            return shared.engine.count(qe.CountRequest(exact=True))

    def indexed_vectors(self, name: CollectionName) -> int:
        """How many vectors sit in HNSW graphs (0 until finish_bulk_load on a big enough shard)."""
        shared = self._get(check_collection(name))
        with engine_errors(shared.path, "read shard info"):
            return shared.engine.info().indexed_vectors_count

    # -- writes ----------------------------------------------------------------------------

    def upsert(
        self, name: CollectionName, points: Iterable[Point], *, batch_size: int = 1024
    ) -> int:
        name = check_collection(name)
        check_batch_size(batch_size)
        shared, known = self._get(name), self._known[name]
        written = 0
        for batch in batched(points, batch_size):
            edge_points = []
            for point in batch:
                check_point(point, collection=name, dims=shared.dims)
                vectors: dict[str, NamedVector] = {
                    VectorName(v).value: np.asarray(vector, dtype=np.float32).tolist()
                    for v, vector in point.vectors.items()
                }
                edge_points.append(qe.Point(point_uuid(point.id), vectors, stored_payload(point)))
            with engine_errors(shared.path, "upsert points"):
                shared.engine.update(qe.UpdateOperation.upsert_points(edge_points))
            for point in batch:  # only once written: a failed batch teaches nothing
                known.learn(_uuid_key(point_uuid(point.id)), point.id)
            written += len(edge_points)
        return written

    def finish_bulk_load(self, name: CollectionName) -> None:
        # qdrant-edge has no background optimizer: nothing is indexed while points stream in,
        # and optimize() merges segments and builds HNSW where they pass the threshold.
        shared = self._get(check_collection(name))
        with engine_errors(shared.path, "build the index"):
            shared.engine.optimize()
            shared.engine.flush()

    def delete(self, name: CollectionName, ids: Sequence[str]) -> None:
        name = check_collection(name)
        check_ids(ids)
        shared = self._get(name)
        if not ids:
            return
        with engine_errors(shared.path, "delete points"):
            uuids: list[qe.PointId] = [point_uuid(i) for i in ids]
            shared.engine.update(qe.UpdateOperation.delete_points(uuids))

    # -- reads -----------------------------------------------------------------------------

    def search(
        self,
        name: CollectionName,
        *,
        using: VectorName,
        vector: Vector,
        n: int = 10,
        where: Filter = NO_FILTER,
    ) -> list[Hit]:
        name, using = check_collection(name), check_using(using)
        check_n(n)
        check_filter(where)
        shared = self._get(name)
        query = check_vector(vector, collection=name, using=using, dims=shared.dims)
        return self._nearest(shared, self._known[name], using, query, n, plan_filter(where))

    def recommend(
        self,
        name: CollectionName,
        *,
        using: VectorName,
        positive: Sequence[str],
        negative: Sequence[str] = (),
        n: int = 10,
        where: Filter = NO_FILTER,
    ) -> list[Hit]:
        name, using = check_collection(name), check_using(using)
        check_n(n)
        check_filter(where)
        check_ids(positive, what="positive examples")
        check_ids(negative, what="negative examples")
        if not positive:
            raise ValueError("recommend needs at least one positive example")
        shared = self._get(name)
        if using not in shared.dims:
            raise ValueError(f"collection {name.value!r} has no {using.value!r} vectors")
        # qdrant-edge offers best_score and sum_scores only; average_vector is one plain
        # nearest search with the averaged query, exactly as the server computes it.
        found = self._vectors(shared, self._known[name], [*positive, *negative], using)
        pos = [found[i] for i in positive if i in found]
        neg = [found[i] for i in negative if i in found]
        if not pos:
            return []
        query = average_vector(pos, neg)
        if not query.any():
            return []
        plan = plan_filter(where, also_exclude=[*positive, *negative])
        return self._nearest(shared, self._known[name], using, query, n, plan)

    def _nearest(
        self,
        shared: OpenShard,
        known: _KnownIds,
        using: VectorName,
        query: Vector,
        n: int,
        plan: FilterPlan | None,
    ) -> list[Hit]:
        request = qe.QueryRequest(
            limit=n,
            query=qe.Query.Nearest(query.tolist(), using=using.value),
            filter=_edge_filter(plan),
            params=qe.SearchParams(hnsw_ef=max(self._tuning.hnsw_ef, n), exact=self._tuning.exact),
            with_payload=False,  # our ids come from ``known``, or one read below for the rest
            with_vector=False,
        )
        with engine_errors(shared.path, "search"):
            scored = shared.engine.query(request)
        keys = [_uuid_key(p.id) for p in scored]
        ids = [known.get(key) for key in keys]
        missing = [p.id for p, found in zip(scored, ids, strict=True) if found is None]
        if missing:
            read = self._read_ids(shared, known, missing)
            ids = [found or read.get(key) for key, found in zip(keys, ids, strict=True)]
        # None only for a point deleted between the search and the read: it is gone, so
        # it is left out rather than answered without its id.
        return [
            Hit(id=found, score=float(p.score))
            for p, found in zip(scored, ids, strict=True)
            if found is not None
        ]

    def _read_ids(
        self, shared: OpenShard, known: _KnownIds, point_ids: list[qe.PointId]
    ) -> dict[int, str]:
        """Our ids of ``point_ids`` from their payloads, in one read, and remembered."""
        with engine_errors(shared.path, "read point ids"):
            records = shared.engine.retrieve(point_ids, with_payload=[ID_KEY], with_vector=False)
        read: dict[int, str] = {}
        for record in records:
            key, point_id = _uuid_key(record.id), str((record.payload or {})[ID_KEY])
            read[key] = point_id
            known.learn(key, point_id)
        return read

    def vectors(
        self, name: CollectionName, ids: Sequence[str], *, using: VectorName
    ) -> dict[str, Vector]:
        name, using = check_collection(name), check_using(using)
        check_ids(ids)
        shared = self._get(name)
        if using not in shared.dims:
            raise ValueError(f"collection {name.value!r} has no {using.value!r} vectors")
        return self._vectors(shared, self._known[name], ids, using)

    def _vectors(
        self, shared: OpenShard, known: _KnownIds, ids: Sequence[str], using: VectorName
    ) -> dict[str, Vector]:
        if not ids:
            return {}
        by_uuid = {point_uuid(i): i for i in ids}
        with engine_errors(shared.path, "retrieve vectors"):
            uuids: list[qe.PointId] = list(by_uuid)
            records = shared.engine.retrieve(uuids, with_payload=False, with_vector=[using.value])
        out: dict[str, Vector] = {}
        for record in records:
            point_id = by_uuid[str(record.id)]
            known.learn(_uuid_key(record.id), point_id)  # the point exists: cheap to remember
            named = record.vector
            if isinstance(named, dict) and using.value in named:
                out[point_id] = np.asarray(named[using.value], dtype=np.float32)
        return out

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            shards, self._shards = list(self._shards.values()), {}
        for shared in shards:
            release(shared)
