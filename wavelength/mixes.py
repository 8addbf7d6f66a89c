"""The personal-mix service: daily mixes from taste centers, nostalgia mixes, organic playlist
matches and the taste map, for one user at a time.

Platform-neutral and text-light: it reads the database through ``storage.history``, vectors
through the ``VectorStore`` interface and track facts through a ``TrackCatalog``, calls the
pure core in ``recommender.mixes``, and returns frozen values the chat layer renders. Methods
are synchronous; the chat engine runs them in its thread pool.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from recommender.mixes import (
    DEFAULT_RANKER,
    Overlap,
    PairwiseRanker,
    Plays,
    Pool,
    Projection,
    Taste,
    TasteCenter,
    cold_start,
    compose_mix,
    fit_centers,
    overlap,
    playlist_features,
    rank_nostalgia,
    recency_weights,
    render_png,
    top_artists,
    user_knn,
)
from recommender.vectors import normalize_rows
from storage import feedback as fb
from storage import history as repo
from vectorstore.base import CollectionName, Filter, VectorName
from vectorstore.live import generation_of
from wavelength.domain import ArtistId, PlaylistId, Track, TrackId, UserId

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
class MixOptions:
    """The knobs, at the values ``wavelength eval-mixes`` measured (docs/evaluation.md)."""

    mix_size: int = 25
    new_share: float = 0.2
    per_artist: int = 2
    max_centers: int = 8
    min_share: float = 0.05
    min_mix_tracks: int = 5  # a center with fewer familiar tracks is no mix yet
    half_life_days: float = 30.0
    exclude_days: float = 14.0  # "nothing played in the last weeks"
    max_tracks: int = 2000  # the heaviest tracks a fit reads; the rest weigh next to nothing
    like_weight: float = 3.0  # a like counts as three plays at that moment (love, favourite: 6)
    nostalgia_size: int = 30
    nostalgia_recent_days: float = 56.0
    long_history_days: float = 365.0  # less than this, and the nostalgia reply says so
    buddies_pool: int = 50  # neighbours KNN hands the ranker
    map_tracks: int = 300


@dataclass(frozen=True, slots=True)
class MixTrack:
    track: Track
    familiar: bool  # played or liked before (else new, near the center)
    score: float


@dataclass(frozen=True, slots=True)
class Mix:
    number: int  # 1-based, heaviest center first: what the taste map's discs show
    center: int  # the center's stable id: "Daily Mix" n stays the same taste day to day
    label: str  # its top artists, "A, B & C"
    share: float  # of the listening weight
    tracks: tuple[MixTrack, ...]


@dataclass(frozen=True, slots=True)
class NostalgiaMix:
    tracks: tuple[MixTrack, ...]
    period: tuple[date, date] | None  # the part of the past this listener goes back to
    history_days: int  # how far back the timestamped history reaches
    filled: int  # tracks added as neighbours of the past taste centers
    note: str | None  # set when the history is too short to be sure (say so to the user)


@dataclass(frozen=True, slots=True)
class PlaylistMatch:
    playlist: PlaylistId | None  # None for another listener's taste
    name: str
    by: str  # "playlist corpus", or the consenting listener's name
    match: int | None  # 0-100; None for cold-start picks
    why: str
    tracks: tuple[TrackId, ...]


@dataclass(frozen=True, slots=True)
class _Taste:
    """A user's weighted listening with vectors: the input of centers, mixes and matching."""

    ids: tuple[TrackId, ...]
    artists: tuple[ArtistId, ...]
    vectors: np.ndarray
    weights: np.ndarray
    tracks: dict[TrackId, Track]
    generation: int  # of the vector store the vectors came from (read before them)


SHORT_HISTORY = (
    "Your listening history here covers only {days} days{spotify}, too little to know your "
    "past well, so this mix leans on neighbours of what you did play. For the real thing, "
    "download your extended streaming history (Spotify: Account → Privacy → Extended "
    "streaming history) and import it: `wavelength ingest history --user {name} <files>`."
)


