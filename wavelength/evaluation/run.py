"""``wavelength eval`` end to end: load → split → workspace (ingest + train) → the three
evaluations → one report. Each stage is timed; the heavy parts (encoder, CF model) are
injected, so tests run the same path with a hashing encoder and a tiny ALS.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recommender.interactions import Interactions, build_interactions
from recommender.station import StationComposer
from storage.track_facts import SqlTrackCatalog
from vectorstore.base import CollectionName
from wavelength.domain import ArtistId, Playlist, TrackId
from wavelength.evaluation import continuation, data, learning, mood
from wavelength.evaluation.continuation import SeedMode
from wavelength.evaluation.rankers import ItemKnn, Popularity
from wavelength.evaluation.report import EvalReport, machine
from wavelength.evaluation.scoring import ArtistLookup, score_all
from wavelength.evaluation.workspace import Workspace, build_workspace

if TYPE_CHECKING:
    from recommender.cf import ItemEmbedder
    from recommender.encoder import TextEncoder

Echo = Callable[[str], None]
LOOKUP_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class EvalOptions:
    playlists: Path
    seed: int
    test_size: int = 500
    k: int = 100
    batches: int = 10
    seed_mode: SeedMode = SeedMode.FIRST
    tracks: tuple[Path, ...] = ()
    artists: tuple[Path, ...] = ()
    workdir: Path | None = None  # None: a temporary folder, removed afterwards
    max_files: int | None = None
    progress: bool = True

    def check(self) -> None:
        for name, value in (("test size", self.test_size), ("k", self.k)):
            if value < 1:
                raise data.DataError(f"the {name} must be at least 1, got {value}")
        if self.batches < 1:
            raise data.DataError(f"batches must be at least 1, got {self.batches}")
        if self.max_files is not None and self.max_files < 1:
            raise data.DataError(f"max files must be at least 1, got {self.max_files}")
        for path in (*self.tracks, *self.artists):
            if not path.exists():
                raise data.DataError(f"no file or folder at {path}")


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def evaluate(
    options: EvalOptions,
    *,
    encoder: TextEncoder,
    embedder: ItemEmbedder | None,
    echo: Echo,
) -> EvalReport:
    """The whole evaluation on ``options.playlists``; progress and notes go to ``echo``."""
    options.check()
    clock = _Clock()
    with clock.stage("load"):
        corpus = data.load_mpd(options.playlists, max_files=options.max_files)
    with clock.stage("split"):
        parts = data.split(corpus.playlists, test_size=options.test_size, seed=options.seed)
    echo(
        f"{len(corpus.playlists):,} playlists from {corpus.files} files: "
        f"{len(parts.train):,} train, {len(parts.test):,} test (seed {options.seed})"
    )
    inputs = _inputs(options, encoder, embedder)
    with _work_folder(options.workdir) as folder:
        space = build_workspace(
            folder, parts.train, inputs=inputs, encoder=encoder, embedder=embedder,
            tracks=options.tracks, artists=options.artists, echo=echo, progress=options.progress,
        )  # fmt: skip
        try:
            clock.seconds.update(space.seconds)
            return _evaluate(options, corpus, parts, space, encoder, embedder, clock, echo)
        finally:
            space.close()


def _evaluate(
    options: EvalOptions,
    corpus: data.Corpus,
    parts: data.Split,
    space: Workspace,
    encoder: TextEncoder,
    embedder: ItemEmbedder | None,
    clock: _Clock,
    echo: Echo,
) -> EvalReport:
    progress, k = options.progress, options.k
    train = interactions(parts.train)
    popularity = Popularity(train)
    artists = artist_lookup(corpus.artist_of, space.catalog)
    in_catalog, in_train, test_tracks = _coverage(parts.test, space.catalog, train)

    echo("mood → tracks ...")
    with clock.stage("mood"):
        rankers = mood.mood_rankers(
            store=space.store, encoder=encoder, catalog=space.catalog, popularity=popularity
        )
        mood_scores = score_all(
            rankers, mood.mood_cases(parts.test), k=k, artists=artists, progress=progress
        )
    echo("playlist continuation ...")
    with clock.stage("continuation"):
        composer = StationComposer(store=space.store, encoder=encoder, catalog=space.catalog)
        knn = ItemKnn(train, fill=popularity)
        cases = continuation.continuation_cases(parts.test, options.seed_mode)
        rankers = continuation.continuation_rankers(
            composer=composer, popularity=popularity, knn=knn
        )
        continuation_scores = score_all(rankers, cases, k=k, artists=artists, progress=progress)
    echo("learning curve ...")
    with clock.stage("learning"):
        curves = learning.learning_curves(
            composer, parts.test, batches=options.batches, seed=options.seed, progress=progress
        )
    tracks_info = space.store.info(CollectionName.TRACKS)
    return EvalReport(
        data=str(options.playlists),
        files=corpus.files,
        playlists=len(corpus.playlists),
        read_problems=corpus.problems,
        seed=options.seed,
        train=len(parts.train),
        test=len(parts.test),
        qualifying=parts.qualifying,
        k=k,
        batches=options.batches,
        seed_mode=options.seed_mode.value,
        tracks_csv=tuple(str(p) for p in options.tracks),
        artists_csv=tuple(str(p) for p in options.artists),
        workdir=str(options.workdir) if options.workdir else None,
        reused_workspace=space.reused,
        encoder=encoder.model_name,
        cf_model=embedder.name if embedder is not None else None,
        catalog_tracks=tracks_info.points if tracks_info else 0,
        test_tracks=test_tracks,
        test_tracks_in_catalog=in_catalog,
        test_tracks_in_train=in_train,
        machine=machine(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds={name: round(s, 1) for name, s in clock.seconds.items()},
        train_seconds=(
            {name: round(s, 1) for name, s in space.train_report.seconds.items()}
            if space.train_report
            else {}
        ),
        mood=tuple(mood_scores),
        continuation=tuple(continuation_scores),
        continuation_cases=len(cases),
        learning=curves,
    )


def interactions(playlists: Sequence[Playlist]) -> Interactions:
    """Who holds what among ``playlists`` (for popularity and item-kNN)."""
    return build_interactions((p.id, t) for p in playlists for t in data.distinct(p))


def artist_lookup(known: Mapping[TrackId, ArtistId], catalog: SqlTrackCatalog) -> ArtistLookup:
    """Artists from the playlists read, then from the catalog (tracks only a CSV brought)."""

    def lookup(ids: Iterable[TrackId]) -> Mapping[TrackId, ArtistId]:
        wanted = list(ids)
        out = {t: known[t] for t in wanted if t in known}
        missing = [t for t in wanted if t not in out]
        if missing:
            out.update({t: track.artist.id for t, track in catalog.tracks(missing).items()})
        return out

    return lookup


def _coverage(
    test: Sequence[Playlist], catalog: SqlTrackCatalog, train: Interactions
) -> tuple[float, float, int]:
    ids = list(dict.fromkeys(t for p in test for t in data.distinct(p)))
    if not ids:
        return 0.0, 0.0, 0
    known = 0
    for start in range(0, len(ids), LOOKUP_CHUNK):
        known += len(catalog.tracks(ids[start : start + LOOKUP_CHUNK]))
    trained = sum(t in train for t in ids)
    return known / len(ids), trained / len(ids), len(ids)


def _inputs(
    options: EvalOptions, encoder: TextEncoder, embedder: ItemEmbedder | None
) -> dict[str, Any]:
    """What a workspace's contents depend on: equal inputs, equal workspace."""
    files = data.slice_files(options.playlists, max_files=options.max_files)
    return {
        "version": 1,
        "playlists": str(options.playlists.resolve()),
        "slice_files": len(files),
        "slice_bytes": sum(f.stat().st_size for f in files),
        "seed": options.seed,
        "test_size": options.test_size,
        "tracks": [_stamp(p) for p in options.tracks],
        "artists": [_stamp(p) for p in options.artists],
        "encoder": encoder.model_name,
        "cf": embedder.name if embedder is not None else None,
    }


def _stamp(path: Path) -> list[Any]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return [str(path.resolve()), sum(f.stat().st_size for f in files)]


@contextmanager
def _work_folder(workdir: Path | None) -> Iterator[Path]:
    if workdir is not None:
        yield workdir
        return
    with tempfile.TemporaryDirectory(prefix="wavelength-eval-") as tmp:
        yield Path(tmp)
