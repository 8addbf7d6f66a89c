"""Daily picks on the known-answer world: from what the listener liked, fresh every day."""

from __future__ import annotations

from tests.support.world import World
from wavelength.domain import Reaction, UserId
from wavelength.stations import DAILY_NAME, StationService


def test_nothing_known_means_no_picks(service: StationService, user: UserId) -> None:
    assert service.daily_picks(user) is None


def test_picks_follow_what_was_liked_and_never_repeat(
    service: StationService, user: UserId, world: World
) -> None:
    first = service.create(user, "cool jazz")
    service.react(user, Reaction.LOVE, [1, 2])
    active_before, _ = service.active(user)
    day1 = service.daily_picks(user, n=5)
    day2 = service.daily_picks(user, n=5)
    assert day1 is not None and day2 is not None
    assert day1.station.name == DAILY_NAME and day2.station.id == day1.station.id
    genres = [world.genre_of(c.track.id) for c in (*day1.cards, *day2.cards)]
    # Four genres: chance would give about 2-3 of 10. Neighbours of jazz in the playlists
    # (ambient shares playlists with it in this world) may take the rest.
    assert max(set(genres), key=genres.count) == "cool jazz" and genres.count("cool jazz") >= 5
    seen1 = {c.track.id for c in day1.cards}
    assert not seen1 & {c.track.id for c in day2.cards}  # a new day, new tracks
    assert not seen1 & {c.track.id for c in first.cards}  # nothing they just heard comes back
    assert service.active(user)[0].id == active_before.id  # their station keeps playing
    assert all(c.reason for c in day1.cards)


def test_a_disliked_track_never_comes_back_in_the_picks(
    service: StationService, user: UserId
) -> None:
    service.create(user, "metal workout")
    service.react(user, Reaction.LIKE, [1, 2, 3])
    day1 = service.daily_picks(user, n=5)
    assert day1 is not None
    gone = day1.cards[0].track.id
    service.react_to_track(user, day1.station.id, gone, Reaction.DISLIKE)
    for _ in range(3):
        later = service.daily_picks(user, n=5)
        assert later is not None and gone not in {c.track.id for c in later.cards}
