from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recommender.station.context import (
    ARTIST_DISLIKES_TO_BAN,
    RECENCY_DECAY,
    StationContext,
)
from wavelength.domain import (
    ArtistId,
    Feedback,
    Mood,
    Reaction,
    Station,
    StationId,
    TrackId,
    UserId,
)

STATION = Station(
    id=StationId(1),
    owner=UserId(1),
    name="jazz",
    mood=Mood(original="jazz", text="jazz", avoid_artists=(ArtistId("a:avoid"),)),
    banned_artists=(ArtistId("a:banned"),),
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def fb(i: int, track: str, reaction: Reaction) -> Feedback:
    return Feedback(
        id=i, user=UserId(1), station=StationId(1), track=TrackId(track), reaction=reaction,
        at=T0 + timedelta(minutes=i),
    )  # fmt: skip


def test_positives_and_negatives_are_weighted_and_newest_last() -> None:
    ctx = StationContext.build(
        STATION,
        feedback=[
            fb(1, "t1", Reaction.LIKE),
            fb(2, "t2", Reaction.LOVE),
            fb(3, "t3", Reaction.SKIP),
        ],
    )
    assert [t for t, _ in ctx.positives] == ["t1", "t2"]
    weights = dict(ctx.positives)
    # t2 is one reaction older than the newest (t3), t1 two.
    assert weights["t2"] == pytest.approx(2.0 * RECENCY_DECAY)
    assert weights["t1"] == pytest.approx(1.0 * RECENCY_DECAY**2)
    assert dict(ctx.negatives) == {"t3": pytest.approx(0.35)}
    assert "t3" in ctx.never and "t1" not in ctx.never


def test_a_later_reaction_to_the_same_track_replaces_the_earlier() -> None:
    ctx = StationContext.build(
        STATION, feedback=[fb(1, "t1", Reaction.DISLIKE), fb(2, "t1", Reaction.LOVE)]
    )
    assert [t for t, _ in ctx.positives] == ["t1"]
    assert ctx.negatives == ()
    assert "t1" not in ctx.never


def test_never_holds_played_and_disliked_anywhere() -> None:
    ctx = StationContext.build(STATION, played=[TrackId("p1")], disliked_anywhere=[TrackId("d1")])
    assert ctx.never == {"p1", "d1"}


def test_repeated_dislikes_of_one_artist_ban_it_on_the_station() -> None:
    artist_of = {TrackId(f"t{i}"): ArtistId("a:loud") for i in range(5)}
    one = StationContext.build(
        STATION, feedback=[fb(1, "t1", Reaction.DISLIKE)], artist_of=artist_of
    )
    assert "a:loud" not in one.banned_artists
    feedback = [fb(i, f"t{i}", Reaction.DISLIKE) for i in range(ARTIST_DISLIKES_TO_BAN)]
    two = StationContext.build(STATION, feedback=feedback, artist_of=artist_of)
    assert "a:loud" in two.banned_artists
    # Skips never ban an artist: a skip means "not now".
    skips = [fb(i, f"t{i}", Reaction.SKIP) for i in range(4)]
    assert (
        "a:loud"
        not in StationContext.build(STATION, feedback=skips, artist_of=artist_of).banned_artists
    )


def test_station_bans_and_avoided_artists_are_banned() -> None:
    assert StationContext.build(STATION).banned_artists == {"a:banned", "a:avoid"}


def test_folding_reactions_one_by_one_equals_building_from_the_list() -> None:
    sequence = [
        ("t1", Reaction.LIKE, "a1"), ("t2", Reaction.DISLIKE, "a2"), ("t3", Reaction.LOVE, "a1"),
        ("t4", Reaction.DISLIKE, "a2"), ("t1", Reaction.SKIP, "a1"), ("t5", Reaction.LIKE, "a3"),
    ]  # fmt: skip
    folded = StationContext.build(STATION)
    for track, reaction, artist in sequence:
        folded = folded.with_feedback(TrackId(track), reaction, artist=ArtistId(artist))
    built = StationContext.build(
        STATION,
        feedback=[fb(i, t, r) for i, (t, r, _) in enumerate(sequence)],
        artist_of={TrackId(t): ArtistId(a) for t, _, a in sequence},
    )
    assert [t for t, _ in folded.positives] == [t for t, _ in built.positives]
    assert [t for t, _ in folded.negatives] == [t for t, _ in built.negatives]
    for (_, w1), (_, w2) in zip(
        folded.positives + folded.negatives, built.positives + built.negatives, strict=True
    ):
        assert w1 == pytest.approx(w2)
    assert folded.never == built.never
    assert folded.banned_artists == built.banned_artists == {"a:banned", "a:avoid", "a2"}


def test_after_batch_counts_batches_and_remembers_tracks() -> None:
    ctx = StationContext.build(STATION).after_batch([TrackId("x"), TrackId("y")])
    assert ctx.batch_no == 1 and {"x", "y"} <= ctx.never
