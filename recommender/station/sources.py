"""Where candidates come from. Each source makes a few searches and proposes a ranked list.

* ``MoodSource``      the steered mood in the text space (track descriptions)
* ``GenreSource``     the same search, limited to the genres the mood names (or the named
                      artists' genres)
* ``PlaylistSource``  human playlists whose titles match the mood vote for their tracks: the
                      strongest signal for a fresh station when the catalog has playlists
* ``SeedSource``      the artists and tracks named in the request ("like Daft Punk")
* ``LikedSource``     neighbours of each track liked on this station, pushed away from what
                      was disliked, summed (item-kNN over the vectors)

A source returns ``None`` when it has nothing to say (no mood text, no likes yet). Searches in
the collaborative space leave out tracks whose vector is borrowed from their artist: such a
vector is a fair query but a poor answer (held-out MPD playlists almost never hold them;
``wavelength eval``, 2026-11-27).
"""

from __future__ import annotations

import hashlib
import heapq
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from recommender.station.context import StationContext
from recommender.station.ports import SharedNeighbours, TrackCatalog
from recommender.station.reasons import Reason, Why
from recommender.station.signals import Signals, VectorMemo
from recommender.station.sums import top_sums
from vectorstore.base import CollectionName, Filter, Vector, VectorName, VectorStore
from wavelength.domain import PlaylistId, TrackId


@dataclass(frozen=True, slots=True)
class Proposal:
    source: str
    ids: list[TrackId]
    scores: list[float]
    weight: float
    reason: Reason  # for every track without its own entry in ``reasons``
    reasons: Mapping[TrackId, Reason] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Lookup:
    """Where a source looks, and within what: the same for every source of one compose."""

    store: VectorStore
    catalog: TrackCatalog
    where: Filter  # the station's hard limits, for store searches
    pool: int  # how many candidates a source proposes
    vectors: VectorMemo | None = None  # track vectors already read (for re-ranking a reuse)
    # Which vectors the store holds (its generation and size): what other processes' answers
    # must match to stand in for a search here.
    version: str = ""


class Source(Protocol):
    name: str

    def propose(self, ctx: StationContext, signals: Signals, look: Lookup) -> Proposal | None:
        """Candidates for this station, or None when this source has nothing to say."""
        ...


def _search(
    look: Lookup, space: VectorName, vector: Vector, *, where: Filter | None = None
) -> tuple[list[TrackId], list[float]]:
    where = look.where if where is None else where
    if space is VectorName.CF:
        where = replace(where, own_cf_only=True)
    hits = look.store.search(
        CollectionName.TRACKS, using=space, vector=vector, n=look.pool, where=where
    )
    return [TrackId(h.id) for h in hits], [h.score for h in hits]


# A station's text query drifts little between batches once it has heard a few reactions:
# its cosine to the previous batch's query has a median of 0.976 on the 2nd batch and 0.998
# from the 6th on (demo catalog, 10 stations x 30 batches, one reaction per batch). A search
# for a query that close finds nearly the same tracks, so the previous search's tracks,
# searched a little deeper, stand in for it: less what may not play now, and ranked again by
# the new query (so every reaction still reorders them), a few times in a row at most.
# Searches are over half of a batch's CPU (py-spy, 2026-11-27). 0.995 and 4 reuses at first;
# looser settings measured the same on held-out MPD playlists, as far as the harness can tell
# (learning-curve means 0.2089 at 0.995:4, 0.2068 at 0.97:12, 0.2099 at 0.9:32, fresh searches
# 0.2073; continuation R-precision 0.0919 in each, benchmarks/eval_search_reuse.py, seed 7),
# and 0.97:12 cut the demo load's fresh mood and genre searches from 0.38 to 0.13 per batch.
# See docs/evaluation.md.
REUSE_COSINE = 0.97
REUSE_MAX = 12  # reuses in a row before a fresh search, so a drift never accumulates
REUSE_SPARE = 50  # extra depth a reusable search keeps, for the tracks played meanwhile


