"""Where candidates come from. Each source makes one or two searches and proposes a ranked list.

* ``MoodSource``      the steered mood in the text space (track descriptions)
* ``GenreSource``     the same search, limited to the genres the mood names (or the named
                      artists' genres)
* ``PlaylistSource``  human playlists whose titles match the mood, then the tracks that share
                      playlists with theirs (the collaborative space); the strongest signal
                      for a fresh station when the catalog has playlists
* ``SeedSource``      the artists and tracks named in the request ("like Daft Punk")
* ``LikedSource``     what the listener liked on this station, minus what they disliked

A source returns ``None`` when it has nothing to say (no mood text, no likes yet).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from recommender.station.context import StationContext
from recommender.station.reasons import Reason, Why
from recommender.station.signals import Signals
from vectorstore.base import CollectionName, Filter, Vector, VectorName, VectorStore
from wavelength.domain import TrackId

# Playlists whose titles are read as the meaning of a mood; their CF vectors are averaged with
# weights that favour the closest titles (cosine to a power: near-ties share, distant ones fade).
PLAYLIST_POOL = 30
PLAYLIST_SHARPNESS = 4.0


@dataclass(frozen=True, slots=True)
class Proposal:
    source: str
    ids: list[TrackId]
    scores: list[float]
    weight: float
    reason: Reason
    # For LikedSource: reasons are attributed per track to the nearest liked track in this space.
    attribute_in: VectorName | None = None


class Source(Protocol):
    name: str

    def propose(
        self, ctx: StationContext, signals: Signals, *, store: VectorStore, where: Filter, pool: int
    ) -> Proposal | None: ...


def _search(
    store: VectorStore, space: VectorName, vector: Vector, *, where: Filter, pool: int
) -> tuple[list[TrackId], list[float]]:
    hits = store.search(CollectionName.TRACKS, using=space, vector=vector, n=pool, where=where)
    return [TrackId(h.id) for h in hits], [h.score for h in hits]


class MoodSource:
    name = "mood"

    def propose(
        self, ctx: StationContext, signals: Signals, *, store: VectorStore, where: Filter, pool: int
    ) -> Proposal | None:
        if signals.text_query is None or VectorName.TEXT not in signals.spaces:
            return None
        ids, scores = _search(store, VectorName.TEXT, signals.text_query, where=where, pool=pool)
        mood = ctx.station.mood
        if mood.text:  # quote what the listener typed, not the encoder's trimmed words
            reason = Reason(Why.MOOD, mood.original)
        elif mood.seed_artists:
            reason = Reason(Why.SEED_ARTIST, mood.seed_artists[0])
        elif mood.seed_tracks:
            reason = Reason(Why.SEED_TRACK, mood.seed_tracks[0])
        else:
            reason = Reason(Why.MOOD, mood.original)
        return Proposal(self.name, ids, scores, ctx.station.tuning.style, reason)


class PlaylistSource:
    name = "playlists"

    def propose(
        self, ctx: StationContext, signals: Signals, *, store: VectorStore, where: Filter, pool: int
    ) -> Proposal | None:
        if signals.mood_vector is None or not (signals.playlist_cf and signals.has_cf):
            return None
        hits = store.search(
            CollectionName.PLAYLISTS, using=VectorName.TEXT, vector=signals.mood_vector,
            n=PLAYLIST_POOL,
        )  # fmt: skip
        if not hits:
            return None
        found = store.vectors(CollectionName.PLAYLISTS, [h.id for h in hits], using=VectorName.CF)
        usable = [h for h in hits if h.id in found]
        if not usable:
            return None
        weights = np.array([max(h.score, 0.0) ** PLAYLIST_SHARPNESS for h in usable])
        if not weights.any():
            return None
        mean = np.average(np.stack([found[h.id] for h in usable]), axis=0, weights=weights)
        query = signals.away_from_negatives(mean, VectorName.CF)
        if query is None:
            return None
        ids, scores = _search(store, VectorName.CF, query, where=where, pool=pool)
        reason = Reason(Why.PLAYLISTS, usable[0].id, collaborative=True)
        return Proposal(self.name, ids, scores, ctx.station.tuning.style, reason)


# A genre the listener names is a hard fact about what they want: it outweighs resemblance.
GENRE_WEIGHT = 2.0


class GenreSource:
    """The mood's own genre words ("hip hop", "jazz"), or the named artists' genres, as a
    filter on the text search: on theme by the catalog's labels, not only by resemblance."""

    name = "genre"

    def propose(
        self, ctx: StationContext, signals: Signals, *, store: VectorStore, where: Filter, pool: int
    ) -> Proposal | None:
        if not signals.genres or VectorName.TEXT not in signals.spaces:
            return None
        query = signals.text_query
        if query is None:
            return None
        tagged = replace(where, genres_any=signals.genres)
        ids, scores = _search(store, VectorName.TEXT, query, where=tagged, pool=pool)
        mood = ctx.station.mood
        if signals.named_genres:
            reason = Reason(Why.GENRE, signals.named_genres[0])
        elif mood.seed_artists:
            reason = Reason(Why.SEED_ARTIST, mood.seed_artists[0])
        else:
            reason = Reason(Why.MOOD, mood.original)
        return Proposal(self.name, ids, scores, ctx.station.tuning.style, reason)


# A name in the request is an explicit wish: it outweighs the mood words around it.
SEED_WEIGHT = 1.5


class SeedSource:
    name = "seed"

    def propose(
        self, ctx: StationContext, signals: Signals, *, store: VectorStore, where: Filter, pool: int
    ) -> Proposal | None:
        for space in (VectorName.CF, VectorName.TEXT):  # co-occurrence first, where it exists
            artists = signals.seed_artists.get(space, {})
            tracks = signals.seed_tracks.get(space, {})
            if not (artists or tracks):
                continue
            query = signals.away_from_negatives(
                np.mean(np.stack([*artists.values(), *tracks.values()]), axis=0), space
            )
            if query is None:
                continue
            ids, scores = _search(store, space, query, where=where, pool=pool)
            collaborative = space is VectorName.CF
            reason = (
                Reason(Why.SEED_ARTIST, next(iter(artists)), collaborative)
                if artists
                else Reason(Why.SEED_TRACK, next(iter(tracks)), collaborative)
            )
            return Proposal(self.name, ids, scores, SEED_WEIGHT, reason)
        return None


# Likes take over gradually: one like is a hint, three or more lead as strongly as the mood.
LIKED_WEIGHT_PER_LIKE = 0.5
LIKED_WEIGHT_CAP = 1.5


class LikedSource:
    name = "liked"

    def propose(
        self, ctx: StationContext, signals: Signals, *, store: VectorStore, where: Filter, pool: int
    ) -> Proposal | None:
        space = VectorName.CF if VectorName.CF in signals.liked_query else VectorName.TEXT
        query = signals.liked_query.get(space)
        if query is None:
            return None
        ids, scores = _search(store, space, query, where=where, pool=pool)
        newest = ctx.positives[-1][0] if ctx.positives else TrackId("")
        weight = ctx.station.tuning.like * min(
            LIKED_WEIGHT_CAP, LIKED_WEIGHT_PER_LIKE * signals.positive_weight
        )
        return Proposal(
            self.name, ids, scores, weight, Reason(Why.LIKED, newest, space is VectorName.CF),
            attribute_in=space,
        )  # fmt: skip


DEFAULT_SOURCES: tuple[Source, ...] = (
    MoodSource(),
    GenreSource(),
    PlaylistSource(),
    SeedSource(),
    LikedSource(),
)
