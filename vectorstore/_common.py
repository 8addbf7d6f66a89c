"""What both backends share: id mapping, payload layout, argument checks and filter meaning.

Filters are planned here once, as backend-neutral conditions, so the edge and server backends
only translate syntax and cannot drift apart in what a ``Filter`` means.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import numpy as np

from vectorstore.base import (
    CollectionName,
    Filter,
    Point,
    Vector,
    VectorName,
    payload_dict,
)

# Fixed forever: changing it would orphan every stored point.
POINT_NAMESPACE = uuid.UUID("3b0f6d0e-7c4a-5b8e-9a51-2f1c9d4e7a60")
ID_KEY = "id"  # payload key holding our own string id

VECTOR_NAMES = frozenset(v.value for v in VectorName)

_T = TypeVar("_T")


class IndexKind(Enum):
    KEYWORD = "keyword"
    INTEGER = "integer"
    BOOL = "bool"


PAYLOAD_INDEXES: Mapping[str, IndexKind] = {
    "artist_id": IndexKind.KEYWORD,
    "genres": IndexKind.KEYWORD,
    "year": IndexKind.INTEGER,
    "explicit": IndexKind.BOOL,
    "popularity": IndexKind.INTEGER,
    "cf_borrowed": IndexKind.BOOL,
}

# HNSW graph parameters shared by both backends (Qdrant's defaults, written down so they stay).
HNSW_M = 16
HNSW_EF_CONSTRUCT = 100
# Search-time ef; chosen with benchmarks/bench_vectors.py (recall@10 against exact search).
DEFAULT_HNSW_EF = 128


@functools.lru_cache(maxsize=1 << 18)
def point_uuid(point_id: str) -> str:
    """The Qdrant id of one of our string ids (stable across runs and machines). Memoised: a
    station's searches leave out every track it played, and hashing 500 of those ids took
    4 ms of each search's 8 ms (benchmarks/load_api.py profile, 2026-11-27); 2**18 entries
    are about 50 MB at most."""
    return str(uuid.uuid5(POINT_NAMESPACE, point_id))


def stored_payload(point: Point) -> dict[str, Any]:
    return {ID_KEY: point.id, **payload_dict(point.payload)}


# -- argument checks -------------------------------------------------------------------------


def check_collection(name: object) -> CollectionName:
    try:
        return CollectionName(str(name))
    except ValueError:
        known = ", ".join(c.value for c in CollectionName)
        raise ValueError(f"unknown collection {name!r}; expected one of: {known}") from None


def check_using(using: object) -> VectorName:
    try:
        return VectorName(str(using))
    except ValueError:
        known = ", ".join(v.value for v in VectorName)
        raise ValueError(f"unknown vector name {using!r}; expected one of: {known}") from None


def check_dims(dims: Mapping[VectorName, int]) -> dict[VectorName, int]:
    if not dims:
        raise ValueError("a collection needs at least one vector: dims is empty")
    checked: dict[VectorName, int] = {}
    for name, size in dims.items():
        vector = check_using(name)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"dimension of {vector.value!r} must be a positive int, got {size!r}")
        checked[vector] = size
    return checked


def check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")


def check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")


def check_vector(
    vector: object,
    *,
    collection: CollectionName,
    using: VectorName,
    dims: Mapping[VectorName, int],
    what: str = "query vector",
) -> Vector:
    """A finite, non-zero float32 vector of the collection's dimension for ``using``."""
    if using not in dims:
        have = ", ".join(v.value for v in dims) or "none"
        raise ValueError(
            f"collection {collection.value!r} has no {using.value!r} vectors (it has: {have})"
        )
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim != 1 or array.shape[0] != dims[using]:
        raise ValueError(
            f"{what} for {collection.value}.{using.value} must have shape ({dims[using]},), "
            f"got {array.shape}"
        )
    if not np.isfinite(array).all():
        raise ValueError(f"{what} for {collection.value}.{using.value} has NaN or inf values")
    if not array.any():
        raise ValueError(f"{what} for {collection.value}.{using.value} is all zeros")
    return array