@dataclass(frozen=True, slots=True)
class Reuse:
    """When a station's last search stands in for a new one: the new query's cosine to the
    searched one is at least ``cosine``, and it has stood in fewer than ``max_uses`` times."""

    cosine: float = REUSE_COSINE
    max_uses: int = REUSE_MAX

    def __post_init__(self) -> None:
        if not -1.0 <= self.cosine <= 1.0 or self.max_uses < 0:
            raise ValueError(f"reuse needs a cosine in [-1, 1] and max_uses >= 0, got {self}")


@dataclass(slots=True)
class _Searched:
    query: np.ndarray  # unit length
    banned: tuple[str, ...]  # the artists the search left out (bans change rarely)
    ids: list[TrackId]
    scores: list[float]
    uses: int = 0
    # The found tracks' vectors as rows, and their norms (0 read as 1): read on the first
    # reuse and kept, since every reuse ranks the same tracks again (stacking 200 vectors
    # from the memo each time cost more than the ranking).
    rows: np.ndarray | None = None
    norms: np.ndarray | None = None


class RecentSearches:
    """Each station's last deep search per source and limits, reused while the query has
    barely moved (``REUSE_COSINE``). Bounded: an entry is ids and scores, about 20 KB,
    cleared whole when full; the newest ``with_rows`` entries also keep their tracks'
    vectors stacked (about 400 KB each; older ones read them from the composer's shared
    ``VectorMemo`` again when reused)."""

    def __init__(self, *, size: int = 1024, with_rows: int = 64, reuse: Reuse = Reuse()) -> None:
        self._reuse = reuse
        self._memo: dict[tuple[object, ...], _Searched] = {}
        self._size = size
        self._stacked: deque[_Searched] = deque()
        self._with_rows = with_rows
        self._lock = threading.Lock()

    def search(
        self, key: tuple[object, ...], look: Lookup, space: VectorName, vector: Vector,
        where: Filter,
    ) -> tuple[list[TrackId], list[float]]:  # fmt: skip
        limits = replace(where, exclude_ids=(), exclude_artist_ids=())
        slot = (*key, space, limits, look.pool)
        norm = float(np.linalg.norm(vector))
        query = np.asarray(vector, dtype=np.float32) / (norm or 1.0)
        last = self._memo.get(slot)
        if (
            last is not None
            and last.uses < self._reuse.max_uses
            and last.banned == where.exclude_artist_ids
            and float(np.dot(query, last.query)) >= self._reuse.cosine
        ):
            excluded = frozenset(where.exclude_ids)
            keep = np.fromiter(
                (t not in excluded for t in last.ids), dtype=bool, count=len(last.ids)
            )
            left = int(keep.sum())
            # Enough left, or the catalog had no more to give when it was searched.
            if left >= look.pool or len(last.ids) < look.pool + REUSE_SPARE:
                ranked = self._rerank(last, keep, query, look, space)
                if ranked is not None:
                    last.uses += 1
                    return ranked
        deeper = replace(look, pool=look.pool + REUSE_SPARE)
        ids, scores = _search(deeper, space, vector, where=where)
        if len(self._memo) >= self._size:
            self._memo.clear()
        self._memo[slot] = _Searched(query, where.exclude_artist_ids, ids, scores)
        return ids[: look.pool], scores[: look.pool]

    def _rerank(
        self, last: _Searched, keep: np.ndarray, query: np.ndarray, look: Lookup,
        space: VectorName,
    ) -> tuple[list[TrackId], list[float]] | None:  # fmt: skip
        """The kept tracks of ``last`` by cosine to ``query``, best first (None when their
        vectors can't all be read: then a real search is the answer)."""
        if not keep.any():
            return [], []
        rows, norms = last.rows, last.norms  # once: another thread may let them go
        if rows is None or norms is None:
            if look.vectors is None:
                return None
            found = look.vectors.vectors(look.store, CollectionName.TRACKS, last.ids, space)
            if len(found) < len(last.ids):
                return None
            rows = np.stack([found[t] for t in last.ids])
            norms = np.linalg.norm(rows, axis=1)
            norms = np.where(norms > 0, norms, 1.0)
            last.rows, last.norms = rows, norms
            with self._lock:
                self._stacked.append(last)
                while len(self._stacked) > self._with_rows:  # the oldest holder lets go
                    old = self._stacked.popleft()
                    old.rows = old.norms = None
        scores = (rows @ query) / norms
        scores[~keep] = -np.inf
        top = np.argsort(-scores, kind="stable")[: min(look.pool, int(keep.sum()))]
        return [last.ids[i] for i in top], [float(scores[i]) for i in top]


