"""A liked track's neighbours, shared by the processes of one data home in a SQLite file.

Where a station's batches are composed by several processes in turn (API processes behind
a proxy that pools its connections to them, a compose worker taking over a busy one's
station), each kept its own memo of a liked track's neighbours and searched the track again:
liked-track searches per round 0.61 in one process, 1.14 with every call on either of two
(``benchmarks/bench_station_hops.py``, 2026-11-28; 0.60 with this file). A search is 1-3 ms;
reading a row here 0.04 ms, writing one 0.1 ms. A client that keeps its connection stays on
one process, and then this changes nothing.

It is a cache, not data: in the data home's cache folder whatever ``DATABASE_URL`` says,
bounded (the oldest rows go), and every failure (a busy or broken file, a full disk, a row
that does not decode) is a miss, never an error for the batch being composed.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from wavelength.domain import TrackId

log = logging.getLogger(__name__)
# About 7 KB a row (200 ids and their float64 scores): 10,000 rows, about 70 MB at most.
MAX_ROWS = 10_000
PRUNE_EVERY = 500  # puts between prunes; a prune deletes down to MAX_ROWS
_SEPARATOR = "\n"  # lists holding an id with one in it are not shared


class SqliteNeighbourCache:
    def __init__(
        self, path: Path, *, max_rows: int = MAX_ROWS, prune_every: int = PRUNE_EVERY
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._max_rows = max_rows
        self._prune_every = prune_every
        self._puts = 0
        self._lock = threading.Lock()
        try:
            self._db = _open(path)
        except sqlite3.OperationalError:  # locked, read-only, gone: never "start over" on those
            raise
        except sqlite3.DatabaseError:  # not a database (a torn copy, another file): start over
            log.warning("the neighbour cache %s could not be read; starting it afresh", path)
            for stale in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                stale.unlink(missing_ok=True)
            self._db = _open(path)

    def get(self, key: str) -> tuple[list[TrackId], np.ndarray] | None:
        try:
            with self._lock:
                row = self._db.execute(
                    "SELECT ids, scores FROM neighbours WHERE key = ?", (key,)
                ).fetchone()
        except sqlite3.Error as exc:
            log.debug("neighbour cache read failed (%s): searching instead", exc)
            return None
        if row is None:
            return None
        text, blob = row
        if not isinstance(text, str) or not isinstance(blob, bytes) or len(blob) % 8:
            return None
        ids = [TrackId(t) for t in text.split(_SEPARATOR)] if text else []
        scores = np.frombuffer(blob, dtype=np.float64)
        if len(ids) != len(scores):
            return None
        return ids, scores

    def put(self, key: str, ids: Sequence[TrackId], scores: np.ndarray) -> None:
        if any(_SEPARATOR in t for t in ids) or len(ids) != len(scores):
            return
        blob = np.asarray(scores, dtype=np.float64).tobytes()
        try:
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO neighbours (key, ids, scores) VALUES (?, ?, ?)",
                    (key, _SEPARATOR.join(ids), blob),
                )
                self._puts += 1
                if self._puts % self._prune_every == 0:
                    self._prune()
        except sqlite3.Error as exc:
            log.debug("neighbour cache write failed (%s): kept nothing", exc)

    def _prune(self) -> None:
        # Ids grow with every write (REPLACE gives a new one), so the lowest are the oldest.
        self._db.execute(
            "DELETE FROM neighbours WHERE id <= (SELECT max(id) FROM neighbours) - ?",
            (self._max_rows,),
        )

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT count(*) FROM neighbours").fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _open(path: Path) -> sqlite3.Connection:
    # Processes starting together wait for each other's setup (seconds are fine at start).
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS neighbours"
            " (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, ids TEXT NOT NULL,"
            " scores BLOB NOT NULL)"
        )
        # Then a short busy timeout: a write holds the lock for about 0.1 ms, and a request
        # waiting longer on another process's write (a checkpoint) would rather drop its own.
        db.execute("PRAGMA busy_timeout=50")
    except BaseException:
        db.close()
        raise
    return db