def check_point(
    point: Point, *, collection: CollectionName, dims: Mapping[VectorName, int]
) -> None:
    if not isinstance(point.id, str) or not point.id:
        raise ValueError(f"point ids must be non-empty strings, got {point.id!r}")
    for name, vector in point.vectors.items():
        check_vector(
            vector,
            collection=collection,
            using=check_using(name),
            dims=dims,
            what=f"vector of point {point.id!r}",
        )


def check_ids(ids: Sequence[str], *, what: str = "ids") -> None:
    if isinstance(ids, str):
        raise ValueError(f"{what} must be a sequence of ids, not the single string {ids!r}")
    for point_id in ids:
        if not isinstance(point_id, str) or not point_id:
            raise ValueError(f"{what} must be non-empty strings, got {point_id!r}")


def check_filter(where: Filter) -> None:
    for low, high, what in (
        (where.year_min, where.year_max, "year"),
        (where.popularity_min, where.popularity_max, "popularity"),
    ):
        if low is not None and high is not None and low > high:
            raise ValueError(f"empty {what} range in filter: {what}_min {low} > {what}_max {high}")
    for field_name in ("artist_ids", "exclude_artist_ids", "exclude_ids", "genres_any"):
        value = getattr(where, field_name)
        if isinstance(value, str):
            raise ValueError(f"Filter.{field_name} must be a tuple of strings, not {value!r}")


# -- filter meaning --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnyOf:
    """The payload field (or any element of an array field) equals one of ``values``."""

    key: str
    values: tuple[str, ...] | tuple[bool]


@dataclass(frozen=True, slots=True)
class Between:
    """An integer payload field within ``[gte, lte]``; points without the field never match."""

    key: str
    gte: int | None
    lte: int | None


@dataclass(frozen=True, slots=True)
class FilterPlan:
    must: tuple[AnyOf | Between, ...]
    must_not: tuple[AnyOf, ...]
    exclude_uuids: tuple[str, ...]  # Qdrant ids never to return


def plan_filter(where: Filter, *, also_exclude: Iterable[str] = ()) -> FilterPlan | None:
    """The conditions a ``Filter`` means (``None`` when nothing is filtered).

    ``explicit=False`` is "explicit is not true", so tracks of unknown explicitness stay in;
    ranges exclude points whose value is unknown.
    """
    must: list[AnyOf | Between] = []
    must_not: list[AnyOf] = []
    if where.artist_ids:
        must.append(AnyOf("artist_id", tuple(where.artist_ids)))
    if where.exclude_artist_ids:
        must_not.append(AnyOf("artist_id", tuple(where.exclude_artist_ids)))
    if where.genres_any:
        must.append(AnyOf("genres", tuple(where.genres_any)))
    if where.year_min is not None or where.year_max is not None:
        must.append(Between("year", where.year_min, where.year_max))
    if where.popularity_min is not None or where.popularity_max is not None:
        must.append(Between("popularity", where.popularity_min, where.popularity_max))
    if where.explicit is True:
        must.append(AnyOf("explicit", (True,)))
    elif where.explicit is False:
        must_not.append(AnyOf("explicit", (True,)))
    if where.own_cf_only:
        must_not.append(AnyOf("cf_borrowed", (True,)))
    excluded = tuple(dict.fromkeys(point_uuid(i) for i in (*where.exclude_ids, *also_exclude)))
    if not (must or must_not or excluded):
        return None
    return FilterPlan(tuple(must), tuple(must_not), excluded)


def average_vector(positive: Sequence[Vector], negative: Sequence[Vector]) -> Vector:
    """Qdrant's ``average_vector`` recommend query: avg(pos) + (avg(pos) - avg(neg))."""
    mean_positive = np.mean(np.stack(positive), axis=0, dtype=np.float32)
    if not negative:
        return np.asarray(mean_positive, dtype=np.float32)
    mean_negative = np.mean(np.stack(negative), axis=0, dtype=np.float32)
    return np.asarray(mean_positive + mean_positive - mean_negative, dtype=np.float32)


def batched(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    batch: list[_T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def dims_text(dims: Mapping[VectorName, int]) -> str:
    return ", ".join(f"{name.value}={size}" for name, size in sorted(dims.items())) or "none"
