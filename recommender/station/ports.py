"""What station composition needs from the outside world, as small protocols.

The vector store (``vectorstore.base.VectorStore``) and the text encoder
(``recommender.encoder.TextEncoder``) are protocols already; ``TrackCatalog`` is the third:
facts about tracks, artists and playlists by id, for filters, tilts and the reasons on cards,
and the catalog's genre vocabulary.
The SQL adapter is ``storage.track_facts.SqlTrackCatalog``; tests use an in-memory fake.
``SharedNeighbours`` lets processes that compose stations side by side share what a liked
track's neighbours are (``storage.neighbour_cache.SqliteNeighbourCache``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from wavelength.domain import Artist, ArtistId, PlaylistId, Track, TrackId


class TrackCatalog(Protocol):
    def tracks(self, ids: Iterable[TrackId]) -> dict[TrackId, Track]:
        """The known tracks among ``ids`` (unknown ids are left out)."""
        ...

    def artists(self, ids: Iterable[ArtistId]) -> dict[ArtistId, Artist]:
        """The known artists among ``ids``, with their genres."""
        ...

    def genres(self) -> frozenset[str]:
        """Every genre label the catalog uses (lower case): the words a mood can name."""
        ...

    def playlist_names(self, ids: Iterable[PlaylistId]) -> dict[PlaylistId, str]: ...

    def playlist_tracks(self, ids: Iterable[PlaylistId]) -> dict[PlaylistId, tuple[TrackId, ...]]:
        """The tracks of each known playlist, in playlist order."""
        ...

    def playlist_counts(self, ids: Iterable[TrackId]) -> dict[TrackId, int]:
        """On how many playlists each track is (0 for tracks on none): how familiar it is."""
        ...

    def clear(self) -> None:
        """Forget anything remembered from earlier answers: the catalog changed (an ingest
        before new vectors went live), and a track once unknown may be known now."""
        ...


class SharedNeighbours(Protocol):
    """Neighbour lists by key, shared between processes: a cache, so a miss, a full disk or a
    busy file is never an error (``get`` answers None, ``put`` keeps nothing)."""

    def get(self, key: str) -> tuple[list[TrackId], np.ndarray] | None:
        """The ids and float64 scores stored under ``key``, or None."""
        ...

    def put(self, key: str, ids: Sequence[TrackId], scores: np.ndarray) -> None: ...
