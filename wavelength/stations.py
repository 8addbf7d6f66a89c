"""The station service: a listener's stations, batches and reactions, over storage and the engine.

Platform-neutral and text-free: it takes user ids and parsed requests and returns values
(``Batch``, ``Card``, ...) or raises a ``StationError`` whose message can be shown as it is.
Discord, Telegram, the console and the HTTP API all go through here, so a user can only ever
act on their own stations (or, read-only, on a station someone shared on purpose).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from recommender.mood import parse_mood
from recommender.station import StationComposer, StationContext
from storage import feedback as fb
from storage import lookup
from storage import picks as picks_repo
from storage import stations as repo
from wavelength.domain import (
    ArtistId,
    Familiarity,
    Feedback,
    Mood,
    Pick,
    PlaylistId,
    Reaction,
    Station,
    StationId,
    Steer,
    Track,
    TrackId,
    Tuning,
    UserId,
)
from wavelength.feedback_memo import FeedbackMemo
from wavelength.played_memo import PlayedMemo

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from recommender.mood import NameIndex, Unresolved

Clock = Callable[[], datetime]
MAX_WEIGHT = 3.0  # tuning weights run 0..3; 1 is the default balance
DAILY_NAME = "Daily picks"
DAILY_MOOD = "today's picks, from what you liked"
DAILY_FRESH = timedelta(days=14)  # what any station played lately stays out of the picks
MAX_STATIONS = 50  # per user: plenty for moods, a bound for storage and /stations lists


class StationError(Exception):
    """Something the listener asked for cannot be done; ``str(error)`` says why, kindly."""


class NoStation(StationError):
    def __init__(self) -> None:
        super().__init__(
            'You have no station playing. Tell me a mood ("rainy sunday jazz for reading") '
            "or pick one from /stations."
        )


class NotFound(StationError):
    pass


class ReadOnly(StationError):
    pass


class DidYouMean(StationError):
    """Names in a request that could not be pinned down; nothing was created."""

    def __init__(self, unresolved: tuple[Unresolved, ...]) -> None:
        self.unresolved = unresolved
        super().__init__(self._text())

    def _text(self) -> str:
        parts = []
        for u in self.unresolved:
            if u.suggestions:
                options = ", ".join(u.suggestions[:3])
                parts.append(f'I\'m not sure who "{u.text}" is. Did you mean: {options}?')
            else:
                parts.append(f'I don\'t know "{u.text}" in this catalog.')
        return " ".join(parts) + " Try again with the exact name, or leave it out."


@dataclass(frozen=True, slots=True)
class Card:
    position: int  # 1-based within its batch: what people type to react ("👍 2")
    track: Track
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class Batch:
    station: Station
    number: int
    cards: tuple[Card, ...]
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class Reacted:
    reaction: Reaction
    tracks: tuple[Track, ...]
    banned_artist: str | None = None  # set when this dislike stopped an artist here


@dataclass(frozen=True, slots=True)
class Explanation:
    card: Card
    station: Station
    liked_on_station: int
    disliked_on_station: int


class StationService:
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

    # -- identity ---------------------------------------------------------------------------

    def user(self, provider: str, external_id: str, display_name: str | None = None) -> UserId:
        with self._engine.begin() as conn:
            return repo.get_or_create_user(
                conn=conn, provider=provider, external_id=external_id, display_name=display_name
            )

    # -- stations ---------------------------------------------------------------------------

    def create(self, user: UserId, text: str, *, name: str | None = None) -> Batch:
        """A new station from a mood in words; it becomes the active one."""
        parsed = parse_mood(text, self._names, this_year=self._clock().year)
        if parsed.unresolved:
            raise DidYouMean(parsed.unresolved)
        return self._create(user, parsed.mood, name=name)

    def from_playlist(
        self, user: UserId, playlist: PlaylistId, title: str, tracks: Sequence[TrackId]
    ) -> Batch:
        """A station whose style is a playlist's tracks (the ``radio: <name>`` playlists):
        its title is the mood and its tracks start as the station's likes."""
        name = title.removeprefix("radio:").strip() or title
        mood = Mood(original=name, text=name)
        return self._create(user, mood, name=None, seed_playlist=playlist, seed_tracks=tracks)

    def from_catalog_playlist(self, user: UserId, name: str) -> Batch:
        """A station seeded from a human playlist in the catalog, found by its title."""
        with self._engine.connect() as conn:
            found = lookup.playlist_by_name(conn=conn, name=name)
        if found is None:
            raise NotFound(f'I found no playlist called "{name.strip()[:60]}" in the catalog.')
        pid, title, tracks = found
        return self.from_playlist(user, PlaylistId(pid), title, [TrackId(t) for t in tracks])

    def _create(
        self,
        user: UserId,
        mood: Mood,
        *,
        name: str | None,
        seed_playlist: PlaylistId | None = None,
        seed_tracks: Sequence[TrackId] = (),
    ) -> Batch:
        now = self._clock()
        with self._engine.begin() as conn:
            existing = repo.list_stations(conn=conn, owner=user)
            _check_room(existing)
            taken = {s.name.casefold() for s in existing}
            try:
                station = repo.create_station(
                    conn=conn,
                    owner=user,
                    name=name.strip() if name else _unique_name(default_name(mood), taken),
                    mood=mood,
                    seed_playlist=seed_playlist,
                    now=now,
                )
            except repo.DuplicateStationName as exc:
                raise StationError(f'You already have a station called "{exc.name}".') from None
            except ValueError as exc:  # an explicit name that is blank or too long
                raise StationError(f"That name won't work: {exc}.") from None
            for track in seed_tracks:
                fb.add_feedback(
                    conn=conn, user=user, station=station.id, track=track,
                    reaction=Reaction.LIKE, now=now, copied=True,
                )  # fmt: skip
            repo.set_active(conn=conn, user=user, station_id=station.id)
        return self.next(user)

    def active(self, user: UserId) -> tuple[Station, bool]:
        with self._engine.connect() as conn:
            return self._active(conn, user)

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

    def owned(self, user: UserId, station_id: StationId) -> Station:
        """The user's own station by id (NotFound otherwise): the API's scoping check."""
        with self._engine.connect() as conn:
            return self._own_id(conn, user, station_id)

    @staticmethod
    def _own_id(conn: Connection, user: UserId, station_id: StationId) -> Station:
        """The user's station by id; NotFound for a missing or someone else's one alike (a
        stranger's ids are not theirs to probe)."""
        station = repo.get_station(conn=conn, station_id=station_id)
        if station is None or station.owner != user:
            raise NotFound("No such station.")
        return station

    def stations(self, user: UserId) -> tuple[list[Station], StationId | None]:
        with self._engine.connect() as conn:
            active = repo.get_active(conn=conn, user=user)
            return repo.list_stations(conn=conn, owner=user), active[0] if active else None

    def switch(self, user: UserId, target: str) -> Batch:
        with self._engine.begin() as conn:
            station = self._own(conn, user, target)
            repo.set_active(conn=conn, user=user, station_id=station.id)
        return self.next(user)

    def rename(self, user: UserId, new: str, target: str | None = None) -> tuple[str, Station]:
        with self._engine.begin() as conn:
            station = self._own(conn, user, target)
            renamed = replace(station, name=new.strip())
            try:
                repo.save_station(conn=conn, station=renamed, now=self._clock())
            except repo.DuplicateStationName:
                raise StationError(f'You already have a station called "{new.strip()}".') from None
            except ValueError as exc:
                raise StationError(f"That name won't work: {exc}.") from None
        return station.name, renamed

    def delete(self, user: UserId, target: str) -> Station:
        with self._engine.begin() as conn:
            station = self._own(conn, user, target, exact=True)
            repo.delete_station(conn=conn, owner=user, station_id=station.id)
        self._played.forget(station.id)  # SQLite may give a new station the same id
        self._feedback.forget(station.id)
        return station

    def share(
        self, user: UserId, target: str | None = None, *, station_id: StationId | None = None
    ) -> tuple[Station, str]:
        with self._engine.begin() as conn:
            if station_id is not None:
                station = self._own_id(conn, user, station_id)
            else:
                station = self._own(conn, user, target)
            code = repo.new_share_code(conn=conn, station_id=station.id)
        return replace(station, share_code=code), code

    def join(self, user: UserId, code: str) -> Batch:
        """Play someone's shared station read-only."""
        with self._engine.begin() as conn:
            station = self._shared(conn, code)
            own = station.owner == user
            repo.set_active(conn=conn, user=user, station_id=station.id, read_only=not own)
        return self.next(user)

    def copy(self, user: UserId, code: str) -> Batch:
        """A copy of a shared station, with its reactions, that the user owns and can teach."""
        now = self._clock()
        with self._engine.begin() as conn:
            source = self._shared(conn, code)
            existing = repo.list_stations(conn=conn, owner=user)
            _check_room(existing)
            taken = {s.name.casefold() for s in existing}
            copy = repo.copy_station(
                conn=conn, source=source, new_owner=user,
                name=_unique_name(source.name, taken), now=now,
            )  # fmt: skip
            repo.set_active(conn=conn, user=user, station_id=copy.id)
        return self.next(user)

    @staticmethod
    def _shared(conn: Connection, code: str) -> Station:
        station = repo.station_by_share_code(conn=conn, code=code.strip())
        if station is None:
            raise NotFound(f'No station is shared with the code "{code.strip()[:16]}".')
        return station

    # -- batches ----------------------------------------------------------------------------

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

    def daily_picks(self, user: UserId, *, n: int | None = None) -> Batch | None:
        """Today's picks for one user (``daily_picks_many`` for one); None when nothing is
        known about their taste yet."""
        return self.daily_picks_many([user], n=n).get(user)

    def daily_picks_many(
        self, users: Sequence[UserId], *, n: int | None = None
    ) -> dict[UserId, Batch]:
        """Today's picks: tracks near what each user liked anywhere (and played most), as the
        next batch of their own "Daily picks" station. Users with no known taste are left
        out. It is an ordinary station: nothing repeats from day to day, reactions to its
        cards teach it, /switch plays it; the active station is left alone. Reads and writes
        are batched across users and each user costs one store query
        (``StationComposer.around``): this runs for every listener each day."""
        now = self._clock()
        with self._engine.begin() as conn:
            seeds = {
                u: s for u, s in picks_repo.taste_seeds_many(conn=conn, users=users).items() if s
            }
            if not seeds:
                return {}
            owners = list(seeds)
            stations = repo.named_stations(conn=conn, owners=owners, name=DAILY_NAME)
            moods = {
                u: Mood(original=DAILY_MOOD, text="", seed_tracks=tuple(seeds[u])) for u in owners
            }
            existing = [u for u in owners if u in stations]
            repo.set_moods(conn=conn, moods=[(stations[u].id, moods[u]) for u in existing], now=now)
            for u in owners:
                if u in stations:
                    stations[u] = replace(stations[u], mood=moods[u])
                else:
                    stations[u] = repo.create_station(
                        conn=conn, owner=u, name=DAILY_NAME, mood=moods[u], now=now
                    )
            # Nothing they heard anywhere lately, nothing played here, nothing disliked.
            recent = picks_repo.shown_since_many(
                conn=conn, listeners=owners, since=now - DAILY_FRESH
            )
            here = picks_repo.played_on(conn=conn, stations=[stations[u].id for u in owners])
            disliked = picks_repo.disliked_many(conn=conn, users=owners)
        picked: dict[UserId, list[Pick]] = {}
        for u in owners:
            never = recent.get(u, set()) | here.get(stations[u].id, set()) | disliked.get(u, set())
            found = self._composer.around(seeds[u], never=never, n=n or self._batch_size)
            if found:
                picked[u] = found
        with self._engine.begin() as conn:
            numbers = picks_repo.record_batches(
                conn=conn, batches=[(stations[u].id, u, p) for u, p in picked.items()], now=now
            )
        facts = self._composer.catalog.tracks(p.track for ps in picked.values() for p in ps)
        return {
            u: Batch(
                stations[u],
                numbers[stations[u].id],
                tuple(
                    Card(i, facts[p.track], p.reason, p.source)
                    for i, p in enumerate(ps, 1)
                    if p.track in facts
                ),
            )
            for u, ps in picked.items()
        }

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
        picks = self._composer.next_batch(ctx, n=n or self._batch_size, rng=self._rng)
        if not picks:
            raise StationError(
                f'"{station.name}" has run out of tracks that fit. Try "surprise me", '
                "loosen a limit (a decade, clean only), or start a new mood."
            )
        return self._recorded(user, station, read_only, picks)

    def _recorded(
        self, user: UserId, station: Station, read_only: bool, picks: Sequence[Pick]
    ) -> Batch:
        """Record ``picks`` as the station's next batch for ``user`` and make its cards."""
        with self._engine.begin() as conn:
            number = fb.record_batch(
                conn=conn, station=station.id, listener=user, picks=picks, now=self._clock()
            )
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
        played = self._played.get(key, batch_no)
        if played is None:
            played = frozenset(fb.played(conn=conn, station=station.id, listener=listener))
            self._played.put(key, batch_no, played)
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

    # -- reactions --------------------------------------------------------------------------

    def react(self, user: UserId, reaction: Reaction, positions: Sequence[int]) -> Reacted:
        """React to cards of the last batch by number (no numbers: the first card)."""
        with self._engine.begin() as conn:
            station = self._own(conn, user, None)
            shown = fb.last_batch(conn=conn, station=station.id, listener=user)
            if not shown:
                raise StationError("Nothing has played on this station yet: say /next first.")
            by_position = {s.position: s.track for s in shown}
            wanted = list(dict.fromkeys(positions)) or [1]
            missing = [p for p in wanted if p not in by_position]
            if missing:
                raise StationError(
                    f"There's no card {missing[0]} in the last batch "
                    f"(it had {len(shown)}: 1–{len(shown)})."
                )
            tracks = [by_position[p] for p in wanted]
            return self._record(conn, user, station, tracks, reaction)

    def react_to_track(
        self,
        user: UserId,
        station_id: StationId,
        track: TrackId,
        reaction: Reaction,
        *,
        strangers_see_nothing: bool = False,
    ) -> Reacted:
        """A reaction to a card by its track (Discord and Telegram reactions arrive so, even
        for cards several batches back). Only the station's owner teaches it, and only about
        a track it showed them. ``strangers_see_nothing``: someone else's station is NotFound,
        as the API answers (a stranger's ids are not theirs to probe)."""
        with self._engine.begin() as conn:
            station = repo.get_station(conn=conn, station_id=station_id)
            if station is None or (strangers_see_nothing and station.owner != user):
                raise NotFound(
                    "No such station."
                    if strangers_see_nothing
                    else "That station doesn't exist any more."
                )
            if station.owner != user:
                raise ReadOnly(
                    f'"{station.name}" is someone else\'s station: your reactions teach your '
                    "own stations. /copy it to make it yours."
                )
            if not fb.was_shown(conn=conn, station=station_id, listener=user, track=track):
                raise StationError("That track wasn't played to you on this station.")
            return self._record(conn, user, station, [track], reaction)

    def saved_tracks(self, user: UserId, *, limit: int = 500) -> tuple[Station, list[TrackId]]:
        """The user's own active station and what it has played them, oldest first, minus
        what they disliked: the playlist /save puts in Spotify."""
        with self._engine.connect() as conn:
            station = self._own(conn, user, None)
            played = fb.played(conn=conn, station=station.id, listener=user, limit=limit)
            disliked = fb.disliked_tracks(conn=conn, user=user)
        return station, [t for t in reversed(played) if t not in disliked]

    def react_for_taste(self, user: UserId, track: TrackId, reaction: Reaction) -> Reacted:
        """A reaction to a card shown to someone else: it teaches the reacting user's own
        taste (no station), never the card owner's station."""
        with self._engine.begin() as conn:
            fb.add_feedback(
                conn=conn,
                user=user,
                station=None,
                track=track,
                reaction=reaction,
                now=self._clock(),
            )
        facts = self._composer.catalog.tracks([track])
        return Reacted(reaction, tuple(facts[t] for t in [track] if t in facts))

    def unreact(
        self, user: UserId, track: TrackId, reaction: Reaction
    ) -> tuple[Feedback, Track | None] | None:
        """Take back the user's newest ``reaction`` to ``track`` (a chat reaction removed)."""
        with self._engine.begin() as conn:
            undone = fb.undo_last(
                conn=conn, user=user, now=self._clock(), track=track, reaction=reaction
            )
        if undone is None:
            return None
        return undone, self._composer.catalog.tracks([track]).get(track)

    def why_track(self, listener: UserId, station_id: StationId, track: TrackId) -> Explanation:
        """Why a posted card's track was played (its reason when it was shown)."""
        with self._engine.connect() as conn:
            station = repo.get_station(conn=conn, station_id=station_id)
            shown = fb.shown_reason(conn=conn, station=station_id, listener=listener, track=track)
            if station is None or shown is None:
                raise NotFound("That card's station is gone, so I can't say why any more.")
            feedback = fb.feedback_for_station(conn=conn, station=station_id)
        facts = self._composer.catalog.tracks([track])
        if track not in facts:
            raise StationError("That track has left the catalog since it was shown.")
        return Explanation(
            Card(shown.position, facts[track], shown.reason, shown.source),
            station,
            sum(1 for f in feedback if f.reaction.positive),
            sum(1 for f in feedback if not f.reaction.positive),
        )

    def _record(
        self,
        conn: Connection,
        user: UserId,
        station: Station,
        tracks: Sequence[TrackId],
        reaction: Reaction,
    ) -> Reacted:
        now = self._clock()
        # Only a dislike can stop an artist; other reactions skip the before/after comparison
        # (it costs the station's whole context, twice, on the hot path of every reaction).
        dislike = reaction is Reaction.DISLIKE
        before = self._banned(conn, station) if dislike else frozenset()
        for track in tracks:
            fb.add_feedback(
                conn=conn, user=user, station=station.id, track=track, reaction=reaction, now=now
            )
        after = self._banned(conn, station) if dislike else frozenset()
        facts = self._composer.catalog.tracks(tracks)
        newly = after - before
        banned = None
        if newly:
            artists = self._composer.catalog.artists(newly)
            banned = ", ".join(sorted(a.name for a in artists.values())) or None
        return Reacted(reaction, tuple(facts[t] for t in tracks if t in facts), banned)

    def _banned(self, conn: Connection, station: Station) -> frozenset[ArtistId]:
        """The artists this station leaves out, by its own bans and repeated dislikes."""
        # Called in the reaction's transaction, after its inserts too: never remembered.
        feedback = self._feedback.read(conn, station.id, remember=False)
        dislikes = [f.track for f in feedback if f.reaction is Reaction.DISLIKE]
        facts = self._composer.catalog.tracks(dislikes)
        artist_of = {t: facts[t].artist.id for t in dislikes if t in facts}
        return StationContext.build(station, feedback=feedback, artist_of=artist_of).banned_artists

    def undo(self, user: UserId) -> tuple[Feedback, Track | None] | None:
        with self._engine.begin() as conn:
            undone = fb.undo_last(conn=conn, user=user, now=self._clock())
        if undone is None:
            return None
        return undone, self._composer.catalog.tracks([undone.track]).get(undone.track)

    def history(self, user: UserId, *, limit: int = 15) -> list[tuple[Feedback, Track | None]]:
        with self._engine.connect() as conn:
            feedback = fb.recent_feedback(conn=conn, user=user, limit=limit)
        facts = self._composer.catalog.tracks(f.track for f in feedback)
        return [(f, facts.get(f.track)) for f in feedback]

    def why(self, user: UserId, position: int | None) -> Explanation:
        with self._engine.connect() as conn:
            station, _ = self._active(conn, user)
            shown = fb.last_batch(conn=conn, station=station.id, listener=user)
            feedback = fb.feedback_for_station(conn=conn, station=station.id)
        if not shown:
            raise StationError("Nothing has played on this station yet: say /next first.")
        pos = position or 1
        match = [s for s in shown if s.position == pos]
        if not match:
            raise StationError(f"There's no card {pos} in the last batch (1–{len(shown)}).")
        track = self._composer.catalog.tracks([match[0].track]).get(match[0].track)
        if track is None:
            raise StationError("That track has left the catalog since it was shown.")
        return Explanation(
            Card(pos, track, match[0].reason, match[0].source),
            station,
            sum(1 for f in feedback if f.reaction.positive),
            sum(1 for f in feedback if not f.reaction.positive),
        )

    # -- steering ---------------------------------------------------------------------------

    def refine(self, user: UserId, steer: Steer) -> Batch:
        """Steer the active station in words, then play the next batch."""
        return self._change(user, lambda s: replace(s, steers=(*s.steers, steer)[-12:]))

    def tune(
        self,
        user: UserId,
        *,
        style: float | None = None,
        like: float | None = None,
        dislike: float | None = None,
        familiarity: Familiarity | None = None,
        station: StationId | None = None,
    ) -> Batch:
        """New weights for the active station (or the user's own ``station``), then its
        next batch."""
        for label, weight in (("style", style), ("like", like), ("dislike", dislike)):
            if weight is not None and not 0 <= weight <= MAX_WEIGHT:
                raise StationError(
                    f"{label} must be between 0 and {MAX_WEIGHT:g} (1 is the default), "
                    f"not {weight:g}."
                )

        def apply(station: Station) -> Station:
            t = station.tuning
            return replace(
                station,
                tuning=Tuning(
                    style=t.style if style is None else style,
                    like=t.like if like is None else like,
                    dislike=t.dislike if dislike is None else dislike,
                    familiarity=t.familiarity if familiarity is None else familiarity,
                ),
            )

        return self._change(user, apply, station=station)

    def no_more(self, user: UserId, name: str) -> tuple[str, Batch]:
        """Stop an artist on the active station."""
        matches = self._names.artists(name, limit=3)
        if not matches or matches[0].score < 90:
            raise DidYouMean((_unresolved(name, tuple(m.name for m in matches if m.score >= 70)),))
        artist = ArtistId(matches[0].id)
        batch = self._change(
            user,
            lambda s: replace(s, banned_artists=tuple(dict.fromkeys((*s.banned_artists, artist)))),
        )
        return matches[0].name, batch

    def more_like(self, user: UserId, position: int | None) -> Batch:
        """ "More like this": the card becomes a like, and the next batch follows it."""
        self.react(user, Reaction.LIKE, [position] if position else [])
        return self.next(user)

    def _change(
        self,
        user: UserId,
        change: Callable[[Station], Station],
        *,
        station: StationId | None = None,
    ) -> Batch:
        with self._engine.begin() as conn:
            if station is None:
                current = self._own(conn, user, None)
            else:
                current = self._own_id(conn, user, station)
            repo.save_station(conn=conn, station=change(current), now=self._clock())
        return self.next(user, station=station)


def default_name(mood: Mood) -> str:
    words = " ".join(mood.original.split())
    if len(words) > 40:
        words = words[:40].rsplit(" ", 1)[0] + "…"
    return words[:1].upper() + words[1:] if words else "My station"


def _check_room(existing: Sequence[Station]) -> None:
    if len(existing) >= MAX_STATIONS:
        raise StationError(
            f"You have {len(existing)} stations, the most I keep. "
            "Delete one (/delete NAME) to make room."
        )


def _unique_name(name: str, taken: set[str]) -> str:
    """``name``, or "name 2", "name 3", ... when taken (shortened to fit ``NAME_MAX``)."""
    if name.casefold() not in taken:
        return name
    n = 2
    while _numbered(name, n).casefold() in taken:
        n += 1
    return _numbered(name, n)


def _numbered(name: str, n: int) -> str:
    suffix = f" {n}"
    return name[: repo.NAME_MAX - len(suffix)].rstrip() + suffix


def _unresolved(text: str, suggestions: tuple[str, ...]) -> Unresolved:
    from recommender.mood import Unresolved

    return Unresolved(text=text, suggestions=suggestions)
