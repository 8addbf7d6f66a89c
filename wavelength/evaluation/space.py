"""The collaborative space the personal-mix evaluations work in, fitted in memory.

ALS (``recommender.cf``) on training playlists, exactly as ``wavelength train`` fits it, with
the same fallback for tracks on no playlist: their artist's vector (``recommender.fallback``).
History plays carry name-derived track ids; ``by_key`` joins them to the playlists' Spotify
ids by artist and title, as ``wavelength ingest history`` does against the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from recommender.fallback import artist_vectors
from wavelength.domain import ArtistId, Playlist, TrackId
from wavelength.evaluation.data import distinct
from wavelength.evaluation.run import interactions
from wavelength.ids import stable_track_id

if TYPE_CHECKING:
    from recommender.cf import ItemEmbedder
    from recommender.vectors import ItemVectors, Matrix


@dataclass(frozen=True, slots=True, eq=False)
class Space:
    tracks: ItemVectors
    artists: ItemVectors
    by_key: dict[TrackId, TrackId]  # name-derived id -> the playlists' id for that song
    artist_of: dict[TrackId, ArtistId]
    model: str

    @property
    def dim(self) -> int:
        return self.tracks.dim

    def own(self, track: TrackId) -> TrackId | None:
        """The id this space knows ``track`` by (itself, or its Spotify id), if any."""
        if track in self.tracks:
            return track
        mapped = self.by_key.get(track)
        return mapped if mapped is not None and mapped in self.tracks else None

    def matrix(
        self, tracks: Sequence[TrackId], artists: Sequence[ArtistId]
    ) -> tuple[Matrix, np.ndarray]:
        """One row per track: its own vector, else its artist's; zero rows (and False in the
        mask) for tracks with neither."""
        out = np.zeros((len(tracks), self.dim), dtype=np.float32)
        has = np.zeros(len(tracks), dtype=np.bool_)
        for row, (t, a) in enumerate(zip(tracks, artists, strict=True)):
            own = self.own(t)
            if own is not None:
                out[row] = self.tracks.vector(own)
                has[row] = True
            elif a in self.artists:
                out[row] = self.artists.vector(a)
                has[row] = True
        return out, has


def fit_space(playlists: Iterable[Playlist], embedder: ItemEmbedder) -> Space:
    chosen = list(playlists)
    tracks = embedder.fit(interactions(chosen))
    artist_of: dict[TrackId, ArtistId] = {}
    by_key: dict[TrackId, TrackId] = {}
    for p in chosen:
        for t in p.tracks:
            artist_of[t.id] = t.artist.id
            by_key.setdefault(stable_track_id(t.artist.name, t.name), t.id)
    artists = artist_vectors(tracks, artist_of)  # type: ignore[arg-type]
    return Space(tracks, artists, by_key, artist_of, embedder.name)


def playlist_halves(p: Playlist) -> tuple[tuple[TrackId, ...], tuple[TrackId, ...]]:
    """The distinct tracks of ``p`` split in two: the first half and the rest."""
    ids = distinct(p)
    cut = len(ids) // 2
    return ids[:cut], ids[cut:]
