"""What a delivery round composes and how it sends: adapters between the runner and the rest.

Daily picks are the next batch of each user's "Daily picks" station (seeded from what they
liked anywhere), so the cards take reactions and teach it like any station. A delivery goes
to the chat account the person last wrote from (``ChatEngine.message``) and, when Spotify is
linked, into one "Wavelength · Daily picks" playlist updated in place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot import render
from bot.conversation import Reply
from jobs.runner import Outcome
from jobs.schedule import DAILY, NOSTALGIA, Due
from storage.deliveries import Status
from wavelength.mixes import NostalgiaMix
from wavelength.stations import Batch

if TYPE_CHECKING:
    from bot.chat import Delivered
    from bot.gate import SendGate
    from wavelength.domain import TrackId, UserId
    from wavelength.spotify_service import PushReport

log = logging.getLogger(__name__)

PICKS_PER_DAY = 10
CHUNK = 250  # listeners whose picks are read, composed and written together
RETRY = timedelta(minutes=5)  # a platform hiccup: the next rounds try again


class PicksSource(Protocol):
    def daily_picks_many(
        self, users: Sequence[UserId], *, n: int | None = None
    ) -> dict[UserId, Batch]: ...


class Messenger(Protocol):
    async def message(
        self, user: UserId, replies: Sequence[Reply], *, gate: SendGate | None = None
    ) -> Delivered: ...


class PlaylistSink(Protocol):
    def push(
        self,
        user: UserId,
        purpose: str,
        name: str,
        description: str,
        track_ids: Sequence[TrackId],
    ) -> PushReport: ...


class Nostalgia(Protocol):
    def nostalgia(self, user: UserId) -> NostalgiaMix: ...


class StationPicks:
    """The runner's composer: daily picks from the station engine, user by user (each is a
    few vector searches; the runner calls this once per round, off the event loop)."""

    def __init__(
        self,
        picks: PicksSource,
        *,
        nostalgia: Nostalgia | None = None,
        n: int = PICKS_PER_DAY,
        workers: int = 1,
    ) -> None:
        """``workers`` threads compose side by side: on a 2-core machine two did twice the
        listeners per second of one (docs/benchmarks.md; their database work overlaps, though
        qdrant-edge 0.9 holds the GIL while it searches). Without ``nostalgia`` only daily
        picks are made (the weekly mix is left to a later run)."""
        self._picks = picks
        self._nostalgia = nostalgia
        self._n = n
        self._workers = max(1, workers)
        self.kinds = (DAILY, NOSTALGIA) if nostalgia is not None else (DAILY,)

    def compose(self, kind: str, users: Sequence[UserId]) -> dict[UserId, object]:
        if kind not in self.kinds:
            return {}
        if kind == DAILY:
            chunks = [users[i : i + CHUNK] for i in range(0, len(users), CHUNK)]
            run: Callable[[Sequence[UserId]], dict[UserId, object]] = self._daily
        else:
            chunks = [[u] for u in users]
            run = self._nostalgia_of
        if self._workers == 1 or len(chunks) < 2:
            found = [run(c) for c in chunks]
        else:
            with ThreadPoolExecutor(self._workers, thread_name_prefix="picks") as pool:
                found = list(pool.map(run, chunks))
        return {u: c for part in found for u, c in part.items()}

    def _daily(self, users: Sequence[UserId]) -> dict[UserId, object]:
        try:
            made = self._picks.daily_picks_many(users, n=self._n)
        except Exception:
            if len(users) == 1:
                # One user's broken station must not cost everyone their picks.
                log.exception("daily picks for user %s failed", users[0])
                return {}
            return {u: b for one in users for u, b in self._daily([one]).items()}
        return {u: b for u, b in made.items() if b.cards}

    def _nostalgia_of(self, users: Sequence[UserId]) -> dict[UserId, object]:
        return {u: m for u in users if (m := self._one_nostalgia(u)) is not None}

    def _one_nostalgia(self, user: UserId) -> NostalgiaMix | None:
        assert self._nostalgia is not None
        try:
            mix = self._nostalgia.nostalgia(user)
        except Exception:
            log.exception("the nostalgia mix for user %s failed", user)
            return None
        return mix if mix.tracks else None


class ChatAndSpotify:
    """The runner's sender: the chat first (that is the delivery), then Spotify."""

    def __init__(
        self,
        chat: Messenger,
        spotify: PlaylistSink | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._chat = chat
        self._spotify = spotify
        self._clock = clock

    async def send(self, due: Due, content: object, gate: SendGate) -> Outcome:
        """The chat message is the delivery: ``gate`` opens as its first request leaves.
        One whose fate can't be known (no answer to a request that left) is UNKNOWN: the
        person may have it, so it is reported, never sent again."""
        if isinstance(content, Batch):
            late = "☀️ Yesterday's picks, a little late:"
            intro = late if due.late else "☀️ Today's picks for you:"
            reply = Reply(render.batch_text(content, intro=intro), content)
            playlist = ("daily", "Wavelength · Daily picks", [c.track.id for c in content.cards])
        elif isinstance(content, NostalgiaMix):
            reply = Reply("Your weekly nostalgia mix.\n" + render.nostalgia_text(content))
            ids = [t.track.id for t in content.tracks]
            playlist = ("nostalgia", "Wavelength · Nostalgia", ids)
        else:
            return Outcome(Status.SKIPPED, f"nothing to send for {due.kind}")
        delivered = await self._chat.message(due.user, [reply], gate=gate)
        if not delivered.ok and delivered.sent:
            # Part of it arrived; sending it all again would repeat that part.
            return Outcome(Status.SENT, f"partly delivered: {delivered.note}")
        if not delivered.ok and delivered.in_doubt:
            return Outcome(Status.UNKNOWN, f"no answer from {delivered.platform}: {delivered.note}")
        if delivered.unreachable:
            return Outcome(Status.SKIPPED, delivered.note or "can't be messaged")
        if not delivered.ok:
            wait = timedelta(seconds=delivered.retry_after) if delivered.retry_after else RETRY
            return Outcome(Status.FAILED, delivered.note, retry_at=self._clock() + wait)
        note = f"sent on {delivered.platform}"
        if self._spotify is not None:
            note += "; " + await asyncio.to_thread(self._to_spotify, due, *playlist)
        return Outcome(Status.SENT, note)

    def _to_spotify(self, due: Due, purpose: str, name: str, tracks: Sequence[TrackId]) -> str:
        """Best effort: the chat message is the delivery; a push that can't finish now is
        recorded by the Spotify service and resumed by its own job."""
        from wavelength.spotify_service import SpotifyNotLinked, SpotifyServiceError

        assert self._spotify is not None
        try:
            report = self._spotify.push(
                due.user, purpose, name, f"Made for you on {due.day:%A %d %B}.", tracks
            )
        except SpotifyNotLinked:
            return "no Spotify link"
        except SpotifyServiceError as exc:
            return f"Spotify later: {exc}"
        return f"Spotify playlist updated ({report.tracks} tracks)"