def _station_key(ctx: StationContext, source: str) -> tuple[object, ...]:
    # The mood text too: the evaluation's stations all have id 0.
    return (source, ctx.station.id, ctx.station.mood.original)


# The request's words lead a fresh station; as likes accumulate they say more about this
# listener than the words did, so the mood-derived sources give way: at this much like weight
# (about four likes) they count half.
# (validation, seed 11: continuation R-precision 0.103 → 0.112 against a fixed weight).
EVIDENCE_HALF = 4.0


def _mood_share(signals: Signals) -> float:
    return 1.0 / (1.0 + signals.positive_weight / EVIDENCE_HALF)


def _ranked(scores: Mapping[TrackId, float], pool: int) -> tuple[list[TrackId], list[float]]:
    ids = heapq.nsmallest(pool, scores, key=lambda t: (-scores[t], t))
    return ids, [scores[t] for t in ids]


class MoodSource:
    name = "mood"

    def __init__(self, *, reuse: Reuse | None = Reuse()) -> None:
        self._recent = RecentSearches(reuse=reuse) if reuse is not None else None

    def propose(self, ctx: StationContext, signals: Signals, look: Lookup) -> Proposal | None:
        if signals.text_query is None or VectorName.TEXT not in signals.spaces:
            return None
        if self._recent is None:
            ids, scores = _search(look, VectorName.TEXT, signals.text_query)
        else:
            ids, scores = self._recent.search(
                _station_key(ctx, self.name), look, VectorName.TEXT, signals.text_query,
                look.where,
            )  # fmt: skip
        mood = ctx.station.mood
        if mood.text:  # quote what the listener typed, not the encoder's trimmed words
            reason = Reason(Why.MOOD, mood.original)
        elif mood.seed_artists:
            reason = Reason(Why.SEED_ARTIST, mood.seed_artists[0])
        elif mood.seed_tracks:
            reason = Reason(Why.SEED_TRACK, mood.seed_tracks[0])
        else:
            reason = Reason(Why.MOOD, mood.original)
        return Proposal(
            self.name, ids, scores, ctx.station.tuning.style * _mood_share(signals), reason
        )


# A genre the listener names is a hard fact about what they want: it outweighs resemblance.
GENRE_WEIGHT = 2.0


class GenreSource:
    """The mood's own genre words ("hip hop", "jazz"), or the named artists' genres, as a
    filter on the text search: on theme by the catalog's labels, not only by resemblance."""

    name = "genre"

    def __init__(self, *, reuse: Reuse | None = Reuse()) -> None:
        self._recent = RecentSearches(reuse=reuse) if reuse is not None else None

    def propose(self, ctx: StationContext, signals: Signals, look: Lookup) -> Proposal | None:
        if not signals.genres or VectorName.TEXT not in signals.spaces:
            return None
        query = signals.text_query
        if query is None:
            return None
        tagged = replace(look.where, genres_any=signals.genres)
        if self._recent is None:
            ids, scores = _search(look, VectorName.TEXT, query, where=tagged)
        else:
            key = _station_key(ctx, self.name)
            ids, scores = self._recent.search(key, look, VectorName.TEXT, query, tagged)
        mood = ctx.station.mood
        if signals.named_genres:
            reason = Reason(Why.GENRE, signals.named_genres[0])
        elif mood.seed_artists:
            reason = Reason(Why.SEED_ARTIST, mood.seed_artists[0])
        else:
            reason = Reason(Why.MOOD, mood.original)
        weight = ctx.station.tuning.style * GENRE_WEIGHT * _mood_share(signals)
        return Proposal(self.name, ids, scores, weight, reason)


# Human playlists whose titles read closest to the mood; each votes for its tracks with its
# title's cosine to a power (near-ties share, distant titles fade). Averaging their
# collaborative vectors instead scored R-precision 0.026 on held-out MPD titles; the vote
# scores 0.081 (wavelength eval, split seeds 7 and 11, 2026-11-27).
PLAYLIST_POOL = 50
PLAYLIST_SHARPNESS = 4.0
# Titles whose vote weighs less than this share of the best title's do not vote: ranks are
# fused, not scores, so a long tail of unrelated playlists would otherwise count in full.
PLAYLIST_MIN_SHARE = 0.1
PLAYLIST_WEIGHT = 2.5  # 1.5 → 2.5: title-only R-precision 0.072 → 0.079 (validation, seed 11)


