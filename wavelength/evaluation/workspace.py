"""The evaluation's own catalog: a SQLite file and an embedded vector store in a work folder,
filled with the TRAIN playlists only (plus any track and artist CSVs) and trained by the real
``wavelength.training.train``.

Test playlists never enter this database, so neither their names (which become track tags in
the descriptions) nor their co-occurrences can reach a vector. A folder kept with
``--workdir`` is reused when it was built from the same inputs, so the engine can be evaluated
again without training again.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.pipeline import ingest_artists, ingest_tracks
from ingest.problems import ProblemLog
from storage import catalog
from storage.db import make_engine, upgrade
from storage.track_facts import SqlTrackCatalog
from vectorstore.edge import EdgeStore
from wavelength.evaluation.data import DataError
from wavelength.training import train

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ingest.pipeline import IngestReport
    from recommender.cf import ItemEmbedder
    from recommender.encoder import TextEncoder
    from wavelength.domain import Playlist
    from wavelength.training import TrainReport

Echo = Callable[[str], None]
DATABASE = "eval.db"
VECTORS = "vectors"
MARKER = "workspace.json"  # what the folder was built from; written last, after training
_OURS = frozenset({DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", VECTORS, MARKER})
PLAYLIST_BATCH = 500


@dataclass(slots=True)
class Workspace:
    folder: Path
    engine: Engine
    store: EdgeStore
    catalog: SqlTrackCatalog
    reused: bool
    train_report: TrainReport | None = None  # None when an earlier run's folder was reused
    seconds: dict[str, float] = field(default_factory=dict)

    def close(self) -> None:
        self.store.close()
        self.engine.dispose()


def build_workspace(
    folder: Path,
    train_playlists: Sequence[Playlist],
    *,
    inputs: dict[str, Any],
    encoder: TextEncoder,
    embedder: ItemEmbedder | None,
    tracks: Sequence[Path] = (),
    artists: Sequence[Path] = (),
    echo: Echo,
    progress: bool = False,
) -> Workspace:
    """A trained catalog of ``train_playlists`` in ``folder``. ``inputs`` describes everything
    the folder's contents depend on; a folder built from equal inputs is reused as it is."""
    folder.mkdir(parents=True, exist_ok=True)
    if _built_from(folder) == inputs:
        echo(f"reusing the trained workspace in {folder}")
        return _open(folder, reused=True)
    _clear(folder)
    space = _open(folder, reused=False)
    try:
        with _stage(space, "ingest"):
            _insert_playlists(space.engine, train_playlists)
            problems = ProblemLog(echo=echo)
            if tracks:
                _require(ingest_tracks(space.engine, tracks, problems=problems, progress=progress))
            if artists:
                report = ingest_artists(space.engine, artists, problems=problems, progress=progress)
                _require(report)
        with _stage(space, "train"):
            space.train_report = train(
                space.engine, space.store, encoder, embedder, echo=echo, progress=progress
            )
    except BaseException:
        space.close()
        raise
    (folder / MARKER).write_text(json.dumps(inputs, indent=2, sort_keys=True), encoding="utf-8")
    return space


def _open(folder: Path, *, reused: bool) -> Workspace:
    engine = make_engine(f"sqlite:///{folder / DATABASE}")
    upgrade(engine)
    return Workspace(
        folder, engine, EdgeStore(folder / VECTORS), SqlTrackCatalog(engine), reused=reused
    )


def _built_from(folder: Path) -> dict[str, Any] | None:
    marker = folder / MARKER
    if not (marker.is_file() and (folder / DATABASE).is_file() and (folder / VECTORS).is_dir()):
        return None
    try:
        found = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _clear(folder: Path) -> None:
    """Remove an earlier workspace; refuse a folder that holds anything else."""
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in _OURS)
    if foreign:
        raise DataError(
            f"the work folder {folder} holds other files ({', '.join(foreign[:3])}"
            f"{', ...' if len(foreign) > 3 else ''}); give --workdir an empty or new folder"
        )
    for name in _OURS:
        path = folder / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _insert_playlists(engine: Engine, playlists: Sequence[Playlist]) -> None:
    written: set[str] = set()  # tracks already upserted: popular ones recur in every batch
    for start in range(0, len(playlists), PLAYLIST_BATCH):
        batch = playlists[start : start + PLAYLIST_BATCH]
        with engine.begin() as conn:
            catalog.insert_playlists(conn=conn, playlists=batch, known_tracks=written)
        written.update(t.id for p in batch for t in p.tracks)


def _require(report: IngestReport) -> None:
    if report.nothing_read:
        raise DataError(f"nothing could be read from the {report.kind} files given")


@contextmanager
def _stage(space: Workspace, name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        space.seconds[name] = time.perf_counter() - started
