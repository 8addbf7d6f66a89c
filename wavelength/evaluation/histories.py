"""Timestamped listening histories for the personal-mix evaluations: one file per listener.

Files are read with the same readers as ``wavelength ingest history`` and turned into plain
arrays (``Plays``) over one id table per listener. Listeners are named by number, never by
file: these are real people's plays, and reports carry aggregate numbers only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.files import expand_paths
from ingest.history import read_history
from ingest.pipeline import HISTORY_SUFFIXES
from ingest.problems import ProblemLog
from recommender.mixes import Plays
from wavelength.domain import ArtistId, TrackId
from wavelength.evaluation.data import DataError


@dataclass(frozen=True, slots=True, eq=False)
class Listener:
    """One history: ``plays.items`` index ``tracks`` (and ``artists``, aligned with them)."""

    label: str  # "listener 1", ... in file-name order
    plays: Plays
    tracks: tuple[TrackId, ...]
    artists: tuple[ArtistId, ...]
    problems: int

    @property
    def years(self) -> float:
        return self.plays.span_days / 365.0


def load_histories(folder: Path) -> list[Listener]:
    """Every history file under ``folder`` (recursively), one listener each, in name order."""
    if not folder.is_dir():
        raise DataError(f"no folder at {folder}")
    files = expand_paths([folder], HISTORY_SUFFIXES, ProblemLog())
    if not files:
        raise DataError(f"no history files (*.csv, *.tsv, *.txt, *.json) under {folder}")
    out = []
    for n, path in enumerate(files, 1):
        listener = read_listener(path, f"listener {n}")
        if len(listener.plays):
            out.append(listener)
    if not out:
        raise DataError(f"no plays could be read from the history files under {folder}")
    return out


def read_listener(path: Path, label: str) -> Listener:
    problems = ProblemLog()
    index: dict[TrackId, int] = {}
    artists: list[ArtistId] = []
    items: list[int] = []
    times: list[float] = []
    for event in read_history(path, problems):
        track = event.track
        row = index.get(track.id)
        if row is None:
            row = index[track.id] = len(index)
            artists.append(track.artist.id)
        items.append(row)
        times.append(event.played_at.timestamp())
    return Listener(label, Plays.of(items, times), tuple(index), tuple(artists), problems.total)


def total_plays(listeners: Sequence[Listener]) -> int:
    return sum(len(x.plays) for x in listeners)
