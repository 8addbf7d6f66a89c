"""``PlayedMemo`` and the service's use of it: what a station played is read back only when
a batch the memo didn't see was recorded, and nothing repeats either way."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event

from tests.support.world import World
from wavelength.domain import StationId, TrackId, UserId
from wavelength.played_memo import PlayedMemo

KEY = (StationId(1), UserId(2))
T = [TrackId(f"t{i}") for i in range(10)]


def test_an_entry_is_complete_only_at_its_batch_number() -> None:
    memo = PlayedMemo()
    assert memo.get(KEY, 0) is None
    memo.put(KEY, 0, [])
    assert memo.get(KEY, 0) == frozenset()
    memo.recorded(KEY, 1, T[:5])
    assert memo.get(KEY, 1) == frozenset(T[:5])
    assert memo.get(KEY, 2) is None, "a batch recorded elsewhere: read again"
    memo.recorded(KEY, 3, T[5:])  # this process missed batch 2
    assert memo.get(KEY, 3) is None


def test_a_read_older_than_the_entry_does_not_replace_it() -> None:
    """A thread that read batch 1's plays while another recorded batch 2 must not turn the
    entry back: the newest number known here is how a waiting call sees it is behind."""
    memo = PlayedMemo()
    assert memo.newest(KEY) is None
    memo.put(KEY, 1, T[:5])
    memo.recorded(KEY, 2, T[5:])
    memo.put(KEY, 1, T[:5])  # the late reader
    assert memo.newest(KEY) == 2 and memo.get(KEY, 2) == frozenset(T)


def test_past_the_read_limit_the_database_answers_again() -> None:
    memo = PlayedMemo(most=6)
    memo.put(KEY, 1, T[:5])
    memo.recorded(KEY, 2, T[5:8])
    assert memo.get(KEY, 2) is None


def test_forgetting_a_station_drops_every_listener_of_it() -> None:
    memo = PlayedMemo()
    memo.put(KEY, 1, T[:2])
    memo.put((StationId(1), UserId(3)), 1, T[:2])
    memo.put((StationId(9), UserId(2)), 1, T[:2])
    memo.forget(StationId(1))
    assert memo.get(KEY, 1) is None and memo.get((StationId(1), UserId(3)), 1) is None
    assert memo.get((StationId(9), UserId(2)), 1) == frozenset(T[:2])


def test_two_processes_on_one_station_never_repeat_a_track(world: World) -> None:
    """Two services over one database stand for two processes (the chat and the API): each
    records batches the other's memo has not seen."""
    chat, api = world.service(1), world.service(2)
    user = chat.user("test", "two-processes")
    first = chat.create(user, "jazz for reading")
    station = first.station.id
    shown = [c.track.id for c in first.cards]
    for turn in range(8):
        batch = (api if turn % 2 else chat).next(user, station=station)
        shown += [c.track.id for c in batch.cards]
    assert len(shown) == len(set(shown)) == 45


@dataclass
class PlayReads:
    """The plays a context read back: all of a station's, or only the batches after one."""

    full: int = 0
    since: int = 0

    def __call__(self, *args: Any) -> None:
        statement: str = args[2]
        if "FROM station_plays" not in statement or "max(station_plays.batch)" in statement:
            return
        if "max(station_plays.shown_at)" in statement:
            self.full += 1
        elif "station_plays.batch >" in statement:
            self.since += 1


@pytest.fixture
def play_reads(world: World) -> Iterator[PlayReads]:
    counter = PlayReads()
    event.listen(world.engine, "before_cursor_execute", counter)
    yield counter
    event.remove(world.engine, "before_cursor_execute", counter)


def test_a_process_behind_reads_only_the_batches_it_missed(
    world: World, play_reads: PlayReads
) -> None:
    """Batches alternating between two processes (two compose workers, the chat and the API):
    each one's memo is a batch behind every time, and catches up on that batch's rows, not
    the station's whole history (which grows with its age)."""
    chat, api = world.service(1), world.service(2)
    user = chat.user("test", "behind")
    station = chat.create(user, "jazz for reading").station.id
    shown: list[TrackId] = []
    for turn in range(8):
        batch = (api if turn % 2 else chat).next(user, station=station)
        shown += [c.track.id for c in batch.cards]
    assert len(shown) == len(set(shown)) == 40
    assert play_reads.full == 2, "each process reads the station whole once, at its first look"
    assert play_reads.since >= 6


def test_catching_up_past_the_read_limit_reads_the_newest_whole(
    world: World, play_reads: PlayReads
) -> None:
    chat, api = world.service(1), world.service(2)
    # A small limit stands for 2,000 plays: past it only the newest count, as read whole.
    chat._played = PlayedMemo(most=12)
    user = chat.user("test", "past-limit")
    station = chat.create(user, "jazz for reading").station.id
    chat.next(user, station=station)  # 10 plays: within the limit
    api.next(user, station=station)  # 15 on record, a batch the chat's memo missed
    full = play_reads.full
    chat.next(user, station=station)
    assert play_reads.full == full + 1
