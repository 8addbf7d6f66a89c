"""The service's state and what every part of it needs: a user's weighted listening with
vectors (``_Taste``), today's taste centers with their labels, and the vector store reads in
the right space (the collaborative one, or the text one where there is none)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from recommender.mixes import (
    DEFAULT_RANKER,
    PairwiseRanker,
    TasteCenter,
    fit_centers,
    recency_weights,
    top_artists,
)
from recommender.vectors import normalize_rows
from storage import feedback as fb
from storage import history as repo
from vectorstore.base import CollectionName, Filter, VectorName
from vectorstore.live import generation_of
from wavelength.domain import ArtistId, Track, TrackId, UserId
from wavelength.mixes._types import MixOptions

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from recommender.station.ports import TrackCatalog
    from vectorstore.base import Vector, VectorStore

Clock = Callable[[], datetime]
DAY = 86_400.0
# Searches ask for enough hits to survive leaving out what the user already has; this bounds
# them for users with huge histories (what is left out then is at worst fewer new tracks).
MAX_SEARCH = 2500


@dataclass(frozen=True, slots=True)
class _Taste:
    """A user's weighted listening with vectors: the input of centers, mixes and matching."""

    ids: tuple[TrackId, ...]
    artists: tuple[ArtistId, ...]
    vectors: np.ndarray
    weights: np.ndarray
    tracks: dict[TrackId, Track]
    generation: int  # of the vector store the vectors came from (read before them)


class MixCore:
    def __init__(
        self,
        *,
        engine: Engine,
        store: VectorStore,
        catalog: TrackCatalog,
        options: MixOptions | None = None,
        ranker: PairwiseRanker = DEFAULT_RANKER,
        clock: Clock = lambda: datetime.now(UTC),
        seed: int = 0,
    ) -> None:
        self._engine = engine
        self._store = store
        self._catalog = catalog
        self._options = options or MixOptions()
        self._ranker = ranker
        self._clock = clock
        self._seed = seed

    def _taste(self, conn: Connection, user: UserId, now: datetime) -> _Taste | None:
        o = self._options
        weight: dict[TrackId, float] = defaultdict(float)
        listens = repo.listens(conn=conn, user=user)
        ages = [(now - x.at).total_seconds() / DAY for x in listens]
        strength = [o.like_weight if x.source == "spotify_top" else 1.0 for x in listens]
        for x, w, s in zip(
            listens, recency_weights(ages, half_life_days=o.half_life_days), strength, strict=True
        ):
            weight[x.track] += float(w) * s
        liked = repo.liked(conn=conn, user=user)
        like_ages = [(now - x.at).total_seconds() / DAY for x in liked]
        for like, w in zip(
            liked, recency_weights(like_ages, half_life_days=o.half_life_days), strict=True
        ):
            weight[like.track] += float(w) * o.like_weight * like.strength
        for track in fb.disliked_tracks(conn=conn, user=user):
            weight.pop(track, None)
        heaviest = sorted(weight, key=lambda t: (-weight[t], t))[: o.max_tracks]
        # Before the vectors: should a model refresh swap generations in between, the
        # centers fitted now are labelled with the old one and simply refitted next time.
        generation = generation_of(self._store)
        vectors = self._vectors(heaviest)
        ids = [t for t in heaviest if t in vectors]
        if not ids:
            return None
        tracks = self._catalog.tracks(ids)
        ids = [t for t in ids if t in tracks]
        if not ids:
            return None
        return _Taste(
            ids=tuple(ids),
            artists=tuple(tracks[t].artist.id for t in ids),
            vectors=normalize_rows(np.asarray([vectors[t] for t in ids])),
            weights=np.asarray([weight[t] for t in ids]),
            tracks=tracks,
            generation=generation,
        )

    def _centers(
        self, conn: Connection, user: UserId, taste: _Taste, now: datetime
    ) -> tuple[list[TasteCenter], list[str]]:
        """Today's centers: stored ones when fitted today, else a fit seeded by them."""
        o = self._options
        today = now.astimezone(UTC).date().isoformat()
        space = repo.center_space(dims=taste.vectors.shape[1], generation=taste.generation)
        stored = repo.load_centers(conn=conn, user=user, space=space)
        if stored and stored[0].day == today:
            return [_center(c) for c in stored], [c.label for c in stored]
        fit = fit_centers(
            taste.vectors,
            taste.weights,
            previous=[_center(c) for c in stored],
            max_centers=o.max_centers,
            min_share=o.min_share,
            min_members=o.min_mix_tracks,
            rng=random.Random(f"{self._seed}/{user}/{today}"),
        )
        labels = []
        for k in range(len(fit.centers)):
            rows = fit.members(k)
            top = top_artists([taste.artists[i] for i in rows], taste.weights[rows])
            labels.append(self._label(top, taste))
        repo.save_centers(
            conn=conn,
            user=user,
            centers=[
                repo.StoredCenter(
                    c.id, today, space, tuple(c.vector.tolist()), c.weight, c.share, label
                )
                for c, label in zip(fit.centers, labels, strict=True)
            ],
        )
        return list(fit.centers), labels

    def _label(self, artists: Sequence[str], taste: _Taste) -> str:
        names = {t.artist.id: t.artist.name for t in taste.tracks.values()}
        shown = [names.get(ArtistId(a), a) for a in artists]
        if len(shown) <= 1:
            return "".join(shown)
        return ", ".join(shown[:-1]) + " & " + shown[-1]

    def _space(self) -> VectorName:
        """The collaborative space, or the text space where there is none (a catalog
        without playlists, like the bundled demo): mixes still work, from descriptions."""
        tracks = self._store.info(CollectionName.TRACKS)
        if tracks is not None and VectorName.CF in tracks.dims:
            return VectorName.CF
        return VectorName.TEXT

    def _own(self) -> Filter:
        """Tracks whose collaborative vector is only their artist's are no answers there."""
        return Filter(own_cf_only=self._space() is VectorName.CF)

    def _vectors(self, ids: Sequence[TrackId]) -> dict[TrackId, Vector]:
        if not ids:
            return {}
        found = self._store.vectors(CollectionName.TRACKS, list(ids), using=self._space())
        return {TrackId(k): v for k, v in found.items()}


def _center(c: repo.StoredCenter) -> TasteCenter:
    return TasteCenter(c.id, np.asarray(c.vector, dtype=np.float32), c.weight, c.share)
