"""Pushing: one playlist per purpose kept in place, the intended contents recorded before
Spotify is called, so a push cut short is finished (``resume``) and never replayed blindly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from spotify.api import SpotifyApi
from spotify.plan import MAX_DESCRIPTION, MAX_NAME, clip, unique
from spotify.push import Outcome, PlaylistWriter
from storage import spotify as repo
from wavelength.domain import TrackId, UserId
from wavelength.ids import spotify_uri
from wavelength.spotify_service._core import SpotifyCore
from wavelength.spotify_service._types import (
    PushReport,
    SpotifyServiceError,
    SpotifyUnavailable,
    TryAgainLater,
)


class Pushing(SpotifyCore):
    def push(
        self,
        user: UserId,
        purpose: str,
        name: str,
        description: str,
        track_ids: Sequence[TrackId],
    ) -> PushReport:
        """Make the user's playlist for ``purpose`` hold ``track_ids``, in order, in place."""
        if not purpose or len(purpose) > 40:
            raise ValueError("purpose must be 1-40 characters")
        name, description = clip(name, MAX_NAME) or "Wavelength", clip(description, MAX_DESCRIPTION)
        with self._user_lock(user), self._client(user) as (api, me):
            writer = self._writer(api, user, me)
            try:
                resolved = self._retrying(lambda _attempt: writer.resolve(track_ids))
            except (TryAgainLater, SpotifyUnavailable):
                # Matching failed before anything was recorded: record the tracks that are
                # Spotify URIs already, so the scheduled resume still makes the playlist (its
                # playability unchecked) instead of it never appearing.
                direct = [
                    spotify_uri(t, "track") for t in track_ids if t.startswith("spotify:track:")
                ]
                with self._engine.begin() as conn:
                    repo.plan_push(
                        conn=conn, user=user, purpose=purpose, name=name,
                        description=description, uris=unique([u for u in direct if u]),
                        now=self._clock(),
                    )  # fmt: skip
                raise
            now = self._clock()
            with self._engine.begin() as conn:
                before = repo.get_push(conn=conn, user=user, purpose=purpose)
                repo.plan_push(
                    conn=conn, user=user, purpose=purpose, name=name, description=description,
                    uris=resolved.uris, now=now,
                )  # fmt: skip
            resumed = before is not None and before.state != repo.DONE
            report = self._finish(writer, user, purpose, careful=resumed)
        return replace(
            report,
            unmatched=resolved.unmatched,
            unplayable=resolved.unplayable,
            resumed=resumed,
        )

    def resume(self, user: UserId, purpose: str) -> PushReport:
        """Finish the recorded push for (user, purpose): after a restart or ``TryAgainLater``."""
        with self._user_lock(user), self._client(user) as (api, me):
            with self._engine.connect() as conn:
                record = repo.get_push(conn=conn, user=user, purpose=purpose)
            if record is None:
                raise SpotifyServiceError("There is no playlist to update.")
            writer = self._writer(api, user, me)
            return replace(self._finish(writer, user, purpose, careful=True), resumed=True)

    def linked_users(self) -> list[UserId]:
        with self._engine.connect() as conn:
            return repo.linked_users(conn=conn)

    def unfinished(self) -> list[tuple[UserId, str, datetime | None]]:
        """(user, purpose, retry_at) of every push not confirmed done, for the scheduler."""
        with self._engine.connect() as conn:
            return [(p.user, p.purpose, p.retry_at) for p in repo.unfinished_pushes(conn=conn)]

    def _writer(self, api: SpotifyApi, user: UserId, me: str) -> PlaylistWriter:
        return PlaylistWriter(
            engine=self._engine, api=api, user=user, me=me, playability=self._playable,
            clock=self._clock,
        )  # fmt: skip

    def _finish(
        self, writer: PlaylistWriter, user: UserId, purpose: str, *, careful: bool
    ) -> PushReport:
        outcome = Outcome()
        attempts = 0

        def work(attempt: int) -> tuple[str, int]:
            nonlocal attempts
            attempts = attempt + 1
            return writer.sync(purpose, outcome, careful=careful or attempt > 0)

        def later(at: datetime) -> None:
            with self._engine.begin() as conn:
                repo.set_push_retry(
                    conn=conn, user=user, purpose=purpose, retry_at=at, now=self._clock()
                )

        playlist_id, tracks = self._retrying(work, later=later)
        return PushReport(
            purpose=purpose,
            playlist_id=playlist_id,
            tracks=tracks,
            created=outcome.created,
            recreated=outcome.recreated,
            attempts=attempts,
        )
