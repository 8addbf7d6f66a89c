"""MPD-format playlists in, a seeded train/test split out.

Playlists keep the order and repeats they were read with (the workspace inserts them as
``wavelength ingest playlists`` would); ``distinct`` gives the ids an evaluation scores. One
``Track`` object is kept per id, shared by every playlist that holds it, so the 5,271-playlist
sample costs its ~170k distinct tracks in memory, not its 512k rows.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ingest.files import expand_paths
from ingest.mpd import read_playlists
from ingest.pipeline import PLAYLIST_SUFFIXES
from ingest.problems import ProblemLog
from wavelength.domain import ArtistId, Playlist, Track, TrackId

# A test playlist needs a seed (5 tracks) and at least as many hidden ones.
MIN_TEST_TRACKS = 10


class DataError(ValueError):
    """The playlist folder cannot give what the evaluation asks for."""


@dataclass(frozen=True, slots=True)
class Corpus:
    folder: Path
    playlists: tuple[Playlist, ...]
    artist_of: Mapping[TrackId, ArtistId]
    files: int
    problems: int


@dataclass(frozen=True, slots=True)
class Split:
    train: tuple[Playlist, ...]
    test: tuple[Playlist, ...]
    seed: int
    qualifying: int  # playlists with MIN_TEST_TRACKS distinct tracks or more


def distinct(playlist: Playlist) -> tuple[TrackId, ...]:
    """The playlist's track ids in order, repeats dropped."""
    return tuple(dict.fromkeys(t.id for t in playlist.tracks))


def slice_files(folder: Path, *, max_files: int | None = None) -> list[Path]:
    """The MPD slice files under ``folder`` (recursively, ``.json`` or ``.json.gz``), in name
    order, the first ``max_files`` of them."""
    if not folder.is_dir():
        raise DataError(f"no folder at {folder}")
    files = expand_paths([folder], PLAYLIST_SUFFIXES, ProblemLog())
    if not files:
        raise DataError(f"no MPD slice files (*.json, *.json.gz) under {folder}")
    return files[:max_files] if max_files is not None else files


def load_mpd(folder: Path, *, max_files: int | None = None) -> Corpus:
    """Every playlist in the slices under ``folder``; unreadable ones are counted, not fatal."""
    files = slice_files(folder, max_files=max_files)
    problems = ProblemLog()
    known: dict[TrackId, Track] = {}
    playlists: list[Playlist] = []
    for path in files:
        for playlist in read_playlists(path, problems):
            shared = tuple(known.setdefault(t.id, t) for t in playlist.tracks)
            playlists.append(replace(playlist, tracks=shared))
    if not playlists:
        raise DataError(f"no playlists could be read from the slice files under {folder}")
    artist_of = {tid: t.artist.id for tid, t in known.items()}
    return Corpus(folder, tuple(playlists), artist_of, len(files), problems.total)


def split(playlists: Sequence[Playlist], *, test_size: int, seed: int) -> Split:
    """Hold out ``test_size`` playlists, drawn with ``seed`` among those with at least
    ``MIN_TEST_TRACKS`` distinct tracks; every other playlist trains. Both keep file order."""
    if test_size < 1:
        raise DataError(f"the test set needs at least 1 playlist, got {test_size}")
    qualifying = [i for i, p in enumerate(playlists) if len(distinct(p)) >= MIN_TEST_TRACKS]
    if len(qualifying) < test_size or len(playlists) - test_size < 1:
        raise DataError(
            f"only {len(qualifying)} of {len(playlists)} playlists have {MIN_TEST_TRACKS}+ "
            f"distinct tracks and some must be left to train on; lower --test-size "
            f"(asked for {test_size})"
        )
    held = set(random.Random(seed).sample(qualifying, test_size))
    return Split(
        train=tuple(p for i, p in enumerate(playlists) if i not in held),
        test=tuple(p for i, p in enumerate(playlists) if i in held),
        seed=seed,
        qualifying=len(qualifying),
    )
