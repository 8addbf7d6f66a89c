"""Compose workers (``wavelength.compose_pool``) on PostgreSQL: the production recipe's
spawned processes, each with its own connections to the same PostgreSQL database as this
process, the real MiniLM encoder, and a copy of the embedded qdrant-edge vectors."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from storage import feedback as fb
from storage.models import StationPlayRow
from tests.conftest import _reset_postgres
from tests.support.homes import trained_home
from tests.wavelength.test_compose_pool import Serving, _serving
from wavelength.domain import Reaction, StationId, UserId
from wavelength.stations import Batch

# Spawns processes (one xdist worker runs these); a worker's restart loads the encoder again.
pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("compose_pool")]


@pytest.fixture
def home(tmp_path: Path, postgres_url: str) -> Iterator[Serving]:
    _reset_postgres(postgres_url)
    settings = trained_home(
        tmp_path / "home", compose_workers=2, database_url_override=postgres_url
    )
    with _serving(settings) as served:
        yield served


def _station(home: Serving, name: str, mood: str) -> tuple[UserId, StationId, Batch]:
    user = home.service.user("test", name)
    first = home.service.create(user, mood)
    return user, first.station.id, first


def _recorded(database: Engine, station: StationId) -> dict[tuple[int, int], list[str]]:
    """What PostgreSQL holds for ``station``: (listener, batch) -> its tracks in order."""
    plays = StationPlayRow
    query = (
        select(plays.listener_id, plays.batch, plays.track_id)
        .where(plays.station_id == station)
        .order_by(plays.listener_id, plays.batch, plays.position)
    )
    shown: dict[tuple[int, int], list[str]] = {}
    with database.connect() as conn:
        for listener, batch, track in conn.execute(query):
            shown.setdefault((listener, batch), []).append(track)
    return shown


def _tracks(batch: Batch) -> list[str]:
    return [c.track.id for c in batch.cards]


def test_two_listeners_batches_from_two_workers_land_in_postgres_and_follow_reactions(
    home: Serving,
) -> None:
    asked = [_station(home, "ana", "cool jazz"), _station(home, "bo", "hip hop")]
    with ThreadPoolExecutor(2) as threads:  # both workers busy at once, one station each
        walks = list(threads.map(lambda a: [home.pool.next(a[0], a[1]) for _ in range(3)], asked))
    for (user, station, first), batches in zip(asked, walks, strict=True):
        assert [b.number for b in batches] == [2, 3, 4]
        shown = _recorded(home.database, station)
        assert shown == {(user, b.number): _tracks(b) for b in (first, *batches)}
        every = [t for tracks in shown.values() for t in tracks]
        assert len(every) == 20 and len(set(every)) == 20, "a station repeated a track"
        with home.database.connect() as conn:  # this process's own reads see the workers' batches
            assert fb.batches_shown(conn=conn, station=station, listener=user) == 4
            last = fb.last_batch(conn=conn, station=station, listener=user)
        assert [s.track for s in last] == _tracks(batches[-1])

    # Two dislikes here ban an artist; the workers' memos must notice and never play it again.
    user, station, first = asked[0]
    cards = [c for b in (first, *walks[0]) for c in b.cards]
    per_artist = Counter(c.track.artist.id for c in cards)
    artist = min((a for a, n in per_artist.items() if n >= 2), key=lambda a: per_artist[a])
    disliked = [c.track for c in cards if c.track.artist.id == artist][:2]
    for track in disliked:
        reacted = home.service.react_to_track(user, station, track.id, Reaction.DISLIKE)
    assert reacted.banned_artist == disliked[0].artist.name
    later = [home.pool.next(user, station) for _ in range(2)]
    assert [b.number for b in later] == [5, 6]
    assert artist not in {c.track.artist.id for b in later for c in b.cards}


def _waiting_on_locks(database: Engine) -> set[int]:
    """The server processes of this database waiting for a lock."""
    query = text(
        "SELECT pid FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with database.connect() as conn:
        return set(conn.execute(query).scalars())


def _until(check: Callable[[], object], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_worker_killed_mid_call_holding_a_postgres_transaction_records_nothing_twice(
    home: Serving,
) -> None:
    user, station, _first = _station(home, "cy", "ambient")
    assert home.pool.next(user, station).number == 2  # the workers hold open connections now
    pids = home.pool.pids()
    with ThreadPoolExecutor(1) as caller, home.database.connect() as blocker:
        # Reads go on, inserts wait: the worker's call stops mid-transaction, batch 3 counted.
        blocker.execute(text("LOCK TABLE station_plays IN EXCLUSIVE MODE"))
        asked = caller.submit(home.pool.next, user, station)
        _until(lambda: _waiting_on_locks(home.database), "the worker never reached its insert")
        stuck = _waiting_on_locks(home.database)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        # The call is composed here instead, and waits for the same lock beside the dead
        # worker's server process (which notices its client is gone only once it may write).
        _until(lambda: _waiting_on_locks(home.database) - stuck, "the call was not taken back")
        blocker.rollback()
        batch = asked.result(timeout=120)
    assert batch.number == 3
    numbers = [home.pool.next(user, station).number for _ in range(2)]
    assert numbers == [4, 5]
    assert home.pool.wait_ready(240), "the workers were not started again"
    assert set(home.pool.pids()).isdisjoint(pids)
    assert home.pool.next(user, station).number == 6
    shown = _recorded(home.database, station)
    assert sorted(shown) == [(user, n) for n in range(1, 7)]
    assert all(len(tracks) == 5 for tracks in shown.values()), "a batch was recorded twice"
    assert shown[(user, 3)] == _tracks(batch)
