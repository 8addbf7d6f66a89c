"""Everything a station knows when it composes its next batch, as one plain value.

``StationContext.build`` folds a station's feedback into the signals the pipeline uses:
weighted positives, negatives, tracks never to offer, artists to leave out. It is pure, so
the evaluation harness builds contexts in memory exactly as the service builds them from SQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from wavelength.domain import ArtistId, Feedback, Reaction, Station, TrackId

# A love pulls twice as hard as a like; a skip pushes a third as hard as a dislike.
REACTION_WEIGHT: Mapping[Reaction, float] = {
    Reaction.LOVE: 2.0,
    Reaction.LIKE: 1.0,
    Reaction.DISLIKE: 1.0,
    Reaction.SKIP: 0.35,
}
# "After repeated dislikes of one artist, stop that artist on this station."
ARTIST_DISLIKES_TO_BAN = 2
# The newest reactions matter most: older ones fade by this factor per newer reaction, so a
# station follows a listener who changes their mind instead of averaging over an hour.
RECENCY_DECAY = 0.93
MAX_EXAMPLES = 25  # positives or negatives kept per space; the oldest drop out


@dataclass(frozen=True, slots=True)
class StationContext:
    station: Station
    positives: tuple[tuple[TrackId, float], ...] = ()  # (track, weight), newest last
    negatives: tuple[tuple[TrackId, float], ...] = ()
    never: frozenset[TrackId] = frozenset()  # played here or disliked anywhere
    banned_artists: frozenset[ArtistId] = frozenset()
    disliked_artists: tuple[ArtistId, ...] = ()  # one entry per disliked track
    batch_no: int = 0  # batches shown so far (0 before the first)

    @classmethod
    def build(
        cls,
        station: Station,
        *,
        feedback: Sequence[Feedback] = (),
        played: Iterable[TrackId] = (),
        disliked_anywhere: Iterable[TrackId] = (),
        artist_of: Mapping[TrackId, ArtistId] | None = None,
        batch_no: int = 0,
    ) -> StationContext:
        """``feedback``: this station's live reactions, oldest first. ``artist_of`` maps the
        disliked tracks to their artists (for the repeated-dislike ban)."""
        latest: dict[TrackId, Reaction] = {}
        for fb in feedback:  # a later reaction to the same track replaces the earlier one
            latest.pop(fb.track, None)
            latest[fb.track] = fb.reaction
        positives: list[tuple[TrackId, float]] = []
        negatives: list[tuple[TrackId, float]] = []
        ordered = list(latest.items())
        for age, (track, reaction) in enumerate(reversed(ordered)):
            weight = REACTION_WEIGHT[reaction] * RECENCY_DECAY**age
            (positives if reaction.positive else negatives).append((track, weight))
        never = set(played) | set(disliked_anywhere)
        never.update(t for t, r in latest.items() if not r.positive)
        disliked_artists = tuple(
            artist_of[t]
            for t, r in latest.items()
            if r is Reaction.DISLIKE and artist_of is not None and t in artist_of
        )
        return cls(
            station=station,
            positives=tuple(reversed(positives[:MAX_EXAMPLES])),
            negatives=tuple(reversed(negatives[:MAX_EXAMPLES])),
            never=frozenset(never),
            banned_artists=_banned(station, disliked_artists),
            disliked_artists=disliked_artists,
            batch_no=batch_no,
        )

    def with_feedback(
        self, track: TrackId, reaction: Reaction, *, artist: ArtistId | None = None
    ) -> StationContext:
        """This context after one more reaction, as ``build`` would fold it (the simulation's
        shortcut; the service rebuilds from storage instead)."""
        older = [
            (t, w * RECENCY_DECAY, positive)
            for (t, w), positive in [
                *((p, True) for p in self.positives),
                *((n, False) for n in self.negatives),
            ]
            if t != track
        ]
        pos = [(t, w) for t, w, positive in older if positive]
        neg = [(t, w) for t, w, positive in older if not positive]
        (pos if reaction.positive else neg).append((track, REACTION_WEIGHT[reaction]))
        never = self.never if reaction.positive else self.never | {track}
        disliked = self.disliked_artists
        if reaction is Reaction.DISLIKE and artist is not None:
            disliked = (*disliked, artist)
        return replace(
            self,
            positives=tuple(pos[-MAX_EXAMPLES:]),
            negatives=tuple(neg[-MAX_EXAMPLES:]),
            never=never,
            banned_artists=_banned(self.station, disliked),
            disliked_artists=disliked,
        )

    def after_batch(self, tracks: Iterable[TrackId]) -> StationContext:
        """This context once ``tracks`` were shown: they are never offered again here."""
        return replace(self, never=self.never | frozenset(tracks), batch_no=self.batch_no + 1)


def _banned(station: Station, disliked_artists: Iterable[ArtistId]) -> frozenset[ArtistId]:
    counts = Counter(disliked_artists)
    banned = set(station.banned_artists) | set(station.mood.avoid_artists)
    banned.update(a for a, k in counts.items() if k >= ARTIST_DISLIKES_TO_BAN)
    return frozenset(banned)
