"""Each station's live reactions, kept between batches.

Every batch's context needs all of a station's reactions, and turning hundreds of rows back
into ``Feedback`` values was an eighth of a batch's time on a long-lived station. An entry is
used only while ``storage.feedback.feedback_state`` (one aggregate, no rows) says the
station's rows are the ones it was read at. When they are not, the rows above the entry's
newest id are read (after a reaction, just that one) and the entry is grown by them only if
that accounts for the new state exactly; anything else (an undo, a merge) reads all again.
The check is a query, not bookkeeping, because other processes write the same database.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from storage import feedback as fb
from storage.feedback import FeedbackState
from wavelength.domain import Feedback, StationId

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

Entry = tuple[FeedbackState, tuple[Feedback, ...]]


class FeedbackMemo:
    def __init__(self, *, size: int = 10_000, rows: int = 200_000) -> None:
        """At most ``size`` stations and ``rows`` reactions in all (about 50 MB); the entries
        stored longest ago go first."""
        self._memo: dict[StationId, Entry] = {}
        self._held = 0
        self._lock = threading.Lock()
        self._size = size
        self._rows = rows

    def read(
        self, conn: Connection, station: StationId, *, remember: bool = True
    ) -> tuple[Feedback, ...]:
        """The station's live reactions, oldest first, as ``feedback_for_station`` reads
        them. ``remember=False`` where ``conn`` may hold uncommitted writes: a rollback frees
        their ids on SQLite, so a state that counted them could match different rows later."""
        # The state first: on PostgreSQL each statement sees its own snapshot, and rows read
        # after the state can only be newer than it, which makes the next check fail, never
        # pass wrongly.
        state = fb.feedback_state(conn=conn, station=station)
        held = self.get(station)
        if held is not None and held[0] == state:
            return held[1]
        found: tuple[Feedback, ...] | None = None
        if state.rows == state.undone:
            found = ()  # none live: nothing to read
        elif held is not None and held[0].newest < state.newest:
            newer = fb.feedback_for_station(conn=conn, station=station, after=held[0].newest)
            found = grown(held, state, newer)
        if found is None:
            found = tuple(fb.feedback_for_station(conn=conn, station=station))
        if remember:
            self.put(station, state, found)
        return found

    def get(self, station: StationId) -> Entry | None:
        with self._lock:
            return self._memo.get(station)

    def put(self, station: StationId, state: FeedbackState, feedback: Sequence[Feedback]) -> None:
        """Keep ``feedback`` as the live reactions at ``state``; rows newer than the state (read
        after it, as the next check would show) or more than the whole bound are not kept."""
        if len(feedback) > self._rows or any(f.id > state.newest for f in feedback):
            return
        with self._lock:
            self._drop(station)
            while self._memo and (
                len(self._memo) >= self._size or self._held + len(feedback) > self._rows
            ):
                self._drop(next(iter(self._memo)))
            self._memo[station] = (state, tuple(feedback))
            self._held += len(feedback)

    def forget(self, station: StationId) -> None:
        with self._lock:
            self._drop(station)

    def __len__(self) -> int:
        return len(self._memo)

    def _drop(self, station: StationId) -> None:
        gone = self._memo.pop(station, None)
        if gone is not None:
            self._held -= len(gone[1])


def grown(
    held: Entry, state: FeedbackState, newer: Sequence[Feedback]
) -> tuple[Feedback, ...] | None:
    """``held`` with ``newer`` (the live rows above its newest id, oldest first) when they
    account exactly for ``state``, so nothing else changed (see ``feedback_state``); else None.

    An undone row among them, a row committed late under a lower id, an undo or a merge
    elsewhere: each leaves ``state`` short of what ``held`` and ``newer`` add up to."""
    before, feedback = held
    expected = FeedbackState(
        rows=before.rows + len(newer),
        newest=max((f.id for f in newer), default=before.newest),
        undone=before.undone,
        users=before.users + sum(f.user for f in newer),
    )
    if expected != state:
        return None
    if not feedback or not newer or _order(newer[0]) > _order(feedback[-1]):
        return (*feedback, *newer)
    # A clock behind another process's can put a newer row earlier: order as the query does.
    return tuple(sorted((*feedback, *newer), key=_order))


def _order(f: Feedback) -> tuple[datetime, int]:
    return (f.at, f.id)
