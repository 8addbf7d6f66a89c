"""The whole pipeline on the known-answer world (real training, real vector store)."""

from __future__ import annotations

import random

import pytest

from recommender.station import NotTrainedError, StationComposer, StationContext
from tests.support.fakes import HashingEncoder
from tests.support.world import World
from vectorstore.server import QdrantServerStore
from wavelength.domain import (
    Familiarity,
    Mood,
    Reaction,
    Station,
    StationId,
    Steer,
    Tilt,
    Tuning,
    UserId,
)


def station(text: str, *, familiarity: Familiarity = Familiarity.SAFE, **mood: object) -> Station:
    return Station(
        id=StationId(1), owner=UserId(1), name=text or "seeded",
        mood=Mood(original=text, text=text, **mood),  # type: ignore[arg-type]
        tuning=Tuning(familiarity=familiarity),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mood", "genre"),
    [("jazz for reading", "cool jazz"), ("metal workout", "thrash metal"),
     ("sleep", "ambient"), ("90s hip hop", "hip hop")],
)  # fmt: skip
def test_a_mood_gives_its_genre_with_reasons(world: World, mood: str, genre: str) -> None:
    picks = world.composer().next_batch(StationContext.build(station(mood)), n=5)
    assert [world.genre_of(p.track) for p in picks] == [genre] * 5
    assert len({p.artist for p in picks}) == 5  # one per artist in a batch of five
    assert all(p.reason for p in picks)
    assert {p.source for p in picks} <= {"mood", "playlists", "genre"}
    assert any(
        p.reason == f'matches "{mood}"'
        or p.reason.startswith("found in playlists like")
        or p.reason.endswith("as you asked")  # the genre the mood names
        for p in picks
    )


def test_balanced_batches_lean_to_the_top_band(world: World) -> None:
    # The world has six metal artists, so with one track per artist the top band of twenty
    # holds six on-theme candidates: balanced batches must favour them well above 6/20.
    composer = world.composer()
    ctx = StationContext.build(station("metal workout", familiarity=Familiarity.BALANCED))
    counts = [
        sum(
            world.genre_of(p.track) == "thrash metal"
            for p in composer.next_batch(ctx, n=5, rng=random.Random(s))
        )
        for s in range(30)
    ]
    assert sum(counts) / len(counts) > 2.2  # uniform over the band would give 1.5


def test_a_station_never_repeats_a_track(world: World) -> None:
    composer = world.composer()
    ctx = StationContext.build(station("ambient", familiarity=Familiarity.BALANCED))
    seen: list[str] = []
    for _ in range(6):
        picks = composer.next_batch(ctx, n=5, rng=random.Random(len(seen)))
        seen += [p.track for p in picks]
        ctx = ctx.after_batch(p.track for p in picks)
    assert len(seen) == len(set(seen)) == 30


def test_a_love_changes_the_very_next_batch(world: World) -> None:
    composer = world.composer()
    ctx = StationContext.build(station("jazz for reading"))
    first = composer.next_batch(ctx, n=5)
    metal = world.by_genre("thrash metal")[0]
    ctx = ctx.after_batch(p.track for p in first).with_feedback(
        metal.id, Reaction.LOVE, artist=metal.artist.id
    )
    ctx = ctx.with_feedback(world.by_genre("thrash metal")[5].id, Reaction.LIKE)
    after = composer.next_batch(ctx, n=5)
    liked = [p for p in after if p.source == "liked"]
    assert liked, "the liked source must contribute once there are likes"
    assert any(world.genre_of(p.track) == "thrash metal" for p in after)
    assert all(p.reason.startswith("because you liked") for p in liked)
    assert any(
        metal.name in p.reason or "Iron Noise" in p.reason or "liked" in p.reason for p in liked
    )


def test_dislikes_never_return_and_two_stop_the_artist(world: World) -> None:
    composer = world.composer()
    ctx = StationContext.build(station("metal workout"))
    first = composer.next_batch(ctx, n=5)
    target = first[0]
    ctx = ctx.after_batch([]).with_feedback(target.track, Reaction.DISLIKE, artist=target.artist)
    again = composer.rank(ctx, n=60)[0]
    assert target.track not in again
    other = next(
        t for t in world.tracks.values() if t.artist.id == target.artist and t.id != target.track
    )
    ctx = ctx.with_feedback(other.id, Reaction.DISLIKE, artist=other.artist.id)
    ranked, _ = composer.rank(ctx, n=90)
    assert all(world.tracks[t].artist.id != target.artist for t in ranked)


