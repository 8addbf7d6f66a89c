from __future__ import annotations

import random
from dataclasses import replace

import pytest

from recommender.station.blend import (
    Candidate,
    Constraints,
    choose,
    ensure_one_from,
    feature_position,
    fuse,
    refine,
)
from recommender.station.reasons import Reason, Why
from recommender.station.sources import Proposal
from tests.support.factories import features, track
from wavelength.domain import ArtistId, Familiarity, Track, TrackId

MOOD = Reason(Why.MOOD, "jazz")
LIKED = Reason(Why.LIKED, "t9")


def ids(*names: str) -> list[TrackId]:
    return [TrackId(n) for n in names]


def proposal(source: str, names: list[str], weight: float = 1.0, reason: Reason = MOOD) -> Proposal:
    return Proposal(source, ids(*names), [1.0] * len(names), weight, reason)


def test_fuse_rewards_agreement_between_sources() -> None:
    fused = fuse([proposal("mood", ["a", "b", "c"]), proposal("liked", ["c", "d"], reason=LIKED)])
    assert fused[0].track == "c"  # third and first beats first alone
    assert [c.track for c in fused] == ["c", "a", "b", "d"]


def test_fuse_weights_sources_and_keeps_the_strongest_reason() -> None:
    fused = fuse([proposal("mood", ["a", "b"], 1.0), proposal("liked", ["b", "a"], 3.0, LIKED)])
    assert fused[0].track == "b" and fused[0].source == "liked" and fused[0].reason == LIKED
    assert fuse([proposal("mood", ["a"], 0.0)]) == []  # a zero weight turns a source off


def test_fuse_ties_break_by_id_so_runs_repeat() -> None:
    assert [c.track for c in fuse([proposal("m", ["b"]), proposal("l", ["a"])])] == ["a", "b"]


def test_fuse_with_a_limit_is_the_top_of_the_full_fusion() -> None:
    proposals = [
        proposal("mood", [f"t{i}" for i in range(40)], 1.0),
        proposal("liked", [f"t{i}" for i in range(60, 10, -1)], 2.0, LIKED),
    ]
    full = fuse(proposals)
    assert len(full) == 61  # t0 .. t60
    assert fuse(proposals, limit=15) == full[:15]
    assert fuse(proposals, limit=100) == full


def facts(*tracks: Track) -> dict[TrackId, Track]:
    return {t.id: t for t in tracks}


def cand(t: Track, score: float) -> Candidate:
    return Candidate(t.id, score, "mood", MOOD)


def test_refine_drops_banned_artists_unknown_tracks_and_duplicate_songs() -> None:
    a = track(1, name="Blue", artist_name="Ann")
    dup = track(2, name="Blue!", artist_name="Ann")  # the same song under another id
    b = track(3, name="Red", artist_name="Bob")
    ghost = TrackId("spotify:track:ghost")
    out = refine(
        [cand(a, 3), cand(dup, 2), Candidate(ghost, 1.5, "mood", MOOD), cand(b, 1)],
        facts(a, dup, b),
        Constraints(banned=frozenset({b.artist.id})),
    )
    assert [c.track for c in out] == [a.id]
    assert out[0].artist == a.artist.id


def test_refine_no_vocals_drops_known_vocal_tracks_only() -> None:
    vocal = track(1, artist_name="A", features=features(instrumentalness=0.05))
    instrumental = track(2, artist_name="B", features=features(instrumentalness=0.9))
    unknown = track(3, artist_name="C")
    out = refine(
        [cand(vocal, 3), cand(instrumental, 2), cand(unknown, 1)],
        facts(vocal, instrumental, unknown),
        Constraints(instrumental=True),
    )
    assert [c.track for c in out] == [instrumental.id, unknown.id]


def test_tilts_reorder_by_feature() -> None:
    loud = track(1, artist_name="A", features=features(energy=0.95))
    calm = track(2, artist_name="B", features=features(energy=0.1))
    ranked = [cand(loud, 1.0), cand(calm, 0.9)]
    assert refine(ranked, facts(loud, calm), Constraints())[0].track == loud.id
    calmer = refine(ranked, facts(loud, calm), Constraints(tilts={"energy": -1}))
    assert calmer[0].track == calm.id


def test_a_tracks_tilt_follows_its_facts_when_they_are_read_again() -> None:
    """Tilt factors are kept per track between batches; facts read again after an ingest
    (new objects, new features) count, not the kept factor."""
    calm = track(1, artist_name="A", features=features(energy=0.1))
    other = track(2, artist_name="B", features=features(energy=0.5))
    rules = Constraints(tilts={"energy": -1, "valence": 0.5})
    first = refine([cand(calm, 1.0), cand(other, 1.0)], facts(calm, other), rules)
    again = refine([cand(calm, 1.0), cand(other, 1.0)], facts(calm, other), rules)
    assert [(c.track, c.score) for c in again] == [(c.track, c.score) for c in first]
    assert first[0].track == calm.id
    louder = replace(calm, features=features(energy=0.95))  # re-ingested with new features
    after = refine([cand(louder, 1.0), cand(other, 1.0)], facts(louder, other), rules)
    assert after[0].track == other.id


