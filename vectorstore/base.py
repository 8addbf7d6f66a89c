"""The vector store interface: the only shape of Qdrant the rest of Wavelength sees.

Collections hold tracks, artists or playlists as points with up to two named vectors,
``text`` (sentence encoder) and ``cf`` (collaborative), and a small payload for filtering.
Point ids are our own string ids (``spotify:track:...``, ``mpd:123``); backends map them to
Qdrant's UUIDs and keep the original in the payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


class VectorName(StrEnum):
    TEXT = "text"
    CF = "cf"


class CollectionName(StrEnum):
    TRACKS = "tracks"
    ARTISTS = "artists"
    PLAYLISTS = "playlists"


@dataclass(frozen=True, slots=True)
class Payload:
    """What queries filter on; the SQL catalog stays the source of every other fact."""

    artist_id: str | None = None
    genres: tuple[str, ...] = ()
    year: int | None = None
    explicit: bool | None = None
    popularity: int | None = None
    # The cf vector is a stand-in (the artist's), good as a query but weak as an answer.
    cf_borrowed: bool | None = None


@dataclass(frozen=True, slots=True)
class Point:
    """One item. ``vectors`` may lack a name (an item with no CF data has no ``cf`` vector)."""

    id: str
    vectors: Mapping[VectorName, Vector]
    payload: Payload


@dataclass(frozen=True, slots=True)
class Filter:
    """Conditions are ANDed; ``None`` or empty means "no condition". Year and popularity
    ranges leave out points whose value is unknown; ``explicit`` does not (see below)."""

    artist_ids: tuple[str, ...] = ()  # any of these artists
    exclude_artist_ids: tuple[str, ...] = ()
    exclude_ids: tuple[str, ...] = ()  # point ids never to return
    genres_any: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    explicit: bool | None = None  # False: clean tracks only (unknown counts as clean)
    popularity_min: int | None = None
    popularity_max: int | None = None
    own_cf_only: bool = False  # leave out points whose cf vector is borrowed

    def is_empty(self) -> bool:
        return self == NO_FILTER


NO_FILTER = Filter()


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float  # cosine similarity, higher is closer


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    name: CollectionName
    points: int
    dims: Mapping[VectorName, int] = field(default_factory=dict)


class VectorStoreError(RuntimeError):
    """A store could not be opened or answered; the message says what to do."""


class VectorStore(Protocol):
    """Cosine-similarity store. Every method validates its arguments and raises ``ValueError``
    with a precise message (unknown collection, wrong dimension, n < 1)."""

    def ensure_collection(self, name: CollectionName, *, dims: Mapping[VectorName, int]) -> None:
        """Create the collection if absent; an existing one with other dims is an error."""

    def upsert(
        self, name: CollectionName, points: Iterable[Point], *, batch_size: int = 1024
    ) -> int:
        """Insert or replace points; returns how many were written."""

    def finish_bulk_load(self, name: CollectionName) -> None:
        """Build indexes (HNSW, payload) after a bulk load; searches work before it, slower."""

    def delete(self, name: CollectionName, ids: Sequence[str]) -> None: ...

    def count(self, name: CollectionName) -> int: ...

    def info(self, name: CollectionName) -> CollectionInfo | None:
        """None when the collection does not exist."""

    def search(
        self,
        name: CollectionName,
        *,
        using: VectorName,
        vector: Vector,
        n: int = 10,
        where: Filter = NO_FILTER,
    ) -> list[Hit]:
        """The ``n`` nearest points to ``vector`` in the ``using`` space, best first."""

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
        """Nearest points to the examples (Qdrant's average-vector strategy: mean of positives
        plus (mean of positives - mean of negatives)); examples are never returned. Examples
        missing from the collection or lacking the ``using`` vector are ignored; when no
        positive one is left the answer is empty."""

    def vectors(
        self, name: CollectionName, ids: Sequence[str], *, using: VectorName
    ) -> dict[str, Vector]:
        """Stored vectors of the given ids (ids without that vector are left out)."""

    def close(self) -> None: ...


def payload_dict(payload: Payload) -> dict[str, Any]:
    """The payload as stored in Qdrant (shared by both backends so filters agree)."""
    return {
        "artist_id": payload.artist_id,
        "genres": list(payload.genres),
        "year": payload.year,
        "explicit": payload.explicit,
        "popularity": payload.popularity,
        "cf_borrowed": payload.cf_borrowed,
    }
