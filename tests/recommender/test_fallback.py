from __future__ import annotations

import numpy as np
import pytest

from recommender.fallback import artist_vectors, with_fallbacks
from recommender.vectors import ItemVectors

TRACK_ARTIST = {"a1": "ann", "a2": "ann", "a3": "ann", "b1": "bob", "c1": "cy"}


def _tracks() -> ItemVectors:
    # ann's well-supported tracks point east, her rare one north; bob and cy have one track each.
    return ItemVectors.from_factors(
        ["a1", "a2", "a3", "b1", "c1", "orphan"],
        [[1, 0], [1, 0], [0, 1], [0, 1], [-1, 0], [1, 1]],
        [30, 10, 1, 2, 1, 1],
        model="toy",
    )


def test_artist_vector_is_the_support_weighted_mean_of_its_tracks() -> None:
    artists = artist_vectors(_tracks(), TRACK_ARTIST)
    assert artists.ids == ("ann", "bob", "cy")
    expected = np.array([40.0, 1.0]) / np.hypot(40.0, 1.0)
    assert artists.vector("ann").tolist() == pytest.approx(expected.tolist())
    assert artists.vector("bob").tolist() == pytest.approx([0.0, 1.0])
    assert artists.support.tolist() == [41, 2, 1]
    assert artists.model == "toy / artist mean"


def test_artists_with_too_little_data_are_absent() -> None:
    artists = artist_vectors(_tracks(), TRACK_ARTIST, min_support=2)
    assert artists.ids == ("ann", "bob")
    assert "cy" not in artists
    empty = artist_vectors(_tracks(), {})
    assert len(empty) == 0 and empty.dim == 2


def test_rare_tracks_borrow_their_artists_vector_and_are_flagged() -> None:
    tracks = _tracks()
    artists = artist_vectors(tracks, TRACK_ARTIST, min_support=2)
    mixed = with_fallbacks(tracks, artists, TRACK_ARTIST, min_support=2)
    # c1 is rare and cy has no vector; orphan is rare and has no artist: both dropped.
    assert mixed.ids == ("a1", "a2", "a3", "b1")
    assert mixed.borrowed.tolist() == [False, False, True, False]
    assert mixed.vector("a3").tolist() == pytest.approx(artists.vector("ann").tolist())
    assert mixed.vector("b1").tolist() == pytest.approx([0.0, 1.0])  # its own
    assert mixed.support.tolist() == [30, 10, 1, 2]
    ids, _ = mixed.similar("a1", n=1)
    assert ids == ["a2"]
    # A borrowed vector still works as a query, but need not be offered.
    ids, _ = mixed.nearest(mixed.vector("a3"), n=3, skip_borrowed=True)
    assert ids == ["a1", "a2", "b1"]


def test_borrowed_vectors_do_not_feed_back_into_artist_means() -> None:
    tracks = _tracks()
    mixed = with_fallbacks(
        tracks, artist_vectors(tracks, TRACK_ARTIST), TRACK_ARTIST, min_support=2
    )
    again = artist_vectors(mixed, TRACK_ARTIST)
    assert again.support.tolist() == [40, 2]  # a3 is borrowed, so only a1 + a2 count for ann


def test_arguments_are_validated() -> None:
    tracks = _tracks()
    with pytest.raises(ValueError, match="min_support must be at least 1"):
        artist_vectors(tracks, TRACK_ARTIST, min_support=0)
    with pytest.raises(ValueError, match="min_support must be at least 1"):
        with_fallbacks(tracks, tracks, TRACK_ARTIST, min_support=0)
    other = ItemVectors.from_factors(["ann"], [[1, 0, 0]], [5], model="3d")
    with pytest.raises(ValueError, match="artist vectors have dim 3, track vectors 2"):
        with_fallbacks(tracks, other, TRACK_ARTIST, min_support=2)
