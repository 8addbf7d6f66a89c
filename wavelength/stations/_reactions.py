"""Reactions to what a station played, taking them back, and why a track was played."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recommender.station import StationContext
from storage import feedback as fb
from storage import stations as repo
from wavelength.domain import (
    ArtistId,
    Feedback,
    Reaction,
    Station,
    StationId,
    Track,
    TrackId,
    UserId,
)
from wavelength.stations._core import StationsCore
from wavelength.stations._types import (
    Batch,
    Card,
    Explanation,
    NotFound,
    Reacted,
    ReadOnly,
    StationError,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class Reactions(StationsCore):
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

    def more_like(self, user: UserId, position: int | None) -> Batch:
        """ "More like this": the card becomes a like, and the next batch follows it."""
        self.react(user, Reaction.LIKE, [position] if position else [])
        return self.next(user)