def test_limits_years_explicit_and_no_vocals(world: World) -> None:
    composer = world.composer()
    old = composer.rank(StationContext.build(station("music", year_min=1950, year_max=1969)), n=50)[
        0
    ]
    assert old and all(1950 <= (world.tracks[t].year or 0) <= 1969 for t in old)
    clean = composer.rank(StationContext.build(station("90s hip hop", explicit=False)), n=50)[0]
    assert clean and all(world.tracks[t].explicit is not True for t in clean)
    quiet = composer.rank(StationContext.build(station("90s hip hop", instrumental=True)), n=50)[0]
    assert all(world.genre_of(t) != "hip hop" for t in quiet)  # rap has vocals


def test_tilts_and_steers_move_the_ranking(world: World) -> None:
    composer = world.composer()

    def mean_energy(s: Station) -> float:
        ids, _ = composer.rank(StationContext.build(s), n=10)
        return sum(world.tracks[t].features.energy or 0 for t in ids) / len(ids)

    plain = station("jazz for reading metal workout")
    calmer = station("jazz for reading metal workout", tilts=(Tilt("energy", -1.0),))
    assert mean_energy(calmer) < mean_energy(plain)
    steered = Station(
        id=plain.id, owner=plain.owner, name="s", mood=plain.mood, tuning=plain.tuning,
        steers=(Steer("thrash metal gym", 1, (Tilt("energy", 1.0),)),),
    )  # fmt: skip
    assert mean_energy(steered) > mean_energy(plain)


def test_named_artists_seed_a_station(world: World) -> None:
    artist = world.by_artist("Iron Noise")[0].artist
    seeded = station("", seed_artists=(artist.id,))
    picks = world.composer().next_batch(StationContext.build(seeded), n=5)
    assert sum(world.genre_of(p.track) == "thrash metal" for p in picks) >= 4
    assert any("Iron Noise" in p.reason for p in picks)


def test_rank_returns_ids_and_descending_scores(world: World) -> None:
    ids, scores = world.composer().rank(StationContext.build(station("sleep")), n=20)
    assert len(ids) == len(scores) == 20 and len(set(ids)) == 20
    assert list(scores) == sorted(scores, reverse=True)
    with pytest.raises(ValueError, match="at least 1"):
        world.composer().rank(StationContext.build(station("sleep")), n=0)
    with pytest.raises(ValueError, match="1 to 50"):
        world.composer().next_batch(StationContext.build(station("sleep")), n=0)


def test_text_only_catalog_still_composes_and_learns(text_world: World) -> None:
    composer = text_world.composer()
    ctx = StationContext.build(station("jazz for reading"))
    first = composer.next_batch(ctx, n=5)
    assert [text_world.genre_of(p.track) for p in first] == ["cool jazz"] * 5
    # No collaborative vectors: titles still vote, and the text space does the rest.
    assert {p.source for p in first} <= {"mood", "playlists"}
    ambient = text_world.by_genre("ambient")
    for t in ambient[:3]:
        ctx = ctx.with_feedback(t.id, Reaction.LOVE, artist=t.artist.id)
    after = composer.next_batch(ctx.after_batch(p.track for p in first), n=5)
    assert any(text_world.genre_of(p.track) == "ambient" for p in after)
    assert any(p.source == "liked" for p in after)


def test_an_untrained_store_says_so(world: World) -> None:
    empty = QdrantServerStore.local()
    try:
        composer = StationComposer(store=empty, encoder=HashingEncoder(), catalog=world.catalog)
        with pytest.raises(NotTrainedError, match="wavelength train"):
            composer.next_batch(StationContext.build(station("jazz")), n=5)
    finally:
        empty.close()


def test_genre_words_come_from_the_mood_text_not_the_names(world: World) -> None:
    """ "like Daft Punk" names an artist, not punk: names are taken out before genres."""
    composer = world.composer()
    iron = world.by_artist("Iron Noise")[0].artist
    named = Station(
        id=StationId(1), owner=UserId(1), name="n",
        mood=Mood(original="like Iron Noise hip hop", text="hip hop", seed_artists=(iron.id,)),
    )  # fmt: skip
    assert composer.signals(StationContext.build(named)).named_genres == ("hip hop",)
    only_name = Station(
        id=StationId(1), owner=UserId(1), name="n",
        mood=Mood(original="like Iron Noise metal", text="", seed_artists=(iron.id,)),
    )  # fmt: skip
    assert composer.signals(StationContext.build(only_name)).named_genres == ()
