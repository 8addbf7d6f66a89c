"""Writing one user's playlist for one purpose so that it holds exactly the recorded contents.

The record (``storage.spotify``) is written before any call here. Each ``sync`` is one
attempt; the caller repeats it after a 429 or an outage with ``careful=True``, which reads
the playlist first (an earlier attempt, or a request whose answer was lost, may have written
part of it) and appends the rest, or replaces it when it holds anything but a prefix.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from spotify.api import MAX_ITEMS_PER_REQUEST, NotFound, PlaylistInfo, SpotifyApi, Unavailable
from spotify.plan import best_match, chunks, resume_point, unique
from storage import spotify as repo
from wavelength.domain import TrackId, UserId
from wavelength.ids import spotify_uri

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

Clock = Callable[[], datetime]
PLAYABLE_TTL = timedelta(days=1)


@dataclass(slots=True)
class Outcome:
    """What happened to the playlist across the attempts of one push."""

    created: bool = False
    recreated: bool = False


@dataclass(frozen=True, slots=True)
class Resolved:
    uris: list[str] = field(default_factory=list)
    unmatched: int = 0  # no Spotify URI and no search match
    unplayable: int = 0  # not playable in the user's market


class Playability:
    """Whether a track plays in a user's market, asked once a day rather than every push."""

    def __init__(self, clock: Clock, limit: int = 100_000) -> None:
        self._clock = clock
        self._limit = limit
        self._known: dict[tuple[UserId, str], tuple[bool, datetime]] = {}

    def remember(self, user: UserId, uri: str, playable: bool) -> None:
        if len(self._known) >= self._limit:
            self._known.clear()
        self._known[(user, uri)] = (playable, self._clock())

    def check(self, api: SpotifyApi, user: UserId, uri: str) -> bool:
        known = self._known.get((user, uri))
        if known is not None and self._clock() - known[1] < PLAYABLE_TTL:
            return known[0]
        try:
            playable = api.track(uri).playable is not False
        except NotFound:  # taken off Spotify
            playable = False
        self.remember(user, uri, playable)
        return playable


