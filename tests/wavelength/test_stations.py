"""The station service on the known-answer world: batches, reactions, privacy, sharing.

``world``, ``service``, ``user`` and ``other`` come from tests/conftest.py. Tests whose answer
depends on the random source build their own service with a fixed seed (``seeded``), so they
do not depend on which tests ran before them on the shared one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import Connection

from storage import feedback as fb
from storage import lookup
from storage.names import SqlNameIndex
from tests.support.world import World
from wavelength.domain import (
    ArtistId,
    Familiarity,
    Mood,
    Reaction,
    Steer,
    Tilt,
    Track,
    TrackId,
    Tuning,
    UserId,
)
from wavelength.stations import (
    Batch,
    DidYouMean,
    NoStation,
    NotFound,
    ReadOnly,
    StationError,
    StationService,
    default_name,
)
from wavelength.stations import _library as library_module

Seeded = Callable[[int], StationService]
UPBEAT = Steer("more upbeat", +1, (Tilt("energy", 0.5),))


@pytest.fixture(scope="module")
def names(world: World) -> SqlNameIndex:
    return SqlNameIndex.load(world.engine)


@pytest.fixture
def seeded(world: World) -> Seeded:
    """A fresh service over the world whose random source starts from ``seed``."""
    return world.service


@contextmanager
def db(world: World) -> Iterator[Connection]:
    with world.engine.connect() as conn:
        yield conn


def ids(batch: Batch) -> list[TrackId]:
    return [c.track.id for c in batch.cards]


def drain(service: StationService, user: UserId, *, limit: int = 40) -> list[Track]:
    """Every track the active station still plays for ``user``, batch after batch, until it
    runs out (the world is small: a station runs out after about a hundred tracks)."""
    seen: list[Track] = []
    for _ in range(limit):
        try:
            batch = service.next(user)
        except StationError as exc:
            assert "run out" in str(exc)
            return seen
        seen += [c.track for c in batch.cards]
    raise AssertionError(f"the station was still playing after {limit} batches")


# --- creating stations and their batches --------------------------------------------------------


def test_batches_never_repeat_a_track_on_a_station(service: StationService, user: UserId) -> None:
    first = service.create(user, "jazz for reading")
    assert first.number == 1 and len(first.cards) == 5
    assert all(c.reason for c in first.cards)
    later = [service.next(user) for _ in range(3)]
    assert [b.number for b in later] == [2, 3, 4]
    everything = (
        ids(first) + [t for b in later for t in ids(b)] + [t.id for t in drain(service, user)]
    )
    assert len(everything) == len(set(everything))
    assert len(everything) > 50  # it played most of the catalog before it ran out


def test_a_new_station_becomes_the_active_one(service: StationService, user: UserId) -> None:
    with pytest.raises(NoStation):
        service.active(user)
    jazz = service.create(user, "jazz for reading")
    assert service.active(user) == (jazz.station, False)
    metal = service.create(user, "metal workout")
    assert service.active(user) == (metal.station, False)
    listed, active = service.stations(user)
    assert [s.name for s in listed] == ["Jazz for reading", "Metal workout"]
    assert active == metal.station.id


def test_names_come_from_the_mood_and_count_up_when_taken(
    service: StationService, user: UserId
) -> None:
    made = [service.create(user, "jazz for reading").station.name for _ in range(3)]
    assert made == ["Jazz for reading", "Jazz for reading 2", "Jazz for reading 3"]
    assert service.create(user, "sleep", name="  Bedtime ").station.name == "Bedtime"


def test_a_taken_or_unusable_explicit_name_is_refused_clearly(
    service: StationService, user: UserId
) -> None:
    jazz = service.create(user, "jazz for reading")
    with pytest.raises(StationError, match='already have a station called "JAZZ for reading"'):
        service.create(user, "sleep", name=" JAZZ for reading ")
    with pytest.raises(StationError, match="won't work: a station needs a name"):
        service.create(user, "sleep", name="   ")
    with pytest.raises(StationError, match=r"won't work: .*at most 100 characters"):
        service.create(user, "sleep", name="x" * 101)
    listed, active = service.stations(user)
    assert [s.name for s in listed] == ["Jazz for reading"]  # nothing half-made
    assert active == jazz.station.id


def test_default_names_are_capitalised_and_shortened() -> None:
    assert default_name(Mood(original="  rainy   sunday jazz ", text="")) == "Rainy sunday jazz"
    long = default_name(
        Mood(original="music for a very long drive through the night hills", text="")
    )
    assert long == "Music for a very long drive through the…"
    assert default_name(Mood(original="", text="")) == "My station"


def test_the_number_of_stations_is_bounded(
    monkeypatch: pytest.MonkeyPatch, service: StationService, user: UserId, other: UserId
) -> None:
    monkeypatch.setattr(library_module, "MAX_STATIONS", 2)
    service.create(user, "jazz for reading")
    service.create(user, "sleep")
    with pytest.raises(StationError, match=r"You have 2 stations, the most I keep\. Delete one"):
        service.create(user, "metal workout")
    _, code = service.share(user, "Sleep")
    service.create(other, "rap caviar")
    service.create(other, "metal workout")
    with pytest.raises(StationError, match="You have 2 stations"):  # a copy is a station too
        service.copy(other, code)
    assert len(service.stations(user)[0]) == len(service.stations(other)[0]) == 2
    service.delete(user, "Sleep")
    assert service.create(user, "metal workout").station.name == "Metal workout"


# --- reactions ------------------------------------------------------------------------------------


def _jazz_station_until_metal(service: StationService, user: UserId) -> tuple[list[Batch], int]:
    """Batches of a jazz station up to the first that shows a metal track, and its position."""
    batches = [service.create(user, "cool jazz")]
    for _ in range(10):
        metal = [c for c in batches[-1].cards if c.track.genre == "thrash metal"]
        if metal:
            return batches, metal[0].position
        batches.append(service.next(user))
    raise AssertionError("the jazz station never showed a metal track")


@pytest.mark.parametrize("reaction", list(Reaction))
def test_every_reaction_changes_the_very_next_batch(seeded: Seeded, reaction: Reaction) -> None:
    quiet, reacting = seeded(0), seeded(0)
    a, b = quiet.user("test", "quiet"), reacting.user("test", f"reacting-{reaction}")
    before_a, position = _jazz_station_until_metal(quiet, a)
    before_b, _ = _jazz_station_until_metal(reacting, b)
    assert [ids(x) for x in before_a] == [ids(x) for x in before_b]  # same seed, same radio
    card = before_b[-1].cards[position - 1]
    reacted = reacting.react(b, reaction, [position])
    assert reacted.reaction is reaction and reacted.tracks == (card.track,)
    unchanged, changed = quiet.next(a), reacting.next(b)
    assert ids(changed) != ids(unchanged)
    if reaction is Reaction.LOVE:
        because = f'because you liked "{card.track.name}" on this station'
        assert because in [c.reason for c in changed.cards]
        assert because not in [c.reason for c in unchanged.cards]


def test_a_dislike_is_never_played_again_but_a_skip_only_leaves_its_station(
    service: StationService, user: UserId
) -> None:
    first = service.create(user, "metal workout")
    skipped, disliked = first.cards[0].track, first.cards[1].track
    service.react(user, Reaction.SKIP, [1])
    service.react(user, Reaction.DISLIKE, [2])
    again = service.create(user, "metal workout")  # another station, the same mood
    assert again.station.name == "Metal workout 2"
    played = [c.track for c in again.cards] + drain(service, user)
    assert skipped in played
    assert disliked not in played
    service.create(user, "rap caviar")  # and a different mood
    assert disliked not in drain(service, user)


def test_two_dislikes_of_one_artist_stop_it_on_the_station(
    service: StationService, user: UserId
) -> None:
    batch = service.create(user, "metal workout")
    disliked_once: set[str] = set()
    for _ in range(15):
        again = [c for c in batch.cards if c.track.artist.name in disliked_once]
        card = again[0] if again else batch.cards[0]
        reacted = service.react(user, Reaction.DISLIKE, [card.position])
        if again:
            break
        assert reacted.banned_artist is None
        disliked_once.add(card.track.artist.name)
        batch = service.next(user)
    else:
        raise AssertionError("no artist came round twice")
    artist = card.track.artist.name
    assert reacted.banned_artist == artist
    assert artist not in {t.artist.name for t in drain(service, user)}
    # The ban is this station's: another station still plays the artist's other tracks.
    service.create(user, "metal workout")
    assert artist in {t.artist.name for t in drain(service, user)}


def test_reacting_needs_a_card_that_is_there(service: StationService, user: UserId) -> None:
    with pytest.raises(NoStation):
        service.react(user, Reaction.LIKE, [1])
    service.create(user, "sleep")
    with pytest.raises(StationError, match=r"no card 9 in the last batch \(it had 5: 1–5\)"):
        service.react(user, Reaction.LIKE, [2, 9])
    assert service.history(user) == []  # nothing recorded, not even card 2
    reacted = service.react(user, Reaction.LIKE, [])  # no number: the first card
    assert len(reacted.tracks) == 1


def test_undo_takes_back_the_newest_reaction_only(
    world: World, service: StationService, user: UserId, other: UserId
) -> None:
    batch = service.create(user, "sleep")
    liked, loved = batch.cards[0].track, batch.cards[1].track
    service.react(user, Reaction.LIKE, [1])
    service.react(user, Reaction.LOVE, [2])
    service.create(other, "sleep")
    service.react(other, Reaction.LOVE, [1])  # someone else's newer reaction is not ours
    with db(world) as conn:
        assert fb.favourites(conn=conn, user=user) == [loved.id]
    undone = service.undo(user)
    assert undone is not None
    assert (undone[0].reaction, undone[0].track, undone[1]) == (Reaction.LOVE, loved.id, loved)
    with db(world) as conn:
        assert fb.favourites(conn=conn, user=user) == []
        assert len(fb.favourites(conn=conn, user=other)) == 1
    assert [(f.reaction, t) for f, t in service.history(user)] == [(Reaction.LIKE, liked)]
    second = service.undo(user)
    assert second is not None and second[0].track == liked.id
    assert service.undo(user) is None
    assert len(service.history(other)) == 1


def test_more_like_this_likes_the_card_and_plays_on(service: StationService, user: UserId) -> None:
    first = service.create(user, "jazz for reading")
    batch = service.more_like(user, 3)
    assert batch.number == 2
    assert [(f.reaction, f.track) for f, _ in service.history(user)] == [
        (Reaction.LIKE, first.cards[2].track.id)
    ]


# --- privacy and sharing -------------------------------------------------------------------------


def test_nobody_reaches_anothers_stations_by_name_or_number(
    service: StationService, user: UserId, other: UserId
) -> None:
    service.create(user, "sleep")
    service.create(user, "jazz for reading")
    own = service.create(other, "metal workout").station
    for target in ("Sleep", "sleep", "Jazz for reading", "2", "Jazz"):
        with pytest.raises(NotFound, match="You have no station called"):
            service.rename(other, "Mine", target)
        with pytest.raises(NotFound):
            service.delete(other, target)
        with pytest.raises(NotFound):
            service.share(other, target)
        with pytest.raises(NotFound):
            service.switch(other, target)
    assert [s.name for s in service.stations(user)[0]] == ["Sleep", "Jazz for reading"]
    assert service.stations(other) == ([own], own.id)


def test_a_joined_station_plays_but_cannot_be_changed(
    world: World, service: StationService, user: UserId, other: UserId
) -> None:
    sleep = service.create(user, "sleep").station
    shared, code = service.share(user)
    assert shared.id == sleep.id and service.share(user, "Sleep")[1] == code  # stable code
    joined = service.join(other, code.lower())
    assert joined.read_only and joined.station.id == sleep.id
    assert service.next(other).read_only
    with pytest.raises(ReadOnly, match=f"/copy {code} makes it yours"):
        service.react(other, Reaction.LIKE, [1])
    with pytest.raises(ReadOnly):
        service.refine(other, UPBEAT)
    with pytest.raises(ReadOnly):
        service.tune(other, like=3.0)
    with pytest.raises(ReadOnly):
        service.no_more(other, "Drift Field")
    with pytest.raises(ReadOnly):
        service.rename(other, "Mine")
    assert sleep.id not in {s.id for s in service.stations(other)[0]}
    assert service.active(user)[0] == service.active(other)[0] == shared  # untouched
    with db(world) as conn:
        assert fb.feedback_for_station(conn=conn, station=sleep.id) == []
    with pytest.raises(NotFound, match='No station is shared with the code "ZZZZZZZZ"'):
        service.join(other, "ZZZZZZZZ")


def test_joining_your_own_shared_station_is_not_read_only(
    service: StationService, user: UserId
) -> None:
    service.create(user, "sleep")
    _, code = service.share(user)
    service.create(user, "metal workout")
    joined = service.join(user, code)
    assert not joined.read_only and joined.station.name == "Sleep"
    assert service.react(user, Reaction.LIKE, [1]).reaction is Reaction.LIKE


def test_a_copy_is_the_copiers_with_the_sources_settings_and_likes(
    world: World, service: StationService, user: UserId, other: UserId
) -> None:
    first = service.create(user, "cool jazz")
    loved = {c.track.name for c in first.cards[:2]}
    disliked = first.cards[2].track
    service.react(user, Reaction.LOVE, [1, 2])
    service.react(user, Reaction.DISLIKE, [3])
    service.tune(user, like=2.0, familiarity=Familiarity.SAFE)
    service.refine(user, UPBEAT)
    source, code = service.share(user)
    service.create(other, "cool jazz")  # the copy's name must not clash with this one
    copied = service.copy(other, code)
    copy = copied.station
    assert (copy.owner, copy.name, copied.read_only) == (other, "Cool jazz 2", False)
    assert copy.id != source.id
    assert (copy.mood, copy.tuning, copy.steers) == (source.mood, source.tuning, source.steers)
    assert service.active(other) == (copy, False)
    with db(world) as conn:
        reactions = fb.feedback_for_station(conn=conn, station=copy.id)
        assert {(f.user, f.reaction, f.copied) for f in reactions} == {
            (other, Reaction.LOVE, True),
            (other, Reaction.DISLIKE, True),
        }
        assert len(reactions) == 3
        # The source owner's taste steers the copy, never the copier's own taste.
        assert fb.disliked_tracks(conn=conn, user=other) == frozenset()
        assert fb.favourites(conn=conn, user=other) == []
    assert service.history(other) == [] and service.undo(other) is None
    reasons = {c.reason for c in copied.cards}
    assert reasons & {f'because you liked "{name}" on this station' for name in loved}
    assert disliked not in drain(service, other)
    assert service.react(other, Reaction.LIKE, []).reaction is Reaction.LIKE


def test_a_copy_of_a_long_name_still_fits(
    service: StationService, user: UserId, other: UserId
) -> None:
    long = "x" * 100
    service.create(user, "sleep", name=long)
    _, code = service.share(user)
    service.create(other, "sleep", name=long.upper())
    copy = service.copy(other, code).station
    assert copy.name == "x" * 98 + " 2"


# --- stations from catalog playlists -------------------------------------------------------------


def test_a_catalog_playlist_seeds_a_station_with_its_tracks(
    world: World, seeded: Seeded, user: UserId
) -> None:
    service = seeded(0)
    with db(world) as conn:
        found = lookup.playlist_by_name(conn=conn, name="metal workout")
    assert found is not None
    pid, _, tracks = found
    first = service.from_catalog_playlist(user, "  Metal Workout ")
    station = first.station
    assert (station.name, station.seed_playlist) == ("Metal workout", pid)
    with db(world) as conn:
        likes = fb.feedback_for_station(conn=conn, station=station.id)
    assert [f.track for f in likes] == tracks
    assert {(f.reaction, f.copied) for f in likes} == {(Reaction.LIKE, True)}
    genres = Counter(
        c.track.genre for b in [first, *(service.next(user) for _ in range(3))] for c in b.cards
    )
    assert genres.most_common(1)[0][0] == "thrash metal"
    assert genres["thrash metal"] >= sum(genres.values()) / 2


def test_an_unknown_catalog_playlist_is_not_found(service: StationService, user: UserId) -> None:
    with pytest.raises(NotFound, match='no playlist called "polka for cats"'):
        service.from_catalog_playlist(user, " polka for cats ")
    assert service.stations(user) == ([], None)


# --- steering and explaining ---------------------------------------------------------------------


def test_refine_tune_and_no_more_are_kept_on_the_station(
    service: StationService, user: UserId
) -> None:
    service.create(user, "metal workout")
    refined = service.refine(user, UPBEAT)
    assert refined.station.steers == (UPBEAT,)
    assert service.active(user)[0].steers == (UPBEAT,)
    service.tune(user, like=2.5, familiarity=Familiarity.SURPRISE)
    service.tune(user, style=0.5)  # what is left out keeps its value
    assert service.active(user)[0].tuning == Tuning(
        style=0.5, like=2.5, dislike=1.0, familiarity=Familiarity.SURPRISE
    )
    name, batch = service.no_more(user, "iron noise")
    assert name == "Iron Noise"
    iron_noise = ArtistId(service.active(user)[0].banned_artists[0])
    assert service.active(user)[0].banned_artists == (iron_noise,)
    assert all(c.track.artist.name != "Iron Noise" for c in batch.cards)
    assert "Iron Noise" not in {t.artist.name for t in drain(service, user)}
    with pytest.raises(DidYouMean, match="Did you mean: Iron Noise"):
        service.no_more(user, "Irn Nose")


def test_only_the_newest_twelve_steers_are_kept(service: StationService, user: UserId) -> None:
    service.create(user, "jazz for reading")
    steers = [Steer(f"step {n}", +1) for n in range(13)]
    for steer in steers:
        service.refine(user, steer)
    assert service.active(user)[0].steers == tuple(steers[1:])


def test_why_explains_a_card_of_the_last_batch(service: StationService, user: UserId) -> None:
    with pytest.raises(NoStation):
        service.why(user, 1)
    service.create(user, "jazz for reading")
    batch = service.next(user)
    service.react(user, Reaction.LIKE, [1])
    service.react(user, Reaction.DISLIKE, [3])
    why = service.why(user, 2)
    card = batch.cards[1]
    assert (why.card.position, why.card.track, why.card.reason) == (2, card.track, card.reason)
    assert why.station.id == batch.station.id
    assert (why.liked_on_station, why.disliked_on_station) == (1, 1)
    assert service.why(user, None).card.track == batch.cards[0].track
    with pytest.raises(StationError, match=r"no card 6 in the last batch \(1–5\)"):
        service.why(user, 6)


def test_delete_needs_the_exact_name_but_switch_takes_a_part(
    service: StationService, user: UserId
) -> None:
    service.create(user, "jazz for reading")
    service.create(user, "metal workout")
    with pytest.raises(NotFound, match="Did you mean: Jazz for reading"):
        service.delete(user, "jazz")  # never delete on a guess
    assert service.switch(user, "jazz").station.name == "Jazz for reading"
    assert service.delete(user, "jazz for READING").name == "Jazz for reading"


def test_tuning_weights_are_checked_by_the_service(service: StationService, user: UserId) -> None:
    service.create(user, "sleep")
    with pytest.raises(StationError, match="between 0 and 3"):
        service.tune(user, like=7)
    with pytest.raises(StationError, match="between 0 and 3"):
        service.tune(user, dislike=-1)
    assert service.tune(user, style=3, like=0).station.tuning.like == 0


def test_no_more_twice_keeps_one_ban(service: StationService, user: UserId) -> None:
    service.create(user, "metal workout")
    service.no_more(user, "Iron Noise")
    service.no_more(user, "iron noise")
    station, _ = service.active(user)
    assert len(station.banned_artists) == 1


def test_reacting_to_a_track_from_an_older_batch(
    service: StationService, user: UserId, other: UserId
) -> None:
    """Discord and Telegram send reactions by card, even for cards several batches back."""
    first = service.create(user, "ambient")
    old = first.cards[2].track
    service.next(user)
    service.next(user)
    reacted = service.react_to_track(user, first.station.id, old.id, Reaction.LOVE)
    assert reacted.tracks == (old,)
    never_shown = next(
        t
        for t in service._composer.catalog.tracks(  # the world's metal tracks
            [TrackId(f"spotify:track:{n:022d}") for n in range(25, 49)]
        ).values()
    )
    with pytest.raises(StationError, match="wasn't played to you"):
        service.react_to_track(user, first.station.id, never_shown.id, Reaction.LIKE)
    with pytest.raises(ReadOnly, match="someone else"):
        service.react_to_track(other, first.station.id, old.id, Reaction.DISLIKE)
    with pytest.raises(NotFound):
        service.react_to_track(user, first.station.id + 10_000, old.id, Reaction.LIKE)  # type: ignore[operator]
