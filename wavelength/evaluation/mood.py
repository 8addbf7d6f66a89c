"""Mood → tracks, "title only": the playlist's title is the mood, its tracks are the answer.

This is the first thing a listener does (type a few words, get a station), and the
RecSys Challenge 2018's hardest category. The engine is the full station ranking; in the
same run, popularity and the text space alone are the baselines, and the playlist-title
route alone is an ablation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recommender.station import StationComposer
from recommender.station.sources import MoodSource, PlaylistSource, Source
from wavelength.evaluation.data import distinct
from wavelength.evaluation.rankers import Popularity, Query, Ranker, StationRanker
from wavelength.evaluation.scoring import Case

if TYPE_CHECKING:
    from recommender.encoder import TextEncoder
    from recommender.station import TrackCatalog
    from vectorstore.base import VectorStore
    from wavelength.domain import Playlist

ENGINE = "station (all sources)"
POPULARITY = "popularity"
TEXT_ONLY = "text only (MoodSource)"
PLAYLISTS_ONLY = "playlist titles only (PlaylistSource)"


def mood_cases(playlists: Sequence[Playlist]) -> list[Case]:
    return [Case(p.id, Query(title=p.name), frozenset(distinct(p))) for p in playlists]


def mood_rankers(
    *, store: VectorStore, encoder: TextEncoder, catalog: TrackCatalog, popularity: Popularity
) -> dict[str, Ranker]:
    def station(sources: Sequence[Source] | None = None) -> StationRanker:
        return StationRanker(
            StationComposer(store=store, encoder=encoder, catalog=catalog, sources=sources)
        )

    return {
        ENGINE: station(),
        POPULARITY: popularity,
        TEXT_ONLY: station((MoodSource(),)),
        PLAYLISTS_ONLY: station((PlaylistSource(),)),
    }
