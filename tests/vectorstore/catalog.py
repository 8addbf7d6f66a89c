"""A tiny catalog whose nearest neighbours are obvious, and the reference answers for it.

Four genre clusters of six tracks. In the ``text`` space track ``k`` of a cluster is the
cluster's axis tilted by ``0.08 * k`` towards a spare axis, so along the axis the order is
``k = 1, 2, ..., 6``. The ``cf`` space does the same in four dimensions, each cluster tilted
towards the next one (jazz towards metal); a little seeded noise breaks ties. ``pop:5`` and
``pop:6`` have no ``cf`` vector.
The reference (``expected_search``) is brute-force numpy plus the filter semantics written
out in plain Python, so every backend is checked against an independent answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vectorstore import NO_FILTER, CollectionName, Filter, Hit, Payload, Point, Vector, VectorName

TRACKS = CollectionName.TRACKS
TEXT_DIM = 6
CF_DIM = 4
DIMS = {VectorName.TEXT: TEXT_DIM, VectorName.CF: CF_DIM}
GENRES = ("jazz", "metal", "ambient", "pop")
NO_CF = frozenset({"pop:5", "pop:6"})


def unit(values: Sequence[float]) -> Vector:
    v = np.asarray(values, dtype=np.float32)
    return (v / np.linalg.norm(v)).astype(np.float32)


def axis(i: int, dim: int = TEXT_DIM) -> Vector:
    v = np.zeros(dim, dtype=np.float32)
    v[i] = 1.0
    return v


def _payload(c: int, genre: str, k: int) -> Payload:
    genres: tuple[str, ...] = {
        "jazz": ("jazz", "cool jazz") if k % 2 else ("jazz",),
        "metal": ("metal",),
        "ambient": ("ambient", "electronic"),
        "pop": () if k == 6 else ("pop",),
    }[genre]
    return Payload(
        artist_id=f"artist:{genre}:{k % 2}",
        genres=genres,
        year=None if k == 3 else 1960 + 10 * c + k,
        explicit={0: True, 1: False, 2: None}[k % 3],
        popularity=None if k == 4 else 10 * k + c,
        cf_borrowed={1: True, 2: False}.get(k),  # True, False and unknown all occur
    )


def _build() -> list[Point]:
    # A little seeded noise breaks the ties the symmetric layout would otherwise have.
    rng = np.random.default_rng(7)
    points = []
    for c, genre in enumerate(GENRES):
        for k in range(1, 7):
            point_id = f"{genre}:{k}"
            text = axis(c) + 0.08 * k * axis(4) + 0.003 * rng.standard_normal(TEXT_DIM)
            vectors = {VectorName.TEXT: unit(text)}
            if point_id not in NO_CF:
                tilt = axis((c + 1) % CF_DIM, CF_DIM)
                cf = axis(c, CF_DIM) + 0.07 * k * tilt + 0.003 * rng.standard_normal(CF_DIM)
                vectors[VectorName.CF] = unit(cf)
            points.append(Point(id=point_id, vectors=vectors, payload=_payload(c, genre, k)))
    return points


CATALOG: tuple[Point, ...] = tuple(_build())
BY_ID = {p.id: p for p in CATALOG}
# A query that is near no axis in particular, so every catalog score differs.
MIXED_QUERY = unit([1.0, 0.5, 0.25, 0.125, 0.0, 0.3])


def matches(point: Point, where: Filter) -> bool:
    """The meaning of a Filter, independent of Qdrant."""
    p = point.payload
    checks = [
        not where.artist_ids or p.artist_id in where.artist_ids,
        p.artist_id is None or p.artist_id not in where.exclude_artist_ids,
        point.id not in where.exclude_ids,
        not where.genres_any or bool(set(p.genres) & set(where.genres_any)),
        where.year_min is None or (p.year is not None and p.year >= where.year_min),
        where.year_max is None or (p.year is not None and p.year <= where.year_max),
        where.explicit is None or (p.explicit is True) == where.explicit,
        where.popularity_min is None
        or (p.popularity is not None and p.popularity >= where.popularity_min),
        where.popularity_max is None
        or (p.popularity is not None and p.popularity <= where.popularity_max),
        not where.own_cf_only or p.cf_borrowed is not True,
    ]
    return all(checks)


def expected_search(
    query: Vector,
    using: VectorName,
    *,
    n: int = 100,
    where: Filter = NO_FILTER,
    points: Sequence[Point] = CATALOG,
    exclude: Sequence[str] = (),
) -> list[Hit]:
    q = unit(query)
    hits = [
        Hit(p.id, float(np.dot(q, unit(p.vectors[using]))))
        for p in points
        if using in p.vectors and matches(p, where) and p.id not in exclude
    ]
    return sorted(hits, key=lambda h: -h.score)[:n]


def expected_recommend(
    using: VectorName,
    positive: Sequence[str],
    negative: Sequence[str] = (),
    *,
    n: int = 100,
    where: Filter = NO_FILTER,
) -> list[Hit]:
    """Qdrant's average_vector strategy: avg(pos) + (avg(pos) - avg(neg))."""
    pos = [BY_ID[i].vectors[using] for i in positive if i in BY_ID and using in BY_ID[i].vectors]
    neg = [BY_ID[i].vectors[using] for i in negative if i in BY_ID and using in BY_ID[i].vectors]
    mean_pos = np.mean(pos, axis=0)
    query = mean_pos if not neg else 2 * mean_pos - np.mean(neg, axis=0)
    return expected_search(query, using, n=n, where=where, exclude=[*positive, *negative])
