"""Playlist continuation: the title and the first tracks of a held-out playlist are given,
the rest is the answer (the RecSys Challenge 2018's "title and first 5 tracks" category, or
"first half" with ``SeedMode.HALF``).

The engine is a station whose mood is the title and whose likes are the seed tracks (what
``StationService.from_playlist`` does). Popularity and item-kNN are the baselines, and the
same station without its title is an ablation.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from wavelength.domain import TrackId
from wavelength.evaluation.data import distinct
from wavelength.evaluation.rankers import (
    KNN_NEIGHBOURS,
    ItemKnn,
    Popularity,
    Query,
    Ranker,
    StationRanker,
)
from wavelength.evaluation.scoring import Case

if TYPE_CHECKING:
    from recommender.station import StationComposer
    from wavelength.domain import Playlist

SEED_TRACKS = 5


class SeedMode(StrEnum):
    FIRST = "first"  # the first SEED_TRACKS tracks
    HALF = "half"  # the first half


ENGINE = "station (title + seed as likes)"
POPULARITY = "popularity"
KNN = f"item-kNN (cosine, K={KNN_NEIGHBOURS})"
NO_TITLE = "station, seed as likes, no title"


def continuation_cases(playlists: Sequence[Playlist], mode: SeedMode) -> list[Case]:
    cases = []
    for p in playlists:
        ids = distinct(p)
        cut = SEED_TRACKS if mode is SeedMode.FIRST else len(ids) // 2
        if 0 < cut < len(ids):
            cases.append(Case(p.id, Query(title=p.name, seed=ids[:cut]), frozenset(ids[cut:])))
    return cases


class _Untitled:
    """The same station given only the seed: how much the title adds once tracks are known."""

    def __init__(self, inner: StationRanker) -> None:
        self._inner = inner

    def recommend(self, query: Query, *, n: int) -> tuple[list[TrackId], np.ndarray]:
        return self._inner.recommend(Query(seed=query.seed), n=n)


def continuation_rankers(
    *, composer: StationComposer, popularity: Popularity, knn: ItemKnn
) -> dict[str, Ranker]:
    station = StationRanker(composer)
    return {
        ENGINE: station,
        POPULARITY: popularity,
        KNN: knn,
        NO_TITLE: _Untitled(station),
    }