class PlaylistSource:
    name = "playlists"

    def __init__(self, *, memo_size: int = 256) -> None:
        # A station's mood does not change between batches, nor do the playlists it matches:
        # the votes are kept per mood, and only what may not play is taken out each time.
        self._memo: dict[bytes, tuple[dict[TrackId, float], dict[TrackId, str]]] = {}
        self._memo_size = memo_size

    def _votes(self, mood: Vector, look: Lookup) -> tuple[dict[TrackId, float], dict[TrackId, str]]:
        key = mood.tobytes()
        if key in self._memo:
            return self._memo[key]
        hits = look.store.search(
            CollectionName.PLAYLISTS, using=VectorName.TEXT, vector=mood, n=PLAYLIST_POOL
        )
        votes: dict[TrackId, float] = {}
        voter: dict[TrackId, tuple[float, str]] = {}
        if hits and hits[0].score > 0:
            top = hits[0].score ** PLAYLIST_SHARPNESS
            voters = [
                (h, w)
                for h in hits
                if (w := max(h.score, 0.0) ** PLAYLIST_SHARPNESS) >= PLAYLIST_MIN_SHARE * top
            ]
            members = look.catalog.playlist_tracks(PlaylistId(h.id) for h, _ in voters)
            for hit, weight in voters:
                for track in set(members.get(PlaylistId(hit.id), ())):
                    votes[track] = votes.get(track, 0.0) + weight
                    if track not in voter or weight > voter[track][0]:
                        voter[track] = (weight, hit.id)
        if len(self._memo) >= self._memo_size:
            self._memo.clear()
        self._memo[key] = (votes, {t: pid for t, (_, pid) in voter.items()})
        return self._memo[key]

    def propose(self, ctx: StationContext, signals: Signals, look: Lookup) -> Proposal | None:
        if signals.mood_vector is None or not signals.has_playlists:
            return None
        all_votes, voter = self._votes(signals.mood_vector, look)
        excluded = ctx.never | frozenset(look.where.exclude_ids)
        votes = {t: v for t, v in all_votes.items() if t not in excluded}
        if not votes:
            return None
        ids, scores = _ranked(votes, look.pool)
        # One Reason per voting playlist, shared: 150 frozen dataclasses per batch add up.
        by_voter = {
            pid: Reason(Why.PLAYLISTS, pid, collaborative=True) for pid in {voter[t] for t in ids}
        }
        reasons = {t: by_voter[voter[t]] for t in ids}
        weight = ctx.station.tuning.style * PLAYLIST_WEIGHT * _mood_share(signals)
        return Proposal(self.name, ids, scores, weight, reasons[ids[0]], reasons)


# A name in the request is an explicit wish: it outweighs the mood words around it.
SEED_WEIGHT = 1.5


class SeedSource:
    name = "seed"

    def propose(self, ctx: StationContext, signals: Signals, look: Lookup) -> Proposal | None:
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
            ids, scores = _search(look, space, query)
            collaborative = space is VectorName.CF
            reason = (
                Reason(Why.SEED_ARTIST, next(iter(artists)), collaborative)
                if artists
                else Reason(Why.SEED_TRACK, next(iter(tracks)), collaborative)
            )
            return Proposal(self.name, ids, scores, SEED_WEIGHT, reason)
        return None


# Likes take over gradually: one like is a hint, four or more lead. Each of the strongest
# likes searches its own neighbours and the scores add up (item-kNN over the vectors): a
# listener who likes two different things gets both, where one averaged query found neither.
LIKED_WEIGHT_PER_LIKE = 0.5  # 0.75 with a cap of 3 learned slower on validation (seed 11)
LIKED_WEIGHT_CAP = 2.0
LIKED_SPARE = 50  # extra neighbours kept per liked track, for the tracks played meanwhile
LIKED_QUERIES = 6  # the strongest likes search; each search costs about a millisecond


