"""The shared scoring rules of the NameIndex port."""

from __future__ import annotations

import pytest

from recommender.names import EXACT, RESOLVED, SUGGEST, name_score, split_artist_title


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("radiohead", "Radiohead"),
        ("BEYONCE", "Beyoncé"),
        ("beatles", "The Beatles"),
        ("the beatles", "Beatles"),
        ("simon and garfunkel", "Simon & Garfunkel"),
        ("acdc", "AC/DC"),
        ("guns and roses", "Guns N' Roses"),
        ("sigur ros", "Sigur Rós"),
        ("The The", "the the"),
    ],
)
def test_exact_forgives_case_accents_the_and_spacing(query: str, name: str) -> None:
    assert name_score(query, name) == EXACT


@pytest.mark.parametrize(
    ("query", "name", "low", "high"),
    [
        ("radiohed", "Radiohead", RESOLVED, EXACT),  # a typo is still sure
        ("Radiohaed", "Radiohead", SUGGEST, RESOLVED),  # two swapped letters: did you mean
        ("simone nina", "Nina Simone", EXACT, EXACT + 1),  # word order is forgiven
        ("rainy sunday jazz for reading", "Rain", 0, SUGGEST),  # containment is not a match
        ("radiohead on a rainy day", "Radiohead", 0, SUGGEST),
        ("", "Radiohead", 0, 1),
        ("!!!", "!!!", 0, 1),  # nothing left after normalising: no score
    ],
)
def test_scores(query: str, name: str, low: float, high: float) -> None:
    assert low <= name_score(query, name) < high


@pytest.mark.parametrize(
    ("query", "split"),
    [
        ("Radiohead - Karma Police", ("Radiohead", "Karma Police")),
        ("Radiohead – Karma Police", ("Radiohead", "Karma Police")),
        ("Blur - Song 2 - Remastered", ("Blur", "Song 2 - Remastered")),
        ("Jay-Z", None),
        (" - Karma Police", None),
        ("Karma Police", None),
    ],
)
def test_split_artist_title(query: str, split: tuple[str, str] | None) -> None:
    assert split_artist_title(query) == split
