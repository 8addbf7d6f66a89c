"""The mix service on the known-answer world: a jazz listener gets jazz mixes, a listener who
played metal years ago gets metal nostalgia, playlists match the taste, and so on."""

from __future__ import annotations

import itertools
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from storage import catalog
from storage import feedback as fb
from storage.models import PlaylistRow
from storage.stations import get_or_create_user
from tests.support.world import GENRES, World
from wavelength.domain import ListeningEvent, Reaction, Track, UserId
from wavelength.mixes import Mix, MixOptions, MixService

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)
JAZZ, METAL, AMBIENT = "cool jazz", "thrash metal", "ambient"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def followed(world: World) -> World:
    """The world with follower counts: playlist mpd:N has N * 10 followers."""
    with world.engine.begin() as conn:
        for pid in range(80):
            conn.execute(
                update(PlaylistRow)
                .where(PlaylistRow.id == f"mpd:{pid}")
                .values(num_followers=pid * 10)
            )
    return world


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def mixes(followed: World, clock: Clock) -> MixService:
    return MixService(
        engine=followed.engine,
        store=followed.store,
        catalog=followed.catalog,
        clock=clock,
        options=MixOptions(mix_size=10, nostalgia_size=12),
    )


def new_user(world: World) -> UserId:
    with world.engine.begin() as conn:
        return get_or_create_user(
            conn=conn, provider="test", external_id=f"mixer-{next(_ids)}", display_name=None
        )


def listen(
    world: World,
    user: UserId,
    tracks: Iterable[Track],
    *,
    days_ago: Iterable[float],
    source: str = "import",
) -> None:
    events = [
        ListeningEvent(track=t, played_at=NOW - timedelta(days=d)) for t in tracks for d in days_ago
    ]
    with world.engine.begin() as conn:
        catalog.insert_listening_events(conn=conn, user_id=user, events=events, source=source)


def genres(world: World, tracks: Iterable[Track]) -> set[str]:
    return {world.genre_of(t.id) for t in tracks}


def test_a_jazz_listener_gets_jazz_mixes_by_the_rules(followed: World, mixes: MixService) -> None:
    user = new_user(followed)
    jazz = followed.by_genre(JAZZ)
    listen(followed, user, jazz[:16], days_ago=[20, 30, 40, 50])
    listen(followed, user, jazz[16:18], days_ago=[2])  # played this week: not in a mix
    with followed.engine.begin() as conn:
        fb.add_feedback(
            conn=conn, user=user, station=None, track=jazz[0].id, reaction=Reaction.DISLIKE, now=NOW
        )
    found = mixes.mixes(user)
    assert found, "a jazz history makes at least one mix"
    tracks = [m.track for mix in found for m in mix.tracks]
    assert genres(followed, tracks) == {JAZZ}
    assert jazz[0].id not in {t.id for t in tracks}  # disliked
    assert not {jazz[16].id, jazz[17].id} & {t.id for t in tracks}  # played lately
    for mix in found:
        per_artist = Counter(m.track.artist.id for m in mix.tracks)
        assert max(per_artist.values()) <= 2
        assert any(name in mix.label for name in GENRES[JAZZ]["artists"])  # type: ignore[attr-defined]
    assert any(not m.familiar for mix in found for m in mix.tracks)  # some new ones too


def test_two_tastes_make_separate_mixes(followed: World, mixes: MixService) -> None:
    user = new_user(followed)
    listen(followed, user, followed.by_genre(JAZZ)[:12], days_ago=[20, 25, 30])
    listen(followed, user, followed.by_genre(METAL)[:12], days_ago=[22, 27])
    found = mixes.mixes(user)
    kinds = [genres(followed, [m.track for m in mix.tracks]) for mix in found]
    assert all(len(k) == 1 for k in kinds)  # no mix mixes the two
    assert set().union(*kinds) == {JAZZ, METAL}
    assert kinds[0] == {JAZZ}  # jazz was played more: the heaviest mix comes first
    assert [m.number for m in found] == list(range(1, len(found) + 1))


