"""``wavelength train``: describe → encode → fit CF → index, from the SQL catalog into Qdrant.

Incremental where it can be: the embedding cache means a re-run encodes only descriptions that
changed, and points are upserted in place, so an interrupted run can simply be started again.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from recommender.describe import clean_tag, describe_artist, describe_playlist, describe_track
from recommender.fallback import artist_vectors, with_fallbacks
from recommender.interactions import build_interactions
from storage import training_data
from vectorstore import CollectionName, Payload, Point, VectorName
from wavelength.domain import FEATURE_NAMES, AudioFeatures

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from recommender.cf import ItemEmbedder
    from recommender.encoder import TextEncoder
    from recommender.vectors import ItemVectors
    from storage.training_data import CatalogTrack
    from vectorstore import Vector, VectorStore

Echo = Callable[[str], None]
# Every track on a playlist keeps its own CF vector: on held-out MPD playlists, swapping the
# vectors of tracks on fewer than 2 or 3 playlists for their artist's cut recall@10 from
# 0.033 to 0.024-0.026 (benchmarks/eval_cf.py, 2026-11-22). Tracks on no playlist at all
# take their artist's vector.
MIN_TRACK_SUPPORT = 1
MIN_PLAYLIST_ITEMS = 2  # a one-track playlist teaches nothing about co-occurrence


class TrainingStopped(RuntimeError):
    """``should_stop`` said so; what was written stays, and the next run completes it."""


@dataclass(slots=True)
class TrainReport:
    """What training did; updated as it goes, so another thread can show progress."""

    total_tracks: int = 0
    stage: str = "starting"
    tracks: int = 0
    artists: int = 0
    playlists: int = 0
    texts_encoded: int = 0
    texts_cached: int = 0
    cf_model: str | None = None
    cf_tracks_own: int = 0
    cf_tracks_from_artist: int = 0
    cf_artists: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        lines = [
            f"indexed {self.tracks:,} tracks, {self.artists:,} artists, "
            f"{self.playlists:,} playlists",
            f"text: {self.texts_encoded:,} encoded, {self.texts_cached:,} from cache",
        ]
        if self.cf_model:
            lines.append(
                f"cf ({self.cf_model}): {self.cf_tracks_own:,} tracks with their own vector, "
                f"{self.cf_tracks_from_artist:,} from their artist, {self.cf_artists:,} artists"
            )
        else:
            lines.append("cf: no playlists with 2+ tracks yet, text vectors only")
        lines.append(f"time: {stages}")
        return "\n".join(lines)


@dataclass(slots=True)
class _ArtistFacts:
    name: str
    genres: tuple[str, ...]
    sums: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURE_NAMES)))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURE_NAMES)))
    decades: Counter[int] = field(default_factory=Counter)
    tags: Counter[str] = field(default_factory=Counter)

    def add(self, item: CatalogTrack, tags: Sequence[str]) -> None:
        values = [getattr(item.track.features, n) for n in FEATURE_NAMES]
        for i, v in enumerate(values):
            if v is not None:
                self.sums[i] += v
                self.counts[i] += 1
        decade = item.track.decade or (item.track.year // 10 * 10 if item.track.year else None)
        if decade:
            self.decades[decade] += 1
        self.tags.update(tags)

    def mean_features(self) -> AudioFeatures | None:
        if not self.counts.any():
            return None
        means = np.divide(
            self.sums, self.counts, out=np.zeros_like(self.sums), where=self.counts > 0
        )
        known = {
            n: float(means[i]) if self.counts[i] else None for i, n in enumerate(FEATURE_NAMES)
        }
        # A mean key or mode means nothing, so those stay unset.
        return AudioFeatures(
            danceability=known["danceability"],
            energy=known["energy"],
            valence=known["valence"],
            acousticness=known["acousticness"],
            instrumentalness=known["instrumentalness"],
            speechiness=known["speechiness"],
            liveness=known["liveness"],
            tempo=known["tempo"],
            loudness=known["loudness"],
        )


class _Stage:
    def __init__(self, report: TrainReport, name: str, echo: Echo) -> None:
        self.report, self.name, self.echo = report, name, echo

    def __enter__(self) -> None:
        self.report.stage = self.name
        self.echo(f"{self.name} ...")
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.report.seconds[self.name] = time.perf_counter() - self.start


def train(
    engine: Engine,
    store: VectorStore,
    encoder: TextEncoder,
    embedder: ItemEmbedder | None,
    *,
    echo: Echo,
    progress: bool = False,
    batch_size: int = 4096,
    report: TrainReport | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> TrainReport:
    """Rebuild every vector from the catalog. ``embedder`` None skips the CF side.

    Pass ``report`` to watch progress from another thread; ``should_stop`` is asked between
    batches and ends the run with ``TrainingStopped`` (an interrupted run resumes cheaply:
    the embedding cache keeps every batch already encoded)."""
    report = report if report is not None else TrainReport()
    with engine.connect() as conn:
        with _Stage(report, "read", echo):
            tags = training_data.playlist_tags(conn=conn, clean=clean_tag)
            n_tracks = training_data.count_tracks(conn=conn)
            report.total_tracks = n_tracks
        if n_tracks == 0:
            raise ValueError(
                "the catalog is empty: ingest tracks or playlists first "
                "(wavelength ingest --help), or start `wavelength run` once to load the demo catalog"
            )
        cf_tracks: ItemVectors | None = None
        cf_artists: ItemVectors | None = None
        if embedder is not None:
            with _Stage(report, "cf", echo):
                cf_tracks, cf_artists = _fit_cf(conn, embedder, progress)
            if cf_tracks is not None:
                report.cf_model = embedder.name
        _ensure(store, encoder, cf_tracks)
        # closing(): a stop or an error mid-way closes the stream while ``conn`` is ours.
        with _Stage(report, "tracks", echo), closing(training_data.iter_tracks(conn=conn)) as rows:
            artists = _index_tracks(
                rows, store, encoder, tags, cf_tracks, cf_artists,
                report=report, total=n_tracks, progress=progress, batch_size=batch_size,
                should_stop=should_stop,
            )  # fmt: skip
        with _Stage(report, "artists", echo):
            _index_artists(store, encoder, artists, cf_artists, report, progress)
        with _Stage(report, "playlists", echo):
            _index_playlists(conn, store, encoder, cf_tracks, report, progress, batch_size)
    with _Stage(report, "index", echo):
        for name in CollectionName:
            store.finish_bulk_load(name)
    return report


def _fit_cf(
    conn: Connection, embedder: ItemEmbedder, progress: bool
) -> tuple[ItemVectors | None, ItemVectors | None]:
    pairs = _drop_tiny_playlists(training_data.iter_playlist_items(conn=conn))
    first = next(pairs, None)
    if first is None:  # no playlist with two tracks yet: nothing to learn from
        return None, None
    interactions = build_interactions(itertools.chain([first], pairs))
    tracks = embedder.fit(interactions, progress=progress)
    track_artist = training_data.track_artists(conn=conn, ids=tracks.ids)
    artists = artist_vectors(tracks, track_artist)
    return with_fallbacks(tracks, artists, track_artist, min_support=MIN_TRACK_SUPPORT), artists


def _drop_tiny_playlists(pairs: Iterator[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    group: list[tuple[str, str]] = []
    for pair in pairs:
        if group and pair[0] != group[0][0]:
            if len(group) >= MIN_PLAYLIST_ITEMS:
                yield from group
            group = []
        group.append(pair)
    if len(group) >= MIN_PLAYLIST_ITEMS:
        yield from group


def _ensure(store: VectorStore, encoder: TextEncoder, cf: ItemVectors | None) -> None:
    """Create the collections, or reuse them when their vector sizes still fit. A run without
    CF keeps a collection that has a ``cf`` vector (its points simply go text-only)."""
    for name in CollectionName:
        info = store.info(name)
        if info is None:
            dims = {VectorName.TEXT: encoder.dim}
            if cf is not None:
                dims[VectorName.CF] = cf.dim
            store.ensure_collection(name, dims=dims)
            continue
        text_fits = info.dims.get(VectorName.TEXT) == encoder.dim
        cf_fits = cf is None or info.dims.get(VectorName.CF) == cf.dim
        if not (text_fits and cf_fits):
            have = ", ".join(f"{k}={v}" for k, v in sorted(info.dims.items()))
            want = f"text={encoder.dim}" + (f", cf={cf.dim}" if cf is not None else "")
            raise ValueError(
                f"the {name} vectors were built with other sizes ({have}; now {want}): the "
                "encoder model or cf_factors changed. Delete the vectors folder in the data "
                "home (or the collections on the Qdrant server) and run train again."
            )


def _batches(items: Iterable[CatalogTrack], size: int) -> Iterator[list[CatalogTrack]]:
    batch: list[CatalogTrack] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _encode(
    encoder: TextEncoder, texts: Sequence[str], report: TrainReport, *, progress: bool = False
) -> np.ndarray:
    before = getattr(encoder, "stats", None)
    encoded_before = before.encoded if before else 0
    vectors = encoder.encode(texts, progress=progress)
    after = getattr(encoder, "stats", None)
    fresh = (after.encoded - encoded_before) if after else len(texts)
    report.texts_encoded += fresh
    report.texts_cached += len(texts) - fresh
    return vectors


def _index_tracks(
    rows: Iterator[CatalogTrack],
    store: VectorStore,
    encoder: TextEncoder,
    tags: dict[str, tuple[str, ...]],
    cf: ItemVectors | None,
    cf_artists: ItemVectors | None,
    *,
    report: TrainReport,
    total: int,
    progress: bool,
    batch_size: int,
    should_stop: Callable[[], bool],
) -> dict[str, _ArtistFacts]:
    artists: dict[str, _ArtistFacts] = {}
    bar = _bar(total, "tracks", progress)
    for batch in _batches(rows, batch_size):
        if should_stop():
            if bar is not None:
                bar.close()
            raise TrainingStopped(f"stopped after {report.tracks:,} of {total:,} tracks")
        texts = [
            describe_track(i.track, genres=i.genres, tags=tags.get(i.track.id, ())) for i in batch
        ]
        text_vectors = _encode(encoder, texts, report)
        points = []
        for item, text_vector in zip(batch, text_vectors, strict=True):
            t = item.track
            facts = artists.get(t.artist.id)
            if facts is None:
                facts = artists[t.artist.id] = _ArtistFacts(t.artist.name, item.genres)
            facts.add(item, tags.get(t.id, ()))
            vectors: dict[VectorName, Vector] = {VectorName.TEXT: text_vector}
            borrowed: bool | None = None
            if cf is not None and t.id in cf:
                row = cf.index(t.id)
                vectors[VectorName.CF] = cf.vectors[row]
                borrowed = bool(cf.borrowed[row])
            elif cf_artists is not None and t.artist.id in cf_artists:
                # Not on any playlist, but its artist is: the artist's vector stands in.
                vectors[VectorName.CF] = cf_artists.vector(t.artist.id)
                borrowed = True
            if borrowed is not None:
                if borrowed:
                    report.cf_tracks_from_artist += 1
                else:
                    report.cf_tracks_own += 1
            genres = tuple(
                dict.fromkeys(
                    [*(g.strip() for g in (t.genre or "").split(",") if g.strip()), *item.genres]
                )
            )
            payload = Payload(
                artist_id=t.artist.id,
                genres=genres,
                year=t.year or t.decade,
                explicit=t.explicit,
                popularity=t.popularity,
                cf_borrowed=borrowed,
            )
            points.append(Point(id=t.id, vectors=vectors, payload=payload))
        store.upsert(CollectionName.TRACKS, points)
        report.tracks += len(points)
        if bar is not None:
            bar.update(len(points))
    if bar is not None:
        bar.close()
    return artists


def _index_artists(
    store: VectorStore,
    encoder: TextEncoder,
    artists: dict[str, _ArtistFacts],
    cf: ItemVectors | None,
    report: TrainReport,
    progress: bool,
) -> None:
    ids = list(artists)
    texts = []
    for aid in ids:
        facts = artists[aid]
        decades = [d for d, _ in facts.decades.most_common(3)]
        texts.append(
            describe_artist(
                facts.name,
                genres=facts.genres,
                features=facts.mean_features(),
                decades=decades,
                tags=[t for t, _ in facts.tags.most_common(5)],
            )
        )
    text_vectors = (
        _encode(encoder, texts, report, progress=progress) if texts else np.zeros((0, encoder.dim))
    )
    points = []
    for aid, text_vector in zip(ids, text_vectors, strict=True):
        facts = artists[aid]
        vectors: dict[VectorName, Vector] = {VectorName.TEXT: text_vector}
        if cf is not None and aid in cf:
            vectors[VectorName.CF] = cf.vector(aid)
            report.cf_artists += 1
        decade = facts.decades.most_common(1)[0][0] if facts.decades else None
        points.append(
            Point(
                id=aid,
                vectors=vectors,
                payload=Payload(artist_id=aid, genres=facts.genres, year=decade),
            )
        )
    store.upsert(CollectionName.ARTISTS, points)
    report.artists = len(points)


def _index_playlists(
    conn: Connection,
    store: VectorStore,
    encoder: TextEncoder,
    cf: ItemVectors | None,
    report: TrainReport,
    progress: bool,
    batch_size: int,
) -> None:
    members: dict[str, list[int]] = defaultdict(list)
    if cf is not None:
        for pid, tid in training_data.iter_playlist_items(conn=conn):
            if tid in cf:
                members[pid].append(cf.index(tid))
    batch: list[training_data.PlaylistText] = []

    def flush() -> None:
        texts = [describe_playlist(p.name, p.description) for p in batch]
        text_vectors = _encode(encoder, texts, report, progress=progress)
        points = []
        for p, text_vector in zip(batch, text_vectors, strict=True):
            vectors: dict[VectorName, Vector] = {VectorName.TEXT: text_vector}
            if cf is not None and members.get(p.id):
                mean = cf.vectors[members[p.id]].mean(axis=0)
                norm = float(np.linalg.norm(mean))
                if norm > 0:
                    vectors[VectorName.CF] = (mean / norm).astype(np.float32)
            points.append(
                Point(id=p.id, vectors=vectors, payload=Payload(popularity=p.num_followers))
            )
        store.upsert(CollectionName.PLAYLISTS, points)
        report.playlists += len(points)

    with closing(training_data.iter_playlists(conn=conn)) as playlists:
        for playlist in playlists:
            batch.append(playlist)
            if len(batch) >= batch_size:
                flush()
                batch = []
    if batch:
        flush()


def _bar(total: int, unit: str, show: bool) -> Any:
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=unit, smoothing=0.1)
