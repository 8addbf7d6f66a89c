"""Genre words in a mood ("90s hip hop", "rainy sunday jazz") matched to the catalog's labels.

A sentence encoder hears "hip hop for the gym" as much about gyms as about hip hop; a genre
the listener names is a hard fact the catalog can filter on. Matching is exact on whole words
against the catalog's own vocabulary, so only labels that exist are ever used, and a named
genre widens to its sub-genres ("jazz" also finds "cool jazz" and "jazz funk").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from wavelength.ids import normalize_name

MAX_NGRAM = 4
# A word that is no label by itself but runs through many ("indie": indie pop, indie rock, ...)
# names a family of genres.
FAMILY_MIN_LABELS = 8
MAX_EXPANDED = 300  # sub-genres per named genre; "rock" has hundreds, the filter stays cheap
# Single words that are genre labels somewhere but mean a quality, not a genre, in a mood.
_QUALIFIERS = frozenset(
    [
        "new",
        "modern",
        "classic",
        "vintage",
        "old",
        "deep",
        "hard",
        "soft",
        "dark",
        "light",
        "early",
        "late",
        "the",
        "and",
        "for",
        "music",
        "song",
        "songs",
        "sad",
        "happy",
        "love",
        "party",
        "contemporary",
    ]
)


@dataclass(slots=True)
class GenreIndex:
    """The vocabulary by word, built once per catalog snapshot."""

    vocabulary: frozenset[str]
    _by_word: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _normal: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for genre in self.vocabulary:
            key = normalize_name(genre)
            if not key:
                continue
            self._normal.setdefault(key, genre)
            for word in key.split():
                self._by_word.setdefault(word, set()).add(genre)

    def named_in(self, text: str) -> tuple[str, ...]:
        """Genre labels (or genre families) written in ``text``, longest first, no overlaps."""
        words = normalize_name(text).split()
        taken = [False] * len(words)
        found: list[str] = []
        for size in range(min(MAX_NGRAM, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                if any(taken[start : start + size]):
                    continue
                phrase = " ".join(words[start : start + size])
                if size == 1 and phrase in _QUALIFIERS:
                    continue
                family = size == 1 and len(self._by_word.get(phrase, ())) >= FAMILY_MIN_LABELS
                if phrase in self._normal or family:
                    found.append(self._normal.get(phrase, phrase))
                    taken[start : start + size] = [True] * size
        return tuple(found)

    def widen(self, genres: Iterable[str]) -> tuple[str, ...]:
        """Each genre with the labels that contain it as whole words ("jazz" → "cool jazz")."""
        out: dict[str, None] = {}
        for genre in genres:
            out[genre] = None
            words = normalize_name(genre).split()
            if not words:
                continue
            candidates = set.intersection(*(self._by_word.get(w, set()) for w in words))
            phrase = f" {' '.join(words)} "
            wider = sorted(g for g in candidates if phrase in f" {normalize_name(g)} ")
            for g in wider[:MAX_EXPANDED]:
                out[g] = None
        return tuple(out)