class LikedSource:
    """Neighbours of each liked track, summed. A liked track's neighbours are the same batch
    after batch, so they are kept (per track, space and hard limits) and only tracks that may
    not play are taken out: after a reaction only a newly liked track costs a search. What was
    disliked steers the mood's queries and takes its own tracks out; it does not move these.

    ``shared``, when given, holds what other processes found (and gets what this one finds):
    a station whose batches several processes compose in turn searches each liked track once,
    not once per process."""

    name = "liked"

    def __init__(self, *, memo_size: int = 4096, shared: SharedNeighbours | None = None) -> None:
        # Per liked track: its neighbours and their cosines floored at 0, as a float64 array
        # (``top_sums`` adds them in the order and precision of a Python loop).
        self._memo: dict[tuple[object, ...], tuple[list[TrackId], np.ndarray]] = {}
        self._memo_size = memo_size
        self._shared = shared

    def _neighbours(
        self, liked: TrackId, vector: Vector, space: VectorName, look: Lookup
    ) -> tuple[list[TrackId], np.ndarray]:
        limits = replace(look.where, exclude_ids=(), exclude_artist_ids=())
        key = (liked, space, limits, look.pool)
        found = self._memo.get(key)
        if found is None:
            shared = self._shared  # "is not None": a cache may define __len__ (empty is falsy)
            shared_key = _shared_key(key, vector, look.version) if shared is not None else ""
            if shared is not None:
                found = shared.get(shared_key)
            if found is None:
                # A little deeper than the pool: later batches take played tracks out of it.
                deeper = replace(look, where=limits, pool=look.pool + LIKED_SPARE)
                ids, cosines = _search(deeper, space, vector)
                found = (ids, np.maximum(np.asarray(cosines, dtype=np.float64), 0.0))
                if shared is not None:
                    shared.put(shared_key, *found)
            if len(self._memo) >= self._memo_size:
                self._memo.clear()
            self._memo[key] = found
        return found

    def propose(self, ctx: StationContext, signals: Signals, look: Lookup) -> Proposal | None:
        space = VectorName.CF if signals.positives.get(VectorName.CF) else VectorName.TEXT
        positives = signals.positives.get(space, {})
        if not positives:
            return None
        weights = dict(ctx.positives)
        strongest = sorted(positives, key=lambda t: -weights[t])[:LIKED_QUERIES]
        found = [self._neighbours(liked, positives[liked], space, look) for liked in strongest]
        summed = top_sums(
            [
                (ids, weights[liked] * cosines)
                for liked, (ids, cosines) in zip(strongest, found, strict=True)
            ],
            look.pool,
            excluded=ctx.never | frozenset(look.where.exclude_ids),
        )
        if summed is None:
            return None
        ids, ranked_scores, nearest = summed
        collaborative = space is VectorName.CF
        by_like = {liked: Reason(Why.LIKED, liked, collaborative) for liked in strongest}
        reasons = {t: by_like[strongest[k]] for t, k in zip(ids, nearest, strict=True)}
        weight = ctx.station.tuning.like * min(
            LIKED_WEIGHT_CAP, LIKED_WEIGHT_PER_LIKE * signals.positive_weight
        )
        return Proposal(self.name, ids, ranked_scores, weight, reasons[ids[0]], reasons)


def _shared_key(key: tuple[object, ...], vector: Vector, version: str) -> str:
    """``LikedSource``'s memo key as text other processes can match: with the store's version
    and a digest of the liked track's vector, so neighbours found before a retrain or an
    ingest never stand in for a search after it."""
    liked, space, limits, pool = key
    digest = hashlib.blake2b(np.asarray(vector, dtype=np.float32).tobytes(), digest_size=8)
    return f"{version}|{space}|{pool}|{limits!r}|{digest.hexdigest()}|{liked}"


def default_sources(
    *, reuse: Reuse | None = Reuse(), shared: SharedNeighbours | None = None
) -> tuple[Source, ...]:
    """A fresh set of the station's sources (some keep memos tied to one store). ``reuse``
    None searches afresh for every batch (the evaluation's baseline for ``RecentSearches``);
    ``shared``: liked tracks' neighbours shared with other processes."""
    return (
        MoodSource(reuse=reuse),
        GenreSource(reuse=reuse),
        PlaylistSource(),
        SeedSource(),
        LikedSource(shared=shared),
    )