def by_genre(world: World, found: list[Mix]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for mix in found:
        out.setdefault(genres(world, [m.track for m in mix.tracks]).pop(), set()).add(mix.center)
    return out


def test_mixes_stay_put_from_day_to_day(followed: World, mixes: MixService, clock: Clock) -> None:
    user = new_user(followed)
    listen(followed, user, followed.by_genre(JAZZ)[:12], days_ago=[20, 25])
    listen(followed, user, followed.by_genre(AMBIENT)[:12], days_ago=[21, 26])
    day1 = by_genre(followed, mixes.mixes(user))
    assert set(day1) == {JAZZ, AMBIENT}
    assert by_genre(followed, mixes.mixes(user)) == day1  # the same day: the stored centers
    clock.now = NOW + timedelta(days=1)
    listen(followed, user, followed.by_genre(AMBIENT)[12:16], days_ago=[-0.5])  # more ambient
    assert by_genre(followed, mixes.mixes(user)) == day1


def test_nostalgia_brings_back_what_was_played_years_ago(
    followed: World, mixes: MixService
) -> None:
    user = new_user(followed)
    metal = followed.by_genre(METAL)
    metal = metal[::3]  # two per artist at most: the mix's artist cap keeps them all
    listen(followed, user, metal[:8], days_ago=[800 + d for d in range(0, 60, 5)])
    listen(followed, user, followed.by_genre(JAZZ)[:10], days_ago=[3, 10, 20])
    mix = mixes.nostalgia(user)
    assert mix.note is None and mix.history_days >= 800
    own = [m.track for m in mix.tracks if m.familiar]
    assert {t.id for t in own} <= {t.id for t in metal[:8]} and len(own) >= 6
    assert mix.filled == len(mix.tracks) - len(own) > 0  # topped up with neighbours
    filled = [m.track for m in mix.tracks if not m.familiar]
    assert genres(followed, filled) <= {METAL}  # through the past taste center: metal
    jazz_recent = {t.id for t in followed.by_genre(JAZZ)[:10]}
    assert not jazz_recent & {m.track.id for m in mix.tracks}


def test_a_fresh_spotify_link_gets_an_honest_note(followed: World, mixes: MixService) -> None:
    user = new_user(followed)
    listen(
        followed, user, followed.by_genre(AMBIENT)[:10], days_ago=[1, 2, 5], source="spotify_recent"
    )
    mix = mixes.nostalgia(user)
    assert mix.note is not None
    assert "Spotify" in mix.note and "wavelength ingest history" in mix.note
    assert mix.history_days < 365


def test_buddies_cold_start_then_personal(followed: World, mixes: MixService) -> None:
    cold = new_user(followed)
    first = mixes.buddies(cold, n=3)
    assert [m.playlist for m in first] == ["mpd:79", "mpd:78", "mpd:77"]  # most followed
    assert all(m.match is None and "most followed" in m.why for m in first)

    user = new_user(followed)
    listen(followed, user, followed.by_genre(JAZZ)[:16], days_ago=[10, 20, 30])
    found = mixes.buddies(user, n=5)
    jazz_titles = set(GENRES[JAZZ]["titles"])  # type: ignore[call-overload]
    assert [m.name in jazz_titles for m in found[:3]] == [True, True, True]
    assert all(m.match is not None and 0 <= m.match <= 100 for m in found)
    assert "shares" in found[0].why and "artist" in found[0].why
    assert found[0].match >= found[-1].match  # type: ignore[operator]


def test_a_consenting_listener_can_be_matched(followed: World, mixes: MixService) -> None:
    friend = new_user(followed)
    listen(followed, friend, followed.by_genre(METAL)[:12], days_ago=[5, 10])
    mixes.share_taste(friend, on=True)
    user = new_user(followed)
    listen(followed, user, followed.by_genre(METAL)[4:16], days_ago=[6, 12])
    found = mixes.buddies(user, n=60)
    theirs = [m for m in found if m.playlist is None]
    assert len(theirs) == 1 and "favourites" in theirs[0].name
    mixes.share_taste(friend, on=False)
    assert not [m for m in mixes.buddies(user, n=60) if m.playlist is None]


def test_the_taste_map_is_a_png(followed: World, mixes: MixService) -> None:
    user = new_user(followed)
    listen(followed, user, followed.by_genre(JAZZ)[:10], days_ago=[20, 30])
    listen(followed, user, followed.by_genre(METAL)[:10], days_ago=[20])
    png = mixes.taste_map_png(user)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (480, 360)
    assert len(png) > 500
    assert mixes.mixes(new_user(followed)) == []  # no listening, no mixes
    assert mixes.taste_map_png(new_user(followed))[:8] == b"\x89PNG\r\n\x1a\n"


def test_likes_alone_make_a_taste_and_a_top_list_is_no_play(
    followed: World, mixes: MixService
) -> None:
    user = new_user(followed)
    hiphop = followed.by_genre("hip hop")
    with followed.engine.begin() as conn:
        for t in hiphop[:12]:
            fb.add_feedback(
                conn=conn,
                user=user,
                station=None,
                track=t.id,
                reaction=Reaction.LIKE,
                now=NOW - timedelta(days=3),
            )
    # Spotify's top list carries the import time: it weighs like a like, but it is not a play.
    listen(followed, user, hiphop[12:16], days_ago=[0], source="spotify_top")
    found = mixes.mixes(user)
    tracks = {m.track.id for mix in found for m in mix.tracks}
    assert found and genres(followed, [m.track for mix in found for m in mix.tracks]) == {"hip hop"}
    assert tracks & {t.id for t in hiphop[12:16]}  # not left out as "played lately"


@pytest.fixture(scope="module")
def text_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The world without collaborative vectors or playlist vectors: the bundled demo's case."""
    from tests.support.world import world_fixture

    yield from world_fixture(tmp_path_factory.mktemp("text-only"), cf=False)


def test_mixes_work_from_descriptions_when_there_is_no_collaborative_space(
    text_only: World,
) -> None:
    mixes = MixService(
        engine=text_only.engine, store=text_only.store, catalog=text_only.catalog,
        clock=Clock(), options=MixOptions(mix_size=10, nostalgia_size=12),
    )  # fmt: skip
    user = new_user(text_only)
    listen(text_only, user, text_only.by_genre(JAZZ)[:12], days_ago=[1, 2, 3])
    found = mixes.mixes(user)
    assert found and genres(text_only, [t.track for t in found[0].tracks]) == {JAZZ}
    assert mixes.taste_map_png(user).startswith(b"\x89PNG")
    assert mixes.buddies(user)  # no playlist vectors: the most followed, not an error
