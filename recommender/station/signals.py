"""The vectors one compose works from: the steered mood, the listener's examples, the seeds.

``gather`` is the only step that reads vectors (one encoder call, a few ``vectors`` look-ups);
everything after it searches with what it finds here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from recommender.encoder import TextEncoder
from recommender.memo import ReadThrough
from recommender.station.context import StationContext
from recommender.station.genres import GenreIndex
from recommender.station.ports import TrackCatalog
from recommender.vectors import normalize_rows
from vectorstore.base import CollectionName, Vector, VectorName, VectorStore
from wavelength.domain import ArtistId, TrackId

# How hard negatives push, against positives pulling with weight 1 (Rocchio's gamma/beta):
# a negative says "not this", which is weaker evidence about what is wanted.
NEGATIVE_PULL = 0.5
# How hard a refinement phrase steers the mood text ("more upbeat").
STEER_PULL = 0.6
# Examples weigh against the mood in the text query by this much per unit of feedback weight,
# up to EXAMPLES_CAP: the first likes nudge, many likes lead.
EXAMPLE_PULL = 0.35
EXAMPLES_CAP = 1.5


@dataclass(frozen=True, slots=True)
class Signals:
    spaces: frozenset[VectorName]  # which track vectors exist in the store
    has_playlists: bool  # whether human playlists are indexed (the title route)
    mood_vector: Vector | None  # the mood text alone
    text_query: Vector | None  # mood + steers + examples - negatives, in the text space
    liked_query: dict[VectorName, Vector] = field(default_factory=dict)  # positives - negatives
    negative_mean: dict[VectorName, Vector] = field(default_factory=dict)
    negative_pull: float = 0.0  # how far queries are pushed away from negative_mean
    positives: dict[VectorName, dict[TrackId, Vector]] = field(default_factory=dict)
    seed_artists: dict[VectorName, dict[ArtistId, Vector]] = field(default_factory=dict)
    seed_tracks: dict[VectorName, dict[TrackId, Vector]] = field(default_factory=dict)
    positive_weight: float = 0.0  # total weight of the positives (how much to trust them)
    named_genres: tuple[str, ...] = ()  # genre labels written in the mood
    genres: tuple[str, ...] = ()  # the filter: named genres widened, or the seeds' genres

    @property
    def has_cf(self) -> bool:
        return VectorName.CF in self.spaces

    def away_from_negatives(self, query: np.ndarray, space: VectorName) -> Vector | None:
        """``query`` pushed away from what this station was told it should not play."""
        negative = self.negative_mean.get(space)
        if negative is None or self.negative_pull == 0:
            return _unit(query)
        return _unit(_unit_or_zero(query) - self.negative_pull * negative)


class TextMemo:
    """Mood texts and steer phrases repeat on every batch of a station: remember them."""

    def __init__(self, encoder: TextEncoder, *, size: int = 4096) -> None:
        self._encoder = encoder
        self._memo: ReadThrough[str, Vector] = ReadThrough(size)  # the disk cache is behind

    def encode(self, texts: Sequence[str]) -> list[Vector]:
        def read(missing: list[str]) -> dict[str, Vector]:
            return dict(zip(missing, self._encoder.encode(missing), strict=True))

        found = self._memo.get_many(texts, read)
        return [found[t] for t in texts]

    def clear(self) -> None:
        self._memo.clear()


class VectorMemo:
    """Vectors read from the store, by collection, space and id. A station's liked tracks are
    read again for every batch, and a read costs about 50 µs per vector (the engine hands
    them over as Python lists), so 25 likes cost more than a search."""

    def __init__(self, *, size: int = 50_000) -> None:  # 50,000 text vectors: 77 MB
        self._memo: ReadThrough[tuple[CollectionName, VectorName, str], Vector] = ReadThrough(size)

    def vectors(
        self, store: VectorStore, name: CollectionName, ids: Sequence[str], using: VectorName
    ) -> dict[str, Vector]:
        def read(
            missing: list[tuple[CollectionName, VectorName, str]],
        ) -> dict[tuple[CollectionName, VectorName, str], Vector]:
            found = store.vectors(name, [i for _, _, i in missing], using=using)
            return {(name, using, i): v for i, v in found.items()}

        found = self._memo.get_many(((name, using, i) for i in ids), read)
        return {i: v for (_, _, i), v in found.items()}

    def clear(self) -> None:
        self._memo.clear()

    def __len__(self) -> int:
        return len(self._memo)


def gather(
    ctx: StationContext,
    *,
    store: VectorStore,
    memo: TextMemo,
    vectors: VectorMemo | None = None,
    spaces: frozenset[VectorName],
    has_playlists: bool,
    catalog: TrackCatalog,
    genre_index: GenreIndex,
) -> Signals:
    station = ctx.station
    mood, tuning = station.mood, station.tuning
    phrases = [s.phrase for s in station.steers]
    encoded = memo.encode([mood.text, *phrases] if mood.text else phrases)
    mood_vector = encoded[0] if mood.text else None
    steer_vectors = encoded[1:] if mood.text else encoded

    weights, neg_weights = dict(ctx.positives), dict(ctx.negatives)
    track_ids = list(dict.fromkeys([*weights, *neg_weights, *mood.seed_tracks]))
    positives: dict[VectorName, dict[TrackId, Vector]] = {}
    negative_mean: dict[VectorName, Vector] = {}
    seed_artists: dict[VectorName, dict[ArtistId, Vector]] = {}
    seed_tracks: dict[VectorName, dict[TrackId, Vector]] = {}
    read = vectors.vectors if vectors is not None else VectorMemo(size=0).vectors
    for space in spaces:
        found = read(store, CollectionName.TRACKS, track_ids, space) if track_ids else {}
        positives[space] = {t: found[t] for t in weights if t in found}
        negatives = {t: found[t] for t in neg_weights if t in found}
        if negatives:
            negative_mean[space] = _weighted_mean(negatives, neg_weights)
        seed_tracks[space] = {t: found[t] for t in mood.seed_tracks if t in found}
        if mood.seed_artists:
            artists = read(store, CollectionName.ARTISTS, list(mood.seed_artists), space)
            seed_artists[space] = {ArtistId(a): v for a, v in artists.items()}

    # One dislike pushes half as far as two; more than two push no further.
    pull = NEGATIVE_PULL * tuning.dislike * min(1.0, sum(neg_weights.values()) / 2)
    partial = Signals(spaces, has_playlists, mood_vector, None, {}, negative_mean, pull)
    liked_query: dict[VectorName, Vector] = {}
    for space in spaces:
        if positives[space]:
            query = partial.away_from_negatives(_weighted_mean(positives[space], weights), space)
            if query is not None:
                liked_query[space] = query

    parts: list[np.ndarray] = []
    if mood_vector is not None:
        parts.append(tuning.style * mood_vector)
    # "like Radiohead but calmer": what the named artists sound like is as much the style as
    # the words around them (the words alone, "calmer", say little about which music).
    seeds = [*seed_artists.get(VectorName.TEXT, {}).values(),
             *seed_tracks.get(VectorName.TEXT, {}).values()]  # fmt: skip
    if seeds:
        parts.append(tuning.style * np.mean(np.stack(seeds), axis=0))
    for vector, steer in zip(steer_vectors, station.steers, strict=True):
        parts.append(steer.sign * STEER_PULL * vector)
    text_positives = positives.get(VectorName.TEXT)
    if text_positives:
        share = min(EXAMPLES_CAP, EXAMPLE_PULL * sum(weights.values())) * tuning.like
        parts.append(share * _weighted_mean(text_positives, weights))
    text_query = (
        partial.away_from_negatives(np.sum(np.stack(parts), axis=0), VectorName.TEXT)
        if parts
        else None
    )
    named = genre_index.named_in(mood.text)  # names taken out: "Daft Punk" is not punk
    if named:
        genres = genre_index.widen(named)
    else:
        seed_facts = catalog.artists(mood.seed_artists) if mood.seed_artists else {}
        genres = tuple(dict.fromkeys(g for a in seed_facts.values() for g in a.genres))
    return Signals(
        named_genres=named,
        genres=genres,
        spaces=spaces,
        has_playlists=has_playlists,
        mood_vector=mood_vector,
        text_query=text_query,
        liked_query=liked_query,
        negative_mean=negative_mean,
        negative_pull=pull,
        positives=positives,
        seed_artists=seed_artists,
        seed_tracks=seed_tracks,
        positive_weight=sum(weights.values()),
    )


def _weighted_mean(vectors: Mapping[TrackId, Vector], weights: Mapping[TrackId, float]) -> Vector:
    mean = np.average(
        np.stack(list(vectors.values())), axis=0, weights=[weights[t] for t in vectors]
    )
    return _unit_or_zero(mean)


def _unit_or_zero(vector: np.ndarray) -> Vector:
    out: Vector = normalize_rows(vector)[0]
    return out


def _unit(vector: np.ndarray) -> Vector | None:
    out = normalize_rows(vector)[0]
    return out if float(np.linalg.norm(out)) > 0.5 else None
