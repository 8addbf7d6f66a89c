"""parse_steer: refinements in words, and what is not one."""

from __future__ import annotations

import random

import pytest

from recommender.steer import parse_steer
from wavelength.domain import Steer, Tilt

UP = Tilt("energy", 1.0), Tilt("valence", 1.0)


@pytest.mark.parametrize(
    ("text", "phrase", "sign", "tilts"),
    [
        ("more upbeat", "upbeat energetic", 1, {"energy": 1.0, "valence": 1.0}),
        ("upbeat-er", "upbeat energetic", 1, {"energy": 1.0, "valence": 1.0}),
        ("calmer", "calm mellow relaxed", 1, {"energy": -1.0}),
        ("more chill", "calm mellow relaxed", 1, {"energy": -1.0}),
        ("less energetic", "energetic intense lively", -1, {"energy": -1.0}),
        ("less vocals", "vocals singing", -1, {"instrumentalness": 1.0}),
        ("fewer vocals", "vocals singing", -1, {"instrumentalness": 1.0}),
        ("more instrumental", "instrumental no vocals", 1, {"instrumentalness": 1.0}),
        ("more vocals", "vocals singing", 1, {"instrumentalness": -1.0}),
        ("older", "old school classic oldies", 1, {"year": -1.0}),
        ("more old school", "old school classic oldies", 1, {"year": -1.0}),
        ("newer", "new recent modern", 1, {"year": 1.0}),
        ("more recent", "new recent modern", 1, {"year": 1.0}),
        ("happier", "happy cheerful uplifting", 1, {"valence": 1.0}),
        ("sadder", "sad melancholic", 1, {"valence": -1.0}),
        ("darker", "dark melancholic moody", 1, {"valence": -1.0}),
        ("faster", "fast tempo", 1, {"tempo": 1.0}),
        ("slower", "slow tempo", 1, {"tempo": -1.0}),
        ("more acoustic", "acoustic", 1, {"acousticness": 1.0}),
        ("more electronic", "electronic produced", 1, {"acousticness": -1.0}),
        ("more danceable", "danceable groovy", 1, {"danceability": 1.0}),
        ("louder", "loud intense", 1, {"energy": 1.0, "loudness": 1.0}),
        ("quieter", "quiet soft", 1, {"energy": -1.0, "loudness": -1.0}),
        ("more energy", "energetic intense lively", 1, {"energy": 1.0}),
        ("too loud", "loud intense", -1, {"energy": -1.0, "loudness": -1.0}),
        ("this is too slow!", "slow tempo", -1, {"tempo": 1.0}),
        ("a bit calmer", "calm mellow relaxed", 1, {"energy": -0.5}),
        ("slightly faster please", "fast tempo", 1, {"tempo": 0.5}),
        ("make it happier", "happy cheerful uplifting", 1, {"valence": 1.0}),
        ("Can you make it MORE UPBEAT?", "upbeat energetic", 1, {"energy": 1.0, "valence": 1.0}),
        ("more of the acoustic stuff", "acoustic", 1, {"acousticness": 1.0}),
        ("way more danceable", "danceable groovy", 1, {"danceability": 1.0}),
        ("more laid-back", "calm mellow relaxed", 1, {"energy": -1.0}),
        # A descriptive word without a feature: encoded only.
        ("more jazz", "jazz", 1, {}),
        ("less guitar", "guitar", -1, {}),
        ("more 80s", "80s", 1, {}),
        ("more dreamy shoegaze", "dreamy shoegaze", 1, {}),
    ],
)
def test_refinements(text: str, phrase: str, sign: int, tilts: dict[str, float]) -> None:
    steer = parse_steer(text)
    assert steer is not None
    assert (steer.phrase, steer.sign) == (phrase, sign)
    assert {t.feature: t.direction for t in steer.tilts} == tilts


@pytest.mark.parametrize(
    "text",
    [
        "rainy sunday jazz",
        "more like this",
        "more like 2",
        "more like Radiohead",
        "no more Coldplay",
        "more",
        "more please",
        "more songs",
        "more of this",
        "more of the same",
        "less of that",
        "more 2",
        "upbeat",  # a mood, not a change to one
        "calm",
        "",
        "   ",
        "!!!",
        "more " + "very " * 30 + "upbeat",
        "more songs that sound like the stuff I listened to as a teenager",
        "👍 2",
    ],
)
def test_not_refinements(text: str) -> None:
    assert parse_steer(text) is None


def test_the_result_is_a_steer_value() -> None:
    assert parse_steer("more upbeat") == Steer("upbeat energetic", 1, UP)


def test_random_unicode_never_raises() -> None:
    rng = random.Random(11)
    alphabet = "abc xyz -'’ more less er 0123 éß 你好 🎵👍\u200d\ufe0f!?"
    for _ in range(500):
        parse_steer("".join(rng.choices(alphabet, k=rng.randint(0, 40))))
