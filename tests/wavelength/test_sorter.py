"""The sorter service on the known-answer world: a listener who likes songs of all four
genres names four lists, labels two songs each, and gets the genres back, in every
mutual/complete combination; corrections, proposals, new likes and Spotify pushes."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from storage import catalog
from storage import feedback as fb
from storage.stations import get_or_create_user
from tests.support.world import GENRES, World
from wavelength.domain import ListeningEvent, Reaction, Track, TrackId, UserId
from wavelength.sorter import SorterError, SorterService
from wavelength.spotify_service import PushReport, SpotifyNotConfigured

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
_ids = itertools.count(1)


class RecordingSpotify:
    """Records pushes as ``SpotifyService.push`` would receive them."""

    def __init__(self) -> None:
        self.pushes: list[tuple[UserId, str, str, tuple[TrackId, ...]]] = []

    def push(
        self, user: UserId, purpose: str, name: str, description: str,
        track_ids: Sequence[TrackId],
    ) -> PushReport:  # fmt: skip
        self.pushes.append((user, purpose, name, tuple(track_ids)))
        return PushReport(purpose, f"pl{len(self.pushes)}", len(track_ids), created=True)


@pytest.fixture
def spotify() -> RecordingSpotify:
    return RecordingSpotify()


@pytest.fixture
def sorter(world: World, spotify: RecordingSpotify) -> SorterService:
    return SorterService(
        engine=world.engine, store=world.store, catalog=world.catalog, spotify=spotify,
        clock=lambda: NOW,
    )  # fmt: skip


def liker(world: World) -> tuple[UserId, dict[str, list[Track]]]:
    """A user who liked (in three ways) 10 songs of every genre; the rest is for later."""
    with world.engine.begin() as conn:
        user = get_or_create_user(
            conn=conn, provider="test", external_id=f"sorter-{next(_ids)}", display_name=None
        )
        liked: dict[str, list[Track]] = {}
        for genre in GENRES:
            songs = sorted(world.by_genre(genre), key=lambda t: t.id)[:10]
            liked[genre] = songs
            for i, t in enumerate(songs):
                at = NOW - timedelta(days=30 - i)
                if i % 3 == 0:
                    fb.add_feedback(conn=conn, user=user, station=None, track=t.id,
                                    reaction=Reaction.LIKE, now=at)  # fmt: skip
                elif i % 3 == 1:
                    fb.add_feedback(conn=conn, user=user, station=None, track=t.id,
                                    reaction=Reaction.LOVE, now=at)  # fmt: skip
                else:
                    catalog.insert_listening_events(
                        conn=conn, user_id=user, events=[ListeningEvent(track=t, played_at=at)],
                        source="spotify_saved",
                    )  # fmt: skip
    return user, liked


def label_two_each(sorter: SorterService, user: UserId, liked: dict[str, list[Track]]) -> None:
    for genre, songs in liked.items():
        for t in songs[:2]:
            sorter.label(user, t.id, genre)


@pytest.mark.parametrize(("mutual", "complete"), list(itertools.product([True, False], repeat=2)))
def test_four_genres_sort_into_four_lists(
    world: World, sorter: SorterService, mutual: bool, complete: bool
) -> None:
    user, liked = liker(world)
    state = sorter.start(user, list(GENRES), mutual=mutual, complete=complete)
    assert state.pile == 40 and not state.ready
    label_two_each(sorter, user, liked)
    assert sorter.state(user).ready
    out = sorter.split(user)
    assert [lst.name for lst in out.lists] == list(GENRES)
    # The world's 8-factor ALS space mixes the genres a little (some playlists cross over):
    # nearly every song, not every one, lands in its genre's list.
    right = total = 0
    for lst in out.lists:
        genres = [world.genre_of(s.track.id) for s in lst.songs]
        assert max(set(genres), key=genres.count) == lst.name
        assert all(0.0 <= s.confidence <= 1.0 for s in lst.songs)
        right += genres.count(lst.name)
        total += len(genres)
    assert right >= 0.85 * total
    placed = {s.track.id for lst in out.lists for s in lst.songs}
    if complete:
        assert len(placed) == 40 and out.void == ()
    else:
        assert len(placed) + len(out.void) == 40 and len(placed) >= 30


def test_a_correction_moves_the_song_at_once(world: World, sorter: SorterService) -> None:
    user, liked = liker(world)
    sorter.start(user, ["calm", "loud", "dreamy", "beats"])
    for name, genre in zip(["calm", "loud", "dreamy", "beats"], GENRES, strict=True):
        for t in liked[genre][:2]:
            sorter.label(user, t.id, name)
    song = liked["cool jazz"][5]
    assert song.id in {s.track.id for s in sorter.sublist(user, "calm").songs}
    out = sorter.correct(user, song.id, "loud")
    loud = {s.track.id: s for s in out.lists[1].songs}
    assert loud[song.id].labelled
    assert song.id not in {s.track.id for s in out.lists[0].songs}


def test_proposals_cover_the_lists_then_come_from_the_pile(
    world: World, sorter: SorterService
) -> None:
    user, liked = liker(world)
    sorter.start(user, list(GENRES))
    first = sorter.propose(user, n=4)
    assert {world.genre_of(t.id) for t in first} == set(GENRES)  # one of each, far apart
    label_two_each(sorter, user, liked)
    labelled = {t.id for songs in liked.values() for t in songs[:2]}
    later = sorter.propose(user, n=3)
    assert len(later) == 3 and not {t.id for t in later} & labelled


def test_newly_liked_songs_are_sorted_later(world: World, sorter: SorterService) -> None:
    user, liked = liker(world)
    sorter.start(user, list(GENRES))
    label_two_each(sorter, user, liked)
    assert sorter.sort_new(user) == []  # no split yet: nothing to compare with
    sorter.split(user)
    metal = sorted(world.by_genre("thrash metal"), key=lambda t: t.id)[10:12]
    with world.engine.begin() as conn:
        for t in metal:
            fb.add_feedback(conn=conn, user=user, station=None, track=t.id,
                            reaction=Reaction.LIKE, now=NOW)  # fmt: skip
    new = sorter.sort_new(user)
    assert {s.track.id for s in new} == {t.id for t in metal}
    assert all(len(s.lists) == 1 for s in new)
    assert ("thrash metal",) in {s.lists for s in new}
    assert sorter.sort_new(user) == []
    assert sorter.sort_all_new()[user] == 0


def test_lists_are_pushed_to_spotify_by_name(
    world: World, sorter: SorterService, spotify: RecordingSpotify
) -> None:
    user, liked = liker(world)
    sorter.start(user, list(GENRES))
    label_two_each(sorter, user, liked)
    reports = sorter.push(user)
    assert [r.purpose for r in reports] == [f"sort:{g}" for g in GENRES]
    assert sum(len(p[3]) for p in spotify.pushes) == 40  # mutual and complete: each song once
    assert all(p[0] == user for p in spotify.pushes)
    bare = SorterService(engine=world.engine, store=world.store, catalog=world.catalog)
    with pytest.raises(SpotifyNotConfigured):
        bare.push(user)


def test_options_and_names_persist_and_bad_requests_say_why(
    world: World, sorter: SorterService
) -> None:
    user, liked = liker(world)
    with pytest.raises(SorterError, match="no sort yet"):
        sorter.state(user)
    with pytest.raises(SorterError, match="2 to 10"):
        sorter.start(user, ["only one"])
    sorter.start(user, ["a", "b"])
    state = sorter.set_options(user, mutual=False, complete=False)
    assert (state.mutual, state.complete) == (False, False)
    assert sorter.rename(user, "a", "focus").lists == ("focus", "b")
    with pytest.raises(SorterError, match="No list called"):
        sorter.label(user, liked["ambient"][0].id, "nope")
    with pytest.raises(SorterError, match="Label at least one song"):
        sorter.split(user)
    sorter.label(user, liked["ambient"][0].id, ["focus", "b"])  # non-mutual: two lists
    assert sorter.state(user).labelled == {"focus": 1, "b": 1}
    with pytest.raises(SorterError, match="liked songs"):
        other = sorted(world.by_genre("ambient"), key=lambda t: t.id)[-1]
        sorter.label(user, other.id, "b")
