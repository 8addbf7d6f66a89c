"""The name-lookup port: how the mood parser asks the catalog "is this an artist or a track?".

Every implementation scores with the same rules, written once here, so the real index and the
test fake agree (tests/storage/test_names.py runs one contract against both):

* both sides are normalised with ``wavelength.ids.normalize_name`` (case, accents, punctuation);
* an exact match scores 100. "Exact" also forgives a leading "the", "and"/"&"/"n" and spaces,
  so "beatles", "simon and garfunkel", "acdc" and "guns and roses" find their artists;
* anything else scores ``token_sort_ratio`` (0..100) of the normalised names without a leading
  "the". Not ``WRatio``: its partial-match branch gives 90 to any name contained in the query
  ("Rain" in "rainy sunday jazz"), which would make the parser's "≥ 90 means sure" a silent
  guess. Whole-string comparison keeps typos high ("radiohed" → 94) and containment low;
  sorting tokens forgives word order ("Simone Nina").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from rapidfuzz import fuzz

from wavelength.ids import normalize_name

MIN_SCORE = 60.0  # below this a name is unrelated; indexes leave such matches out
SUGGEST = 70.0  # from here a name is worth a "did you mean"
RESOLVED = 90.0  # from here a name is taken as meant (typos included)
EXACT = 100.0

# Dropped when deciding whether two names are "exactly" the same name.
_EXACT_NOISE = frozenset({"and", "n"})


@dataclass(frozen=True, slots=True)
class NameMatch:
    """One catalog name close to a query. For tracks ``name`` is "Artist - Title", the form
    ``NameIndex.tracks`` reads back, so a "did you mean" suggestion can be typed as is."""

    kind: Literal["artist", "track"]
    id: str
    name: str
    score: float  # 0..100, see name_score


class NameIndex(Protocol):
    """Artist and track names of the catalog, searched by what people type."""

    def artists(self, query: str, *, limit: int = 5) -> list[NameMatch]:
        """Artists scoring at least ``MIN_SCORE``, best first; ties go to the artist with more
        tracks, then by normalised name and id. ``limit`` < 1 is a ValueError."""
        ...

    def tracks(self, query: str, *, limit: int = 5) -> list[NameMatch]:
        """Tracks for "Title" or "Artist - Title", best first; ties go to the more popular
        track (unknown popularity last), then by id. ``limit`` < 1 is a ValueError.

        "Artist - Title" looks only at tracks of artists scoring ``RESOLVED`` or more, each
        scored the lower of its artist's and its title's score; when that finds nothing the
        whole query is read as a title (titles contain " - " too)."""
        ...


def exact_form(key: str) -> str:
    """The form two names share when they are "exactly" one name (``key`` is normalised)."""
    words = key.split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    kept = [w for w in words if w not in _EXACT_NOISE]
    return "".join(kept or words)


def fuzzy_form(key: str) -> str:
    """Normalised key without a leading "the", tokens sorted: ``ratio`` on two of these is
    ``token_sort_ratio`` on the keys, so an index can sort its names once, not per query."""
    words = key.split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(sorted(words))


def name_score(query: str, name: str) -> float:
    """How well ``query`` names ``name``, 0..100 (100: the same name)."""
    q, n = normalize_name(query), normalize_name(name)
    if not q or not n:
        return 0.0
    if exact_form(q) == exact_form(n):
        return EXACT
    return float(fuzz.ratio(fuzzy_form(q), fuzzy_form(n)))


def split_artist_title(query: str) -> tuple[str, str] | None:
    """``("Radiohead", "Karma Police")`` for "Radiohead - Karma Police" (any dash with spaces
    around it); None when the query has no such separator or one side is empty."""
    for dash in (" - ", " – ", " — "):
        if dash in query:
            artist, _, title = query.partition(dash)
            if artist.strip() and title.strip():
                return artist.strip(), title.strip()
    return None
