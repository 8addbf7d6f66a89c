"""The learning curve: does a station get better as a listener reacts?

Each simulated listener's taste is one held-out playlist. They start a station from its
title and hear ``batches`` batches of five (``next_batch``, balanced familiarity, a seeded
rng), reacting to every track as a person who loves that playlist would: ❤️ a track on it,
👍 a track by one of its artists, 👎 anything else, or ⏭ instead of 👎 one time in five.
The hit rate per batch is the share of tracks by the playlist's artists (and the share of
its exact tracks). In the same run the same stations get no reactions at all (only "shown",
so they never repeat a track): the no-learning baseline. Both start from the same first batch.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from tqdm import tqdm

from recommender.station import StationComposer, StationContext
from wavelength.domain import ArtistId, Familiarity, Pick, Playlist, Reaction, TrackId, Tuning
from wavelength.evaluation.data import distinct
from wavelength.evaluation.rankers import title_station

BATCH_SIZE = 5
SKIP_INSTEAD_OF_DISLIKE = 0.2


@dataclass(frozen=True, slots=True)
class Listener:
    """Someone whose taste is one playlist."""

    title: str
    tracks: frozenset[TrackId]
    artists: frozenset[ArtistId]

    @classmethod
    def of(cls, playlist: Playlist) -> Listener:
        return cls(
            title=playlist.name,
            tracks=frozenset(distinct(playlist)),
            artists=frozenset(t.artist.id for t in playlist.tracks),
        )

    def react(self, pick: Pick, rng: random.Random) -> Reaction:
        if pick.track in self.tracks:
            return Reaction.LOVE
        if pick.artist in self.artists:
            return Reaction.LIKE
        return Reaction.SKIP if rng.random() < SKIP_INSTEAD_OF_DISLIKE else Reaction.DISLIKE


@dataclass(frozen=True, slots=True)
class Curve:
    """Hit rates per batch (batch 1 first), averaged over listeners."""

    label: str
    listeners: int
    artist_hits: tuple[float, ...]
    track_hits: tuple[float, ...]


def simulate(
    composer: StationComposer,
    listeners: Sequence[Listener],
    *,
    learn: bool,
    batches: int,
    seed: int,
    label: str,
    progress: bool = False,
) -> Curve:
    """Every listener's station for ``batches`` batches; with ``learn`` they react."""
    if batches < 1:
        raise ValueError(f"batches must be at least 1, got {batches}")
    if not listeners:
        raise ValueError("no listeners to simulate")
    artist_sums = [0.0] * batches
    track_sums = [0.0] * batches
    tuning = Tuning(familiarity=Familiarity.BALANCED)
    bar = tqdm(listeners, desc=label, disable=not progress, file=sys.stderr, leave=False)
    for number, listener in enumerate(bar):
        # Picks and reactions draw from separate streams, so the learning and no-learning
        # runs of one listener see the same picks until feedback makes them differ.
        picks_rng = random.Random(f"{seed}/{number}/picks")
        reactions_rng = random.Random(f"{seed}/{number}/reactions")
        ctx = StationContext.build(title_station(listener.title, tuning=tuning))
        for b in range(batches):
            picks = composer.next_batch(ctx, n=BATCH_SIZE, rng=picks_rng)
            artist_sums[b] += sum(p.artist in listener.artists for p in picks) / BATCH_SIZE
            track_sums[b] += sum(p.track in listener.tracks for p in picks) / BATCH_SIZE
            ctx = ctx.after_batch(p.track for p in picks)
            if learn:
                for pick in picks:
                    reaction = listener.react(pick, reactions_rng)
                    ctx = ctx.with_feedback(pick.track, reaction, artist=pick.artist)
    n = len(listeners)
    return Curve(
        label=label,
        listeners=n,
        artist_hits=tuple(s / n for s in artist_sums),
        track_hits=tuple(s / n for s in track_sums),
    )


def learning_curves(
    composer: StationComposer,
    playlists: Sequence[Playlist],
    *,
    batches: int,
    seed: int,
    progress: bool = False,
) -> tuple[Curve, Curve]:
    """(with reactions, without): the engine's curve and its no-learning baseline."""
    listeners = [Listener.of(p) for p in playlists]
    learning, static = (
        simulate(
            composer,
            listeners,
            learn=learn,
            label=label,
            batches=batches,
            seed=seed,
            progress=progress,
        )
        for learn, label in ((True, "with reactions"), (False, "no reactions"))
    )
    return learning, static
