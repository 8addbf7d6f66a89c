"""The server backend: a Qdrant server through qdrant-client (or its local mode, for tests).

Collections are named ``<prefix><collection>`` so Wavelength can share a server. New collections
start with HNSW building switched off (m=0), Qdrant's advice for bulk uploads, and
``finish_bulk_load`` switches it on and waits for the index.

A store opened with a ``generation`` addresses that generation's physical collections
(``<prefix><collection>_g<n>``, built by a model refresh); without one it addresses
``<prefix><collection>``: the alias that names the live generation, or on a deployment no
refresh has touched yet, the real collection (``vectorstore.server_generations``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from vectorstore._common import (
    DEFAULT_HNSW_EF,
    HNSW_EF_CONSTRUCT,
    HNSW_M,
    ID_KEY,
    PAYLOAD_INDEXES,
    VECTOR_NAMES,
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

DEFAULT_PREFIX = "wavelength_"
_SCHEMA = {
    IndexKind.KEYWORD: models.PayloadSchemaType.KEYWORD,
    IndexKind.INTEGER: models.PayloadSchemaType.INTEGER,
    IndexKind.BOOL: models.PayloadSchemaType.BOOL,
}


def _condition(condition: AnyOf | Between) -> models.FieldCondition:
    if isinstance(condition, Between):
        return models.FieldCondition(
            key=condition.key, range=models.Range(gte=condition.gte, lte=condition.lte)
        )
    if len(condition.values) == 1:
        return models.FieldCondition(
            key=condition.key, match=models.MatchValue(value=condition.values[0])
        )
    return models.FieldCondition(
        key=condition.key, match=models.MatchAny(any=[str(v) for v in condition.values])
    )


def _server_filter(plan: FilterPlan | None) -> models.Filter | None:
    if plan is None:
        return None
    must: list[models.Condition] = [_condition(c) for c in plan.must]
    must_not: list[models.Condition] = [_condition(c) for c in plan.must_not]
    if plan.exclude_uuids:
        must_not.append(models.HasIdCondition(has_id=list(plan.exclude_uuids)))
    return models.Filter(must=must or None, must_not=must_not or None)


class QdrantServerStore:
    """``VectorStore`` on a Qdrant server, or on qdrant-client's local mode (exact search)."""

    def __init__(
        self,
        client: QdrantClient,
        *,
        prefix: str = DEFAULT_PREFIX,
        hnsw_ef: int = DEFAULT_HNSW_EF,
        index_wait_s: float = 600.0,
        generation: int | None = None,
        owns_client: bool = True,
    ) -> None:
        if generation is not None and generation < 1:
            raise ValueError(f"a built generation is numbered from 1, got {generation}")
        self._client = client
        self._prefix = prefix
        self._suffix = "" if generation is None else generation_suffix(generation)
        self._owns_client = owns_client  # False when a ServerGenerations shares its client
        self._hnsw_ef = hnsw_ef
        self._index_wait_s = index_wait_s
        options = client.init_options
        self._local = options.get("location") == ":memory:" or options.get("path") is not None
        self._where = str(options.get("url") or options.get("path") or ":memory:")
        self._dims: dict[CollectionName, dict[VectorName, int]] = {}

    @classmethod
    def connect(
        cls, url: str, *, api_key: str | None = None, timeout: int = 10
    ) -> QdrantServerStore:
        """Connect and check the server answers, so a wrong URL fails now with one line."""
        try:
            client = QdrantClient(
                url=url, api_key=api_key, timeout=timeout, check_compatibility=False
            )
        except ValueError as exc:
            raise VectorStoreError(
                f"QDRANT_URL {url!r} is not a usable Qdrant URL ({exc}); "
                "expected something like http://localhost:6333"
            ) from None
        store = cls(client)
        with store._errors("list collections"):
            client.get_collections()
        return store

    @classmethod
    def local(cls, path: Path | None = None) -> QdrantServerStore:
        """qdrant-client's local mode: in memory, or persisted in ``path``."""
        client = QdrantClient(location=":memory:") if path is None else QdrantClient(path=str(path))
        return cls(client)

    def __repr__(self) -> str:
        return f"QdrantServerStore({self._where!r})"

    @property
    def client(self) -> QdrantClient:
        return self._client

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def where(self) -> str:
        return self._where

    def errors(self, doing: str) -> contextlib.AbstractContextManager[None]:
        """What ``_errors`` does, for the generations that share this store's client."""
        return self._errors(doing)

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Transport and HTTP failures become one line saying where and what to do."""
        try:
            yield
        except UnexpectedResponse as exc:
            if exc.status_code in (401, 403):
                raise VectorStoreError(
                    f"Qdrant at {self._where} refused the API key (HTTP {exc.status_code}) "
                    f"while trying to {doing}; check QDRANT_API_KEY"
                ) from None
            detail = exc.content.decode("utf-8", "replace")[:200]
            raise VectorStoreError(
                f"Qdrant at {self._where} answered HTTP {exc.status_code} while trying to "
                f"{doing}: {detail}"
            ) from None
        except (ResponseHandlingException, httpx.HTTPError, OSError) as exc:
            reason = exc.source if isinstance(exc, ResponseHandlingException) else exc
            raise VectorStoreError(
                f"cannot reach Qdrant at {self._where} ({reason or type(reason).__name__}); "
                "start the server or fix QDRANT_URL, or unset QDRANT_URL to use the embedded "
                "store in the data folder"
            ) from None

    # -- collections -----------------------------------------------------------------------

    def _name(self, name: CollectionName) -> str:
        return f"{self._prefix}{name.value}{self._suffix}"

    def _find_dims(self, name: CollectionName) -> dict[VectorName, int] | None:
        cached = self._dims.get(name)
        if cached is not None:
            return cached
        with self._errors(f"read collection {self._name(name)}"):
            if not self._client.collection_exists(self._name(name)):
                return None
            params = self._client.get_collection(self._name(name)).config.params.vectors
        dims: dict[VectorName, int] = {}
        if isinstance(params, Mapping):
            for key, vector_params in params.items():
                if key in VECTOR_NAMES:
                    dims[VectorName(key)] = vector_params.size
        self._dims[name] = dims
        return dims

    def _get_dims(self, name: CollectionName) -> dict[VectorName, int]:
        dims = self._find_dims(name)
        if dims is None:
            raise ValueError(
                f"collection {name.value!r} does not exist on {self._where} as "
                f"{self._name(name)!r} (ensure_collection creates it; `wavelength train` fills it)"
            )
        return dims

    def ensure_collection(self, name: CollectionName, *, dims: Mapping[VectorName, int]) -> None:
        name = check_collection(name)
        wanted = check_dims(dims)
        existing = self._find_dims(name)
        if existing is not None:
            if existing != wanted:
                raise ValueError(
                    f"collection {self._name(name)!r} on {self._where} has dims "
                    f"{dims_text(existing)}, not {dims_text(wanted)}; delete it to rebuild "
                    "it with new dimensions"
                )
            return
        with self._errors(f"create collection {self._name(name)}"):
            self._client.create_collection(
                self._name(name),
                vectors_config={
                    v.value: models.VectorParams(size=size, distance=models.Distance.COSINE)
                    for v, size in wanted.items()
                },
                # m=0: no HNSW while bulk loading; finish_bulk_load sets m and builds it.
                hnsw_config=models.HnswConfigDiff(m=0, ef_construct=HNSW_EF_CONSTRUCT),
            )
            if not self._local:  # local mode has no payload indexes (and warns about them)
                for field_name, kind in PAYLOAD_INDEXES.items():
                    self._client.create_payload_index(
                        self._name(name), field_name, field_schema=_SCHEMA[kind], wait=True
                    )
        self._dims[name] = wanted

    def info(self, name: CollectionName) -> CollectionInfo | None:
        name = check_collection(name)
        dims = self._find_dims(name)
        if dims is None:
            return None
        return CollectionInfo(name=name, points=self._count(name), dims=dict(dims))

    def count(self, name: CollectionName) -> int:
        name = check_collection(name)
        self._get_dims(name)
        return self._count(name)

    def _count(self, name: CollectionName) -> int:
        with self._errors(f"count points in {self._name(name)}"):
            return self._client.count(self._name(name), exact=True).count

    # -- writes ----------------------------------------------------------------------------

    def upsert(
        self, name: CollectionName, points: Iterable[Point], *, batch_size: int = 1024
    ) -> int:
        name = check_collection(name)
        check_batch_size(batch_size)
        dims = self._get_dims(name)
        written = 0
        for batch in batched(points, batch_size):
            structs = []
            for point in batch:
                check_point(point, collection=name, dims=dims)
                vectors: dict[str, models.Vector] = {
                    VectorName(v).value: np.asarray(vector, dtype=np.float32).tolist()
                    for v, vector in point.vectors.items()
                }
                structs.append(
                    models.PointStruct(
                        id=point_uuid(point.id), vector=vectors, payload=stored_payload(point)
                    )
                )
            with self._errors(f"upsert points into {self._name(name)}"):
                self._client.upsert(self._name(name), points=structs, wait=True)
            written += len(structs)
        return written

    def finish_bulk_load(self, name: CollectionName) -> None:
        name = check_collection(name)
        self._get_dims(name)
        if self._local:  # local mode searches exactly; there is nothing to build
            return
        with self._errors(f"build the index of {self._name(name)}"):
            self._client.update_collection(
                self._name(name), hnsw_config=models.HnswConfigDiff(m=HNSW_M)
            )
            deadline = time.monotonic() + self._index_wait_s
            while time.monotonic() < deadline:
                status = self._client.get_collection(self._name(name)).status
                if status == models.CollectionStatus.GREEN:
                    return
                time.sleep(0.5)

    def delete(self, name: CollectionName, ids: Sequence[str]) -> None:
        name = check_collection(name)
        check_ids(ids)
        self._get_dims(name)
        if not ids:
            return
        with self._errors(f"delete points from {self._name(name)}"):
            self._client.delete(
                self._name(name),
                points_selector=models.PointIdsList(points=[point_uuid(i) for i in ids]),
                wait=True,
            )

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
        query = check_vector(vector, collection=name, using=using, dims=self._get_dims(name))
        return self._query(name, using, query.tolist(), n, plan_filter(where))

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
        if using not in self._get_dims(name):
            raise ValueError(f"collection {name.value!r} has no {using.value!r} vectors")
        # Qdrant refuses examples that are missing or lack the vector; leave those out.
        found = self._vectors(name, [*positive, *negative], using)
        pos = [point_uuid(i) for i in dict.fromkeys(positive) if i in found]
        neg = [point_uuid(i) for i in dict.fromkeys(negative) if i in found]
        if not pos:
            return []
        averaged = average_vector(
            [found[i] for i in positive if i in found], [found[i] for i in negative if i in found]
        )
        if not averaged.any():
            return []  # nothing is near the zero vector
        query = models.RecommendQuery(
            recommend=models.RecommendInput(
                positive=list(pos),
                negative=list(neg) or None,
                strategy=models.RecommendStrategy.AVERAGE_VECTOR,
            )
        )
        plan = plan_filter(where, also_exclude=[*positive, *negative])
        return self._query(name, using, query, n, plan)

    def _query(
        self,
        name: CollectionName,
        using: VectorName,
        query: list[float] | models.RecommendQuery,
        n: int,
        plan: FilterPlan | None,
    ) -> list[Hit]:
        # Local mode is exact and warns about search params, so they go to servers only.
        params = None if self._local else models.SearchParams(hnsw_ef=max(self._hnsw_ef, n))
        with self._errors(f"search {self._name(name)}"):
            response = self._client.query_points(
                self._name(name),
                query=query,
                using=using.value,
                query_filter=_server_filter(plan),
                search_params=params,
                limit=n,
                with_payload=[ID_KEY],
                with_vectors=False,
            )
        return [
            Hit(id=str((p.payload or {})[ID_KEY]), score=float(p.score)) for p in response.points
        ]

    def vectors(
        self, name: CollectionName, ids: Sequence[str], *, using: VectorName
    ) -> dict[str, Vector]:
        name, using = check_collection(name), check_using(using)
        check_ids(ids)
        if using not in self._get_dims(name):
            raise ValueError(f"collection {name.value!r} has no {using.value!r} vectors")
        return self._vectors(name, ids, using)

    def _vectors(
        self, name: CollectionName, ids: Sequence[str], using: VectorName
    ) -> dict[str, Vector]:
        if not ids:
            return {}
        by_uuid = {point_uuid(i): i for i in ids}
        with self._errors(f"retrieve vectors from {self._name(name)}"):
            records = self._client.retrieve(
                self._name(name), ids=list(by_uuid), with_payload=False, with_vectors=[using.value]
            )
        out: dict[str, Vector] = {}
        for record in records:
            named = record.vector
            if isinstance(named, dict) and using.value in named:
                out[by_uuid[str(record.id)]] = np.asarray(named[using.value], dtype=np.float32)
        return out

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def generation_suffix(generation: int) -> str:
    """What a generation's physical collection names end with."""
    return f"_g{generation}"