class MixService:
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

    # -- daily mixes ------------------------------------------------------------------------

    def mixes(self, user: UserId) -> list[Mix]:
        """Today's daily mixes, heaviest taste first (empty until there is listening)."""
        now = self._clock()
        with self._engine.begin() as conn:
            taste = self._taste(conn, user, now)
            if taste is None:
                return []
            centers, labels = self._centers(conn, user, taste, now)
            excluded = self._excluded(conn, user, now)
        return self._compose(taste, centers, labels, excluded)

    def share_taste(self, user: UserId, *, on: bool) -> None:
        """Agree (or stop agreeing) that others may be matched to this user's taste."""
        with self._engine.begin() as conn:
            repo.set_sharing(conn=conn, user=user, on=on, now=self._clock())

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

    def _excluded(self, conn: Connection, user: UserId, now: datetime) -> frozenset[TrackId]:
        since = now - timedelta(days=self._options.exclude_days)
        heard = repo.heard_since(conn=conn, user=user, since=since)
        return heard | fb.disliked_tracks(conn=conn, user=user)

    def _compose(
        self,
        taste: _Taste,
        centers: Sequence[TasteCenter],
        labels: Sequence[str],
        excluded: frozenset[TrackId],
    ) -> list[Mix]:
        o = self._options
        assigned = np.argmax(taste.vectors @ np.asarray([c.vector for c in centers]).T, axis=1)
        known = set(taste.ids)
        out: list[Mix] = []
        for k, (center, label) in enumerate(zip(centers, labels, strict=True)):
            rows = np.flatnonzero(assigned == k)
            if center.share < o.min_share or len(rows) < o.min_mix_tracks:
                continue
            familiar = Pool.of(
                [taste.ids[i] for i in rows],
                [taste.artists[i] for i in rows],
                taste.vectors[rows],
                taste.weights[rows],
            )
            fresh, facts = self._fresh(center.vector, known | excluded)
            items = compose_mix(
                center.vector,
                familiar=familiar,
                fresh=fresh,
                n=o.mix_size,
                new_share=o.new_share,
                per_artist=o.per_artist,
                exclude=excluded,
            )
            tracks = {**taste.tracks, **facts}
            picked = tuple(
                MixTrack(tracks[TrackId(i.track)], i.familiar, i.score)
                for i in items
                if TrackId(i.track) in tracks
            )
            out.append(Mix(len(out) + 1, center.id, label, center.share, picked))
        return out

    def _fresh(self, center: Vector, skip: Iterable[TrackId]) -> tuple[Pool, dict[TrackId, Track]]:
        """Tracks nearest ``center`` in the collaborative space that the user never had."""
        o = self._options
        banned = set(skip)
        hits = self._store.search(
            CollectionName.TRACKS,
            using=self._space(),
            vector=center,
            n=min(o.mix_size * 4 + len(banned), MAX_SEARCH),
            where=self._own(),
        )
        ids = [TrackId(h.id) for h in hits if h.id not in banned][: o.mix_size * 4]
        vectors = self._vectors(ids)
        facts = self._catalog.tracks([t for t in ids if t in vectors])
        kept = [t for t in ids if t in vectors and t in facts]
        if not kept:
            return Pool.of([], [], np.zeros((0, len(center)), np.float32)), {}
        pool = Pool.of(kept, [facts[t].artist.id for t in kept], [vectors[t] for t in kept])
        return pool, facts

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

    # -- nostalgia --------------------------------------------------------------------------

    def nostalgia(self, user: UserId) -> NostalgiaMix:
        """Tracks the user played a lot a while ago and not lately, topped up with neighbours
        of their past taste centers; with a note when the history is too short to be sure."""
        o = self._options
        now = self._clock()
        with self._engine.begin() as conn:
            events = [
                x
                for x in repo.listens(conn=conn, user=user)
                if x.source in repo.PLAY_SOURCES or x.source == "spotify_saved"
            ]
            disliked = fb.disliked_tracks(conn=conn, user=user)
            excluded = disliked | repo.heard_since(
                conn=conn, user=user, since=now - timedelta(days=o.nostalgia_recent_days)
            )
            name = repo.user_name(conn=conn, user=user)
        index: dict[TrackId, int] = {}
        items = [index.setdefault(x.track, len(index)) for x in events]
        ids = list(index)
        plays = Plays.of(items, [x.at.timestamp() for x in events])
        # Only real plays say how far back the history reaches: a save has its own date.
        played = [x.at for x in events if x.source in repo.PLAY_SOURCES]
        days = (max(played) - min(played)).days if played else 0
        picked_rows, _, period = rank_nostalgia(
            plays, now.timestamp(), n=o.nostalgia_size * 2, recent_days=o.nostalgia_recent_days
        )
        chosen = [ids[i] for i in picked_rows.tolist() if ids[i] not in excluded]
        facts = self._catalog.tracks(chosen)
        picks = [MixTrack(facts[t], True, 1.0) for t in chosen if t in facts]
        picks = _cap(picks, o.per_artist)[: o.nostalgia_size]
        filled = 0
        if len(picks) < o.nostalgia_size:
            old = [x.track for x in events if (now - x.at).days >= o.nostalgia_recent_days]
            extra = self._neighbours(old, set(ids) | excluded, o.nostalgia_size - len(picks), picks)
            filled = len(extra)
            picks += extra
        note = None
        if days < o.long_history_days:
            spotify = any(x.source.startswith("spotify") for x in events)
            note = SHORT_HISTORY.format(
                days=days,
                spotify=" (Spotify shares only your last 50 plays)" if spotify else "",
                name=name,
            )
        span = None
        if period is not None:
            span = (
                datetime.fromtimestamp(period.start, UTC).date(),
                datetime.fromtimestamp(period.end, UTC).date(),
            )
        return NostalgiaMix(tuple(picks), span, days, filled, note)

    def _neighbours(
        self, old: Sequence[TrackId], skip: set[TrackId], want: int, have: Sequence[MixTrack]
    ) -> list[MixTrack]:
        """Neighbours of the centers of the user's older listening (retrieval through the past
        taste centers), none already chosen, played lately or disliked."""
        counts: dict[TrackId, float] = defaultdict(float)
        for t in old:
            counts[t] += 1.0
        heaviest = sorted(counts, key=lambda t: (-counts[t], t))[: self._options.max_tracks]
        vectors = self._vectors(heaviest)
        rows = [t for t in heaviest if t in vectors]
        if not rows or want <= 0:
            return []
        fit = fit_centers(
            np.asarray([vectors[t] for t in rows]),
            [counts[t] for t in rows],
            max_centers=self._options.max_centers,
            min_share=self._options.min_share,
            rng=random.Random(self._seed),
        )
        taken = {m.track.id for m in have}
        per_center = max(1, math.ceil(want / max(len(fit.centers), 1)))
        out: list[MixTrack] = []
        for center in fit.centers:
            hits = self._store.search(
                CollectionName.TRACKS,
                using=self._space(),
                vector=center.vector,
                n=min(per_center * 4 + len(skip), MAX_SEARCH),
                where=self._own(),
            )
            fresh = [h for h in hits if h.id not in skip and h.id not in taken][: per_center * 4]
            facts = self._catalog.tracks(TrackId(h.id) for h in fresh)
            added = 0
            for hit in fresh:
                track = facts.get(TrackId(hit.id))
                if track is not None and added < per_center and track.id not in taken:
                    out.append(MixTrack(track, False, hit.score))
                    taken.add(track.id)
                    added += 1
        return _cap([*have, *out], self._options.per_artist)[len(have) : len(have) + want]

    # -- organic playlists ------------------------------------------------------------------

    def buddies(self, user: UserId, *, n: int = 5) -> list[PlaylistMatch]:
        """Human-made playlists (and consenting listeners' tastes) close to this user's, best
        first with a 0-100 match and why; the most followed playlists while there is no
        signal yet."""
        now = self._clock()
        with self._engine.begin() as conn:
            taste = self._taste(conn, user, now)
            if taste is None:
                return self._cold_start(conn, n)
            centers, _ = self._centers(conn, user, taste, now)
            sharing = [u for u in repo.sharing_users(conn=conn) if u != user]
            others = {u: self._taste(conn, u, now) for u in sharing}
            names = repo.display_names(conn=conn, users=sharing)
        mean = normalize_rows((taste.vectors * taste.weights[:, None]).sum(axis=0))[0]
        me = Taste.of(
            taste.ids,
            taste.artists,
            taste.vectors,
            centers=np.asarray([c.vector for c in centers]),
        )
        me = Taste(me.tracks, me.artists, mean, me.rows, me.centers)
        playlists = self._store.info(CollectionName.PLAYLISTS)
        if playlists is None or playlists.points == 0 or self._space() not in playlists.dims:
            # No playlists with vectors in this space (the text-only demo): popular ones.
            with self._engine.connect() as conn:
                return self._cold_start(conn, n)
        hits = self._store.search(
            CollectionName.PLAYLISTS, using=self._space(), vector=mean, n=self._options.buddies_pool
        )
        pids = [PlaylistId(h.id) for h in hits]
        members = self._catalog.playlist_tracks(pids)
        titles = self._catalog.playlist_names(pids)
        with self._engine.connect() as conn:
            follow = repo.followers(conn=conn, ids=pids)
        candidates: list[tuple[PlaylistMatch, Taste, int]] = []
        for pid in pids:
            tracks = members.get(pid, ())
            if not tracks:
                continue
            facts = self._catalog.tracks(tracks)
            vectors = self._vectors(list(tracks))
            rows = [vectors[t] for t in tracks if t in vectors]
            candidate = Taste.of(
                tracks, {facts[t].artist.id for t in tracks if t in facts}, rows or None
            )
            base = PlaylistMatch(
                pid, titles.get(pid, str(pid)), "playlist corpus", None, "", tracks
            )
            candidates.append((base, candidate, follow.get(pid, 0)))
        mates = [(u, t) for u, t in others.items() if t is not None]
        if mates:
            owners = np.asarray(
                [normalize_rows((t.vectors * t.weights[:, None]).sum(axis=0))[0] for _, t in mates]
            )
            near, _ = user_knn(mean, owners, n=self._options.buddies_pool)
            for i in near.tolist():
                other, theirs = mates[i]
                top = theirs.ids[:50]
                candidate = Taste.of(top, set(theirs.artists[:50]), theirs.vectors[:50])
                who = names.get(other, "a Wavelength listener")
                base = PlaylistMatch(None, f"{who}'s favourites", who, None, "", top)
                candidates.append((base, candidate, 0))
        if not candidates:
            with self._engine.connect() as conn:
                return self._cold_start(conn, n)
        x = playlist_features(me, [c[1] for c in candidates], [c[2] for c in candidates])
        order, _ = self._ranker.rank(x)
        match = self._ranker.match(x)
        out = []
        for i in order[:n].tolist():
            base, candidate, _ = candidates[i]
            out.append(
                PlaylistMatch(
                    base.playlist,
                    base.name,
                    base.by,
                    round(float(match[i])),
                    _why(overlap(me, candidate)),
                    base.tracks,
                )
            )
        return out

    def _cold_start(self, conn: Connection, n: int) -> list[PlaylistMatch]:
        top = repo.most_followed(conn=conn, n=n)
        members = self._catalog.playlist_tracks([p for p, _ in top])
        titles = self._catalog.playlist_names([p for p, _ in top])
        order = cold_start([f for _, f in top])
        return [
            PlaylistMatch(
                top[i][0],
                titles.get(top[i][0], str(top[i][0])),
                "playlist corpus",
                None,
                f"one of the most followed playlists ({top[i][1]:,} followers); react to a few "
                "tracks and these become yours",
                members.get(top[i][0], ()),
            )
            for i in order.tolist()
        ]

    # -- taste map --------------------------------------------------------------------------

    def taste_map_png(self, user: UserId) -> bytes:
        """A PNG: the user's heaviest recent tracks in 2-D, coloured by taste center, with the
        centers as numbered discs (numbers as in ``mixes``). A blank map before any signal."""
        now = self._clock()
        with self._engine.begin() as conn:
            taste = self._taste(conn, user, now)
            if taste is None:
                return render_png(np.zeros((0, 2)), [], np.zeros((0, 2)))
            centers, _ = self._centers(conn, user, taste, now)
        shown = list(range(min(len(taste.ids), self._options.map_tracks)))
        vectors = taste.vectors[shown]
        c = np.asarray([x.vector for x in centers])
        groups = np.argmax(vectors @ c.T, axis=1).tolist()
        projection = Projection.fit(vectors, taste.weights[shown])
        return render_png(projection.apply(vectors), groups, projection.apply(c))


def _center(c: repo.StoredCenter) -> TasteCenter:
    return TasteCenter(c.id, np.asarray(c.vector, dtype=np.float32), c.weight, c.share)


def _cap(picks: Sequence[MixTrack], per_artist: int) -> list[MixTrack]:
    seen: dict[ArtistId, int] = defaultdict(int)
    out = []
    for m in picks:
        if seen[m.track.artist.id] < per_artist:
            seen[m.track.artist.id] += 1
            out.append(m)
    return out


def _why(o: Overlap) -> str:
    """The reason a match shows: "shares 14 artists with you, adds 23 you haven't heard"."""
    parts = []
    if o.shared_artists:
        parts.append(f"shares {o.shared_artists} artist{'s' * (o.shared_artists != 1)} with you")
    if o.new_artists:
        parts.append(f"adds {o.new_artists} you haven't heard")
    if o.shared_tracks:
        parts.append(f"{o.shared_tracks} of your tracks")
    return ", ".join(parts) or "close to your taste"