class PlaylistWriter:
    """Pushes for one user through one client; ``me`` is their Spotify user id."""

    def __init__(
        self,
        *,
        engine: Engine,
        api: SpotifyApi,
        user: UserId,
        me: str,
        playability: Playability,
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._api = api
        self._user = user
        self._me = me
        self._playability = playability
        self._clock = clock

    def resolve(self, track_ids: Sequence[TrackId]) -> Resolved:
        """Spotify URIs for catalog tracks, in order: a URI id is used as it is, others are
        matched by search (remembered) or counted unmatched; unplayable ones are dropped."""
        wanted = list(dict.fromkeys(track_ids))
        direct = {t: spotify_uri(t, "track") for t in wanted if t.startswith("spotify:track:")}
        others = [t for t in wanted if not direct.get(t)]
        with self._engine.connect() as conn:
            matches = repo.get_matches(conn=conn, track_ids=others)
            names = repo.track_names(conn=conn, track_ids=[t for t in others if t not in matches])
        found: dict[TrackId, str | None] = {}
        try:
            for track_id, (title, artist) in names.items():
                results = self._api.search_tracks(title=title, artist=artist)
                match = best_match(results, title=title, artist=artist)
                found[track_id] = match.uri if match else None
                if match is not None and match.playable is not None:
                    self._playability.remember(self._user, match.uri, match.playable)
        finally:  # keep what was searched even when a 429 cuts the loop short
            with self._engine.begin() as conn:
                repo.put_matches(conn=conn, matches=found, now=self._clock())
        matches.update(found)
        uris = [direct.get(t) or matches.get(t) for t in wanted]
        present = unique([u for u in uris if u])
        playable = [u for u in present if self._playability.check(self._api, self._user, u)]
        return Resolved(
            uris=playable,
            unmatched=sum(1 for u in uris if not u),
            unplayable=len(present) - len(playable),
        )

    def sync(self, purpose: str, outcome: Outcome, *, careful: bool) -> tuple[str, int]:
        """One attempt at making the playlist match the record; returns (playlist id, items).
        ``careful``: an earlier attempt may have written some of it, so read before writing
        and check afterwards."""
        with self._engine.connect() as conn:
            record = repo.get_push(conn=conn, user=self._user, purpose=purpose)
        if record is None:
            raise LookupError(f"no push recorded for {purpose!r}")
        playlist, fresh = self._ensure_playlist(record, outcome)
        api, intended = self._api, list(record.uris)
        try:
            shown = html.unescape(playlist.description)  # Spotify hands it back escaped
            if playlist.name != record.name or shown != record.description:
                api.change_details(playlist.id, name=record.name, description=record.description)
            start: int | None = 0 if fresh else None
            if careful and not fresh:
                start = resume_point([t.uri for t in api.playlist_items(playlist.id)], intended)
            wrote = start is None or start < len(intended)
            if start is None:
                api.replace_items(playlist.id, intended[:MAX_ITEMS_PER_REQUEST])
                start = min(len(intended), MAX_ITEMS_PER_REQUEST)
                self._progress(purpose, start)
            for chunk in chunks(intended[start:]):
                api.add_items(playlist.id, chunk)
                start += len(chunk)
                self._progress(purpose, start)
            if careful and wrote and [t.uri for t in api.playlist_items(playlist.id)] != intended:
                # Someone (or a request Spotify applied late) changed it meanwhile: again.
                raise Unavailable("the playlist changed while it was written")
        except NotFound:
            # Deleted while we wrote to it: forget it; the next attempt makes a new one.
            self._set_playlist(purpose, None, repo.PENDING)
            outcome.recreated = True
            raise Unavailable("the playlist disappeared") from None
        with self._engine.begin() as conn:
            repo.finish_push(conn=conn, user=self._user, purpose=purpose, now=self._clock())
        return playlist.id, len(intended)

    def _ensure_playlist(
        self, record: repo.PushRecord, outcome: Outcome
    ) -> tuple[PlaylistInfo, bool]:
        """The recorded playlist if the user still has it, else an adopted or a new one;
        the flag says it was created just now (so it is known to be empty)."""
        owned = [p for p in self._api.playlists() if p.owner == self._me]
        by_id = {p.id: p for p in owned}
        if record.playlist_id is not None:
            if record.playlist_id in by_id:
                return by_id[record.playlist_id], False
            kept = self._unlisted(record)
            if kept is not None:
                return kept, False
            outcome.recreated = True
            self._set_playlist(record.purpose, None, repo.PENDING)
        if record.state == repo.CREATING and record.created_name:
            # A create may have landed before its id was recorded (crash, lost answer):
            # adopt a playlist of ours with that name rather than make a second one.
            with self._engine.connect() as conn:
                taken = {p.playlist_id for p in repo.pushes_of(conn=conn, user=self._user)}
            adopted = next(
                (p for p in owned if p.name == record.created_name and p.id not in taken), None
            )
            if adopted is not None:
                self._set_playlist(record.purpose, adopted.id, repo.PENDING)
                return adopted, False
        self._set_playlist(record.purpose, None, repo.CREATING, created_name=record.name)
        created = self._api.create_playlist(name=record.name, description=record.description)
        self._set_playlist(record.purpose, created.id, repo.PENDING)
        outcome.created = not outcome.recreated
        return created, True

    def _unlisted(self, record: repo.PushRecord) -> PlaylistInfo | None:
        """The recorded playlist, missing from the user's library: still ours when it was
        never completed (a library listing can lag behind a create), else gone.

        Deleting a playlist in Spotify's apps only unfollows it and the API still serves it
        by id, so a playlist that was complete once and has left the library was deleted."""
        if record.completed_at is not None or record.playlist_id is None:
            return None
        try:
            found = self._api.playlist(record.playlist_id)
        except NotFound:
            return None
        return found if found.owner == self._me else None

    def _set_playlist(
        self, purpose: str, playlist_id: str | None, state: str, *, created_name: str | None = None
    ) -> None:
        with self._engine.begin() as conn:
            repo.set_push_playlist(
                conn=conn, user=self._user, purpose=purpose, playlist_id=playlist_id,
                state=state, now=self._clock(), created_name=created_name,
            )  # fmt: skip

    def _progress(self, purpose: str, written: int) -> None:
        with self._engine.begin() as conn:
            repo.set_push_progress(
                conn=conn, user=self._user, purpose=purpose, written=written, now=self._clock()
            )
