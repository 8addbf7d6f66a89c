"""Stand-ins for items with too little collaborative data.

A track seen in two playlists has a vector that says little; its artist, seen across many
tracks and playlists, says more. ``artist_vectors`` pools track vectors per artist and
``with_fallbacks`` lets rare tracks borrow their artist's vector. What has neither enough
data nor an artist to lean on gets no vector: the caller falls back to the text side.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from recommender.vectors import ItemVectors, normalize_rows


def artist_vectors(
    tracks: ItemVectors, track_artist: Mapping[str, str], *, min_support: int = 1
) -> ItemVectors:
    """One vector per artist: the support-weighted mean of its tracks' vectors, re-normalised.

    Only tracks with their own vectors count (``borrowed`` ones would feed the artist its own
    mean back). An artist's support is the sum of its tracks' supports; artists below
    ``min_support`` are left out. Tracks missing from ``track_artist`` are ignored.
    """
    if min_support < 1:
        raise ValueError(f"min_support must be at least 1, got {min_support}")
    artist_index: dict[str, int] = {}
    track_rows: list[int] = []
    artist_of_row: list[int] = []
    for row, track in enumerate(tracks.ids):
        artist = track_artist.get(track)
        if artist is not None and not tracks.borrowed[row]:
            track_rows.append(row)
            artist_of_row.append(artist_index.setdefault(artist, len(artist_index)))
    n_artists = len(artist_index)
    dim = tracks.dim
    if not track_rows:
        return ItemVectors(
            (), np.zeros((0, dim), np.float32), np.zeros(0, np.int64), model=tracks.model
        )
    owner = np.asarray(artist_of_row, dtype=np.int64)
    weight = tracks.support[track_rows].astype(np.float64)
    sums = np.zeros((n_artists, dim), dtype=np.float64)
    np.add.at(sums, owner, tracks.vectors[track_rows] * weight[:, None])
    support = np.bincount(owner, weights=weight, minlength=n_artists).astype(np.int64)
    keep = support >= min_support
    vectors = normalize_rows(sums[keep])
    # An artist whose tracks point in opposite directions can average to ~zero; no vector then.
    usable = np.linalg.norm(vectors, axis=1) > 0.5
    names = [a for a, k in zip(artist_index, keep.tolist(), strict=True) if k]
    return ItemVectors(
        ids=tuple(a for a, u in zip(names, usable.tolist(), strict=True) if u),
        vectors=vectors[usable],
        support=support[keep][usable],
        model=f"{tracks.model} / artist mean",
    )


def with_fallbacks(
    tracks: ItemVectors,
    artists: ItemVectors,
    track_artist: Mapping[str, str],
    *,
    min_support: int,
) -> ItemVectors:
    """Track vectors where every track with ``support < min_support`` takes its artist's vector.

    Those tracks come back with ``borrowed`` set (and keep their own support). A rare track
    whose artist has no vector is dropped. Tracks at or above ``min_support`` keep their own.
    """
    if min_support < 1:
        raise ValueError(f"min_support must be at least 1, got {min_support}")
    if artists.dim != tracks.dim and len(artists):
        raise ValueError(f"artist vectors have dim {artists.dim}, track vectors {tracks.dim}")
    rows: list[int] = []
    borrow_from: list[int] = []  # artist row, or -1 to keep the track's own vector
    for row, track in enumerate(tracks.ids):
        if tracks.support[row] >= min_support:
            rows.append(row)
            borrow_from.append(-1)
            continue
        artist = track_artist.get(track)
        if artist is not None and artist in artists:
            rows.append(row)
            borrow_from.append(artists.index(artist))
    source = np.asarray(borrow_from, dtype=np.int64)
    borrowed = source >= 0
    vectors = tracks.vectors[rows].copy()
    vectors[borrowed] = artists.vectors[source[borrowed]]
    return ItemVectors(
        ids=tuple(tracks.ids[r] for r in rows),
        vectors=vectors,
        support=tracks.support[rows],
        model=f"{tracks.model} + artist fallback below {min_support}",
        borrowed=borrowed,
    )