def test_refine_enforces_the_hard_limits_on_catalog_facts() -> None:
    """Playlist votes never pass the store's filter, so refine checks the limits again."""
    old = track(1, artist_name="A", year=1962, explicit=False)
    new = track(2, artist_name="B", year=2015, explicit=True)
    decade = track(3, artist_name="C", decade=1960)
    unknown = track(4, artist_name="D")
    ranked = [cand(old, 4), cand(new, 3), cand(decade, 2), cand(unknown, 1)]
    known = facts(old, new, decade, unknown)

    def kept(rules: Constraints) -> list[TrackId]:
        return [c.track for c in refine(ranked, known, rules)]

    assert kept(Constraints(year_min=1960, year_max=1969)) == [old.id, decade.id]
    assert kept(Constraints(explicit=False)) == [old.id, decade.id, unknown.id]
    assert kept(Constraints(explicit=True)) == [new.id]
    assert kept(Constraints(never=frozenset({old.id, unknown.id}))) == [new.id, decade.id]


def test_the_familiarity_prior_lifts_tracks_on_many_playlists() -> None:
    rare = track(1, artist_name="A")
    common = track(2, artist_name="B")
    ranked = [cand(rare, 1.0), cand(common, 0.9)]
    counts = {rare.id: 0, common.id: 50}
    plain = refine(ranked, facts(rare, common), Constraints(), counts=counts)
    assert plain[0].track == rare.id  # no prior, no lift
    lifted = refine(ranked, facts(rare, common), Constraints(prior=0.15), counts=counts)
    assert lifted[0].track == common.id


def test_feature_positions() -> None:
    assert feature_position(track(1, year=2090), "year") == pytest.approx(2.5)  # clipped
    assert feature_position(track(1, decade=1960), "year") == pytest.approx((1965 - 2000) / 20)
    assert feature_position(track(1, features=features(tempo=160.0)), "tempo") == pytest.approx(1.0)
    assert feature_position(track(1), "energy") is None


def ranked(n: int, artists: int | None = None) -> list[Candidate]:
    return [
        Candidate(TrackId(f"t{i:03d}"), 1.0 - i / 1000, "mood", MOOD,
                  artist=ArtistId(f"a{i % (artists or n)}"))
        for i in range(n)
    ]  # fmt: skip


def test_safe_takes_the_top_in_order_with_one_track_per_artist() -> None:
    items = ranked(40, artists=10)
    picked = choose(items, n=5, familiarity=Familiarity.SAFE, rng=random.Random(0))
    assert [c.track for c in picked] == ["t000", "t001", "t002", "t003", "t004"]
    repeat = [replace(c, artist=ArtistId("same")) for c in items[:3]] + items[3:]
    picked = choose(repeat, n=5, familiarity=Familiarity.SAFE, rng=random.Random(0))
    assert [c.track for c in picked][:2] == ["t000", "t003"]
    assert len({c.artist for c in picked}) == 5


def test_balanced_samples_the_top_band_and_varies() -> None:
    items = ranked(100)
    batches = [
        {
            c.track
            for c in choose(items, n=5, familiarity=Familiarity.BALANCED, rng=random.Random(s))
        }
        for s in range(5)
    ]
    band = {c.track for c in items[:20]}
    assert all(b <= band for b in batches)
    assert len(set.union(*batches)) > 5  # different batches, same station


def test_surprise_leaves_the_safest_band_out() -> None:
    items = ranked(100)
    picked = choose(items, n=5, familiarity=Familiarity.SURPRISE, rng=random.Random(1))
    positions = [int(c.track[1:]) for c in picked]
    assert all(10 <= p < 50 for p in positions)


def test_a_short_band_is_filled_from_the_rest() -> None:
    items = ranked(12)
    picked = choose(items, n=5, familiarity=Familiarity.SURPRISE, rng=random.Random(1))
    assert len(picked) == 5
    assert choose([], n=5, familiarity=Familiarity.BALANCED, rng=random.Random(1)) == []


def test_a_liked_pick_makes_it_into_the_batch() -> None:
    items = ranked(30, artists=30)
    liked = [replace(c, source="liked") for c in items[20:23]]
    ranking = items[:20] + liked + items[23:]
    batch = choose(ranking, n=5, familiarity=Familiarity.SAFE, rng=random.Random(0))
    assert all(c.source == "mood" for c in batch)
    fixed = ensure_one_from(batch, ranking, "liked")
    assert [c.source for c in fixed].count("liked") == 1
    assert liked[0] in fixed and batch[-1] not in fixed  # the weakest pick made room
    assert ensure_one_from(fixed, ranking, "liked") == fixed  # already there: unchanged
    assert ensure_one_from(batch, items, "liked") == batch  # nothing liked: unchanged
