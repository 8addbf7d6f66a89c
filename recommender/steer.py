"""Refinements in words: "more upbeat", "calmer", "less vocals", "a bit older" → ``Steer``.

A steer's ``phrase`` is what the station encodes and moves toward (``sign`` +1) or away from
(-1); ``tilts`` say the same in audio features where the catalog has them, already pointing
the way the listener wants ("less vocals" → instrumentalness +1). Only short messages that are
clearly a refinement count: a new mood, "more like this" or "no more Coldplay" are other
intents and give None.
"""

from __future__ import annotations

import re

from recommender.words import (
    COMPARATIVES,
    DANCEABLE,
    DESCRIPTORS,
    ENERGETIC,
    PHRASES,
    SPOKEN,
    Pole,
    wordset,
)
from wavelength.domain import Steer, Tilt

MAX_STEER_CHARS = 80  # a refinement is a few words; longer text is a new request
MAX_FREE_WORDS = 3  # "more X" with an unknown X: X is at most this many words

_WORDS = re.compile(r"[^\W_]+(?:['&-][^\W_]+)*")
# Nouns people use after more/less that mean a pole ("more energy", "less talking").
_NOUNS: dict[str, Pole] = {
    "energy": ENERGETIC,
    "groove": DANCEABLE,
    "talking": SPOKEN,
    "rapping": SPOKEN,
}
_POLITE_HEADS = (
    ("can", "you", "make", "it"),
    ("could", "you", "make", "it"),
    ("can", "we", "go"),
    ("can", "we", "get"),
    ("let's", "go"),
    ("lets", "go"),
    ("make", "it"),
    ("make", "this"),
    ("make", "them"),
    ("i", "want", "it"),
    ("this", "is"),
    ("it", "is"),
    ("it's",),
    ("its",),
    ("that's",),
    ("something",),
    ("please",),
    ("go",),
    ("get",),
)
_TAILS = wordset("please pls plz now thanks thx songs music stuff tracks ones tunes")
_SLIGHT = (
    ("a", "bit"),
    ("a", "little"),
    ("a", "tad"),
    ("bit",),
    ("slightly",),
    ("somewhat",),
    ("little",),
)
_STRONG = (("a", "lot"), ("much",), ("way",), ("lots",), ("even",), ("far",))
_NOT_A_STEER_HEAD = wordset("like this that it these those same similar than and or")
_SKIPPED_AFTER_MORE = frozenset(("of", "the", "some"))


def parse_steer(text: str) -> Steer | None:
    """The refinement ``text`` asks for, or None when it is not a refinement."""
    if len(text) > MAX_STEER_CHARS:
        return None
    words = _WORDS.findall(text.casefold().replace("’", "'"))
    words = _strip_heads(words)
    scale, words = _intensity(words)
    while words and words[-1] in _TAILS:
        words = words[:-1]
    if not words:
        return None
    head, rest = words[0], words[1:]
    if head in ("more", "less", "fewer"):
        return _more_or_less(+1 if head == "more" else -1, rest, scale)
    if head == "too" and rest:  # "too loud" asks for less of it
        pole = _pole(rest)
        return _steer(pole, -1, scale) if pole else None
    if len(words) == 1:
        word = words[0].replace("-er", "er")  # "upbeat-er"
        pole = COMPARATIVES.get(word) or COMPARATIVES.get(words[0])
        return _steer(pole, +1, scale) if pole else None
    return None


def pole_for_words(words: list[str]) -> Pole | None:
    """The pole that one or two lower-case words name ("old school", "acoustic"), if any."""
    return _pole(words)


def _more_or_less(sign: int, rest: list[str], scale: float) -> Steer | None:
    _, rest = _intensity(rest)  # "more and more" is not worth a branch; "less much" is rare
    while rest and rest[0] in _SKIPPED_AFTER_MORE:
        rest = rest[1:]
    while rest and rest[-1] in _TAILS:
        rest = rest[:-1]
    if not rest or rest[0] in _NOT_A_STEER_HEAD:
        return None
    pole = _pole(rest)
    if pole is not None:
        return _steer(pole, sign, scale)
    joined = "".join(rest)
    # "more 2" is a typo for a card number, "more 80s" a fair wish.
    if len(rest) > MAX_FREE_WORDS or len(joined) < 2 or not any(c.isalpha() for c in joined):
        return None
    return Steer(" ".join(rest), sign, ())


def _pole(words: list[str]) -> Pole | None:
    if len(words) == 2:
        pair = (words[0], words[1])
        if pair in PHRASES:
            return PHRASES[pair]
        joined = "".join(words)  # "laid back" spelled "laidback", "old school" → "oldschool"
        return DESCRIPTORS.get(joined)
    if len(words) != 1:
        return None
    word = words[0]
    if "-" in word:
        parts = word.split("-")
        if len(parts) == 2 and (parts[0], parts[1]) in PHRASES:
            return PHRASES[(parts[0], parts[1])]
        word = word.replace("-", "")
    return DESCRIPTORS.get(word) or COMPARATIVES.get(word) or _NOUNS.get(word)


def _steer(pole: Pole, sign: int, scale: float) -> Steer:
    tilts = pole.tilts if sign > 0 else pole.inverted()
    return Steer(pole.phrase, sign, tuple(Tilt(t.feature, t.direction * scale) for t in tilts))


def _strip_heads(words: list[str]) -> list[str]:
    changed = True
    while changed and words:
        changed = False
        for head in _POLITE_HEADS:
            if tuple(words[: len(head)]) == head and len(words) > len(head):
                words = words[len(head) :]
                changed = True
                break
    return words


def _intensity(words: list[str]) -> tuple[float, list[str]]:
    """A leading "a bit"/"slightly" halves the tilts; "much"/"way" only emphasise."""
    for lead in _SLIGHT:
        if tuple(words[: len(lead)]) == lead and len(words) > len(lead):
            return 0.5, words[len(lead) :]
    for lead in _STRONG:
        if tuple(words[: len(lead)]) == lead and len(words) > len(lead):
            return 1.0, words[len(lead) :]
    return 1.0, words
