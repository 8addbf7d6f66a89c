"""``POST /recommend``: a one-off ranking for a mood in words, with reasons (no station kept)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from recommender.mood import parse_mood
from recommender.station import StationContext
from recommender.station.reasons import render
from wavelength.domain import Station, StationId, Track, UserId

if TYPE_CHECKING:
    from recommender.mood import NameIndex
    from recommender.station import StationComposer

# Fused candidates refined for a ranking: the composer's defaults, deeper for a large top_k.
_POOL = 150
_WINDOW = 120


@dataclass(frozen=True, slots=True)
class Scored:
    track: Track
    score: float
    reason: str


class Recommender:
    """The station engine's ranking for a mood, as the mood2music seed's contract wants it:
    the top ``k`` tracks, best first, each with its score and reason."""

    def __init__(self, *, composer: StationComposer, names: NameIndex) -> None:
        self._composer = composer
        self._names = names

    def recommend(self, text: str, *, top_k: int) -> list[Scored]:
        # Names that can't be pinned down are left out here, not asked about: there is no
        # conversation to ask in, and the rest of the mood still says plenty.
        mood = parse_mood(text, self._names, this_year=datetime.now(UTC).year).mood
        ctx = StationContext.build(
            Station(id=StationId(0), owner=UserId(0), name="recommend", mood=mood)
        )
        ranked = self._composer.candidates(
            ctx, pool=max(_POOL, top_k), window=max(_WINDOW, 2 * top_k)
        )[:top_k]
        texts = render((c.reason for c in ranked), self._composer.catalog)
        facts = self._composer.catalog.tracks(c.track for c in ranked)
        return [
            Scored(facts[c.track], round(c.score, 6), texts[c.reason])
            for c in ranked
            if c.track in facts
        ]
