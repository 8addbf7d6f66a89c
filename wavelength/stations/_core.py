"""The service's state and what every part of it needs: whose station is whose, and making a
station's next batch (context from storage, the engine's picks, the batch recorded)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from recommender.station import StationComposer, StationContext
from storage import feedback as fb
from storage import stations as repo
from wavelength.domain import Pick, Reaction, Station, StationId, TrackId, UserId
from wavelength.feedback_memo import FeedbackMemo
from wavelength.played_memo import PlayedMemo
from wavelength.stations._types import Batch, Card, NoStation, NotFound, ReadOnly, StationError
from wavelength.turns import Turns

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from recommender.mood import NameIndex

Clock = Callable[[], datetime]
# Composes of one station that lose the race to record its next batch (another process
# recorded it first) start again from what was recorded; this many tries, then a refusal.
RACE_ATTEMPTS = 4


class StationsCore:
    def __init__(
        self,
        *,
        engine: Engine,
        composer: StationComposer,
        names: NameIndex,
        batch_size: int = 5,
        clock: Clock = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self._engine = engine
        self._composer = composer
        self._names = names
        self._batch_size = batch_size
        self._clock = clock
        self._rng = rng or random.Random()
        self._played = PlayedMemo()
        self._feedback = FeedbackMemo()
        self._turns = Turns()

    def user(self, provider: str, external_id: str, display_name: str | None = None) -> UserId:
        with self._engine.begin() as conn:
            return repo.get_or_create_user(
                conn=conn, provider=provider, external_id=external_id, display_name=display_name
            )

    def _active(self, conn: Connection, user: UserId) -> tuple[Station, bool]:
        found = repo.get_active(conn=conn, user=user)
        if found is None:
            raise NoStation()
        station = repo.get_station(conn=conn, station_id=found[0])
        if station is None:
            raise NoStation()
        return station, found[1]

    def _own(
        self, conn: Connection, user: UserId, target: str | None, *, exact: bool = False
    ) -> Station:
        """The user's station named ``target`` (or numbered, as /stations lists them), or the
        active one when ``target`` is None. Never someone else's. A unique part of a name is
        enough, except where ``exact`` (deleting is never done on a guess)."""
        if target is None:
            station, read_only = self._active(conn, user)
            if read_only:
                raise ReadOnly(
                    f'"{station.name}" is someone else\'s shared station. '
                    f"/copy {station.share_code} makes it yours to change."
                )
            return station
        stations = repo.list_stations(conn=conn, owner=user)
        target = target.strip().strip("\"'“”")
        if target.isdigit() and 1 <= int(target) <= len(stations):
            return stations[int(target) - 1]
        for s in stations:
            if s.name.casefold() == target.casefold():
                return s
        close = [s.name for s in stations if target.casefold() in s.name.casefold()]
        if len(close) == 1 and not exact:
            return next(s for s in stations if s.name == close[0])
        hint = f" Did you mean: {', '.join(close[:3])}?" if close else " See /stations."
        raise NotFound(f'You have no station called "{target}".{hint}')

    @staticmethod
    def _own_id(conn: Connection, user: UserId, station_id: StationId) -> Station:
        """The user's station by id; NotFound for a missing or someone else's one alike (a
        stranger's ids are not theirs to probe)."""
        station = repo.get_station(conn=conn, station_id=station_id)
        if station is None or station.owner != user:
            raise NotFound("No such station.")
        return station

    def next(self, user: UserId, *, station: StationId | None = None) -> Batch:
        """The next batch of the active station, or of the user's own ``station`` (the API
        names one), recorded as shown to this user."""
        with self._engine.connect() as conn:  # one connection for the station and its context
            if station is not None:
                playing, read_only = self._own_id(conn, user, station), False
            else:
                playing, read_only = self._active(conn, user)
            ctx = self._context(conn, playing, user)
        return self._compose(user, playing, read_only, ctx)

    def _next_of(
        self,
        user: UserId,
        station: Station,
        read_only: bool,
        *,
        n: int | None = None,
    ) -> Batch:
        with self._engine.connect() as conn:
            ctx = self._context(conn, station, user)
        return self._compose(user, station, read_only, ctx, n=n)

    def _compose(
        self,
        user: UserId,
        station: Station,
        read_only: bool,
        ctx: StationContext,
        *,
        n: int | None = None,
    ) -> Batch:
        """The next batch from ``ctx``, recorded. Two calls for one station at once (a double
        click, a retried request, two compose workers) once both recorded "the newest + 1",
        the second replaying the first one's tracks. Threads here take turns; a call that
        another process beat to the number composes again from what that one recorded."""
        key = (station.id, user)
        with self._turns.turn(key):
            known = self._played.newest(key)
            if known is not None and known > ctx.batch_no:  # a thread here recorded one
                with self._engine.connect() as conn:  # while this one waited its turn
                    ctx = self._context(conn, station, user)
            for _ in range(RACE_ATTEMPTS):
                picks = self._composer.next_batch(ctx, n=n or self._batch_size, rng=self._rng)
                if not picks:
                    raise StationError(
                        f'"{station.name}" has run out of tracks that fit. Try "surprise me", '
                        "loosen a limit (a decade, clean only), or start a new mood."
                    )
                try:
                    return self._recorded(user, station, read_only, picks, after=ctx.batch_no)
                except fb.BatchTaken:
                    with self._engine.connect() as conn:
                        ctx = self._context(conn, station, user)
        raise StationError(
            f'"{station.name}" is busy with other requests for its next batch; try again.'
        )

    def _recorded(
        self,
        user: UserId,
        station: Station,
        read_only: bool,
        picks: Sequence[Pick],
        *,
        after: int | None = None,
    ) -> Batch:
        """Record ``picks`` as the station's next batch for ``user`` and make its cards
        (``after``: the batch number they were composed after, see ``record_batch``)."""
        with self._engine.begin() as conn:
            number = fb.record_batch(
                conn=conn, station=station.id, listener=user, picks=picks, now=self._clock(),
                after=after,
            )  # fmt: skip
        self._played.recorded((station.id, user), number, (p.track for p in picks))
        facts = self._composer.catalog.tracks(p.track for p in picks)
        cards = tuple(
            Card(i, facts[p.track], p.reason, p.source)
            for i, p in enumerate(picks, 1)
            if p.track in facts
        )
        return Batch(station, number, cards, read_only)

    def _context(self, conn: Connection, station: Station, listener: UserId) -> StationContext:
        feedback = self._feedback.read(conn, station.id)  # ``conn`` has written nothing
        disliked = fb.disliked_tracks(conn=conn, user=listener)
        batch_no = fb.batches_shown(conn=conn, station=station.id, listener=listener)
        key = (station.id, listener)
        played = self._played_up_to(conn, key, batch_no)
        dislikes = [f.track for f in feedback if f.reaction is Reaction.DISLIKE]
        facts = self._composer.catalog.tracks(dislikes)
        return StationContext.build(
            station,
            feedback=feedback,
            played=played,
            disliked_anywhere=disliked,
            artist_of={t: facts[t].artist.id for t in dislikes if t in facts},
            batch_no=batch_no,
        )

    def _played_up_to(
        self, conn: Connection, key: tuple[StationId, UserId], batch_no: int
    ) -> frozenset[TrackId]:
        """Every track the station played the listener up to batch ``batch_no``: from the memo,
        grown by the batches recorded since it was taken when it is older (another process, a
        compose worker or a second bot, recorded them), or read whole."""
        station, listener = key
        played = self._played.get(key, batch_no)
        if played is not None:
            return played
        known = self._played.known(key)
        if known is not None and known[0] < batch_no:
            newer = fb.played_since(conn=conn, station=station, listener=listener, after=known[0])
            grown = known[1] | newer
            if len(grown) <= self._played.most:  # past that, the newest ``most`` only count
                played = grown
        if played is None:
            played = frozenset(fb.played(conn=conn, station=station, listener=listener))
        self._played.put(key, batch_no, played)
        return played
