"""Score rankers on held-out cases with the RecSys Challenge 2018 metrics, all on one list.

Every ranker is asked for the same ``k`` tracks per case; R-precision reads the first
``|G|`` of them, NDCG and recall all ``k``, and clicks are scaled to ``k`` (a miss is
``k / 10 + 1``: 11 for k = 100, the challenge's 51 for its k = 500).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from tqdm import tqdm

from recommender.metrics import challenge_ndcg, r_precision, recall_at_k, songs_clicks
from wavelength.domain import ArtistId, PlaylistId, TrackId
from wavelength.evaluation.rankers import Query, Ranker

# The artists of whichever tracks are asked about (tracks it does not know are left out).
ArtistLookup = Callable[[Iterable[TrackId]], Mapping[TrackId, ArtistId]]


@dataclass(frozen=True, slots=True)
class Case:
    playlist: PlaylistId
    query: Query
    relevant: frozenset[TrackId]


@dataclass(frozen=True, slots=True)
class Scores:
    """One ranker's means over the cases (``*_se``: standard error of that mean)."""

    ranker: str
    cases: int
    r_precision: float
    r_precision_se: float
    ndcg: float
    recall: float
    recall_se: float
    clicks: float
    seconds: float


def score(
    name: str,
    ranker: Ranker,
    cases: Sequence[Case],
    *,
    k: int,
    artists: ArtistLookup,
    progress: bool = False,
) -> Scores:
    if not cases:
        raise ValueError("no cases to score")
    started = time.perf_counter()
    rp: list[float] = []
    nd: list[float] = []
    rec: list[float] = []
    clicks: list[float] = []
    for case in tqdm(cases, desc=name, disable=not progress, file=sys.stderr, leave=False):
        ids, _ = ranker.recommend(case.query, n=k)
        ranked = ids[:k]
        head = ranked[: len(case.relevant)]
        artist_of = artists([*head, *case.relevant])
        rp.append(r_precision(ranked, case.relevant, artist_of=artist_of))
        nd.append(challenge_ndcg(ranked, case.relevant))
        rec.append(recall_at_k(ranked, case.relevant, k))
        clicks.append(songs_clicks(ranked, case.relevant, k=k))
    return Scores(
        ranker=name,
        cases=len(cases),
        r_precision=_mean(rp),
        r_precision_se=_se(rp),
        ndcg=_mean(nd),
        recall=_mean(rec),
        recall_se=_se(rec),
        clicks=_mean(clicks),
        seconds=time.perf_counter() - started,
    )


def score_all(
    rankers: Mapping[str, Ranker],
    cases: Sequence[Case],
    *,
    k: int,
    artists: ArtistLookup,
    progress: bool = False,
) -> list[Scores]:
    """Every ranker on the same cases, in the order given."""
    return [
        score(name, ranker, cases, k=k, artists=artists, progress=progress)
        for name, ranker in rankers.items()
    ]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _se(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    mean = _mean(values)
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return math.sqrt(variance / len(values))
