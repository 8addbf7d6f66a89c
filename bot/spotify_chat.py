"""Spotify in the conversation: /link, the pasted redirect address, /unlink, /spotify, /save.

Thin by design: the Spotify service (wavelength/spotify_service.py) does the work and says
what went wrong in words a person can act on; this turns its results into replies. The
library import after a link runs in the background (a big library takes minutes) and
/spotify shows how far it got.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from bot.conversation import Reply
from bot.render import SPOTIFY_NOT_SET_UP as NOT_SET_UP

if TYPE_CHECKING:
    from wavelength.domain import TrackId, UserId
    from wavelength.spotify_service import (
        ImportReport,
        LinkResult,
        LinkStatus,
        PushReport,
    )

log = logging.getLogger(__name__)


class SpotifyLinks(Protocol):
    """What the chat needs of the Spotify service."""

    def authorize_url(self, user: UserId) -> str: ...
    def complete_pasted(self, user: UserId, url: str) -> LinkResult: ...
    def unlink(self, user: UserId) -> bool: ...
    def status(self, user: UserId) -> LinkStatus: ...
    def import_library(
        self, user: UserId, *, progress: Callable[[str], None] = ...
    ) -> ImportReport: ...
    def push(
        self,
        user: UserId,
        purpose: str,
        name: str,
        description: str,
        track_ids: Sequence[TrackId],
    ) -> PushReport: ...


class SpotifyChat:
    def __init__(self, service: SpotifyLinks | None) -> None:
        self._service = service
        self._imports: dict[int, str] = {}  # user -> the latest import progress line
        self._lock = threading.Lock()

    def link(self, user: UserId) -> Reply:
        if self._service is None:
            return Reply(NOT_SET_UP)
        url = self._service.authorize_url(user)
        return Reply(
            "🔗 Connect Spotify (the link works once, for 10 minutes):\n"
            f"{url}\n"
            "After you agree I'll confirm here. If your browser then shows an error page "
            "(this Wavelength may have no public address), copy the whole address from the "
            "browser bar and send it to me."
        )

    def pasted(self, user: UserId, url: str) -> Reply:
        if self._service is None:
            return Reply(NOT_SET_UP)
        result = self._service.complete_pasted(user, url)
        if not result.linked:
            return Reply(result.message)
        self.start_import(user)
        return Reply(
            f"✅ {result.message} I'm importing your recent plays, top tracks, liked songs and "
            '"radio: ..." playlists in the background; /spotify shows how far it got. '
            "Save any station to Spotify with /save."
        )

    def start_import(self, user: UserId) -> None:
        """Import the library on a thread of its own; /spotify reports its progress."""
        service = self._service
        if service is None:
            return

        def note(line: str) -> None:
            with self._lock:
                self._imports[user] = line

        def work() -> None:
            note("Import started.")
            try:
                note(service.import_library(user, progress=note).summary())
            except Exception as exc:
                log.exception("Spotify import for user %s failed", user)
                note(f"The import stopped: {exc}. /link again to retry.")

        threading.Thread(target=work, name=f"spotify-import-{user}", daemon=True).start()

    def unlink(self, user: UserId) -> Reply:
        if self._service is None:
            return Reply(NOT_SET_UP)
        had = self._service.unlink(user)
        if not had:
            return Reply("You haven't linked Spotify. /link connects it.")
        return Reply(
            "Unlinked: I've deleted your Spotify tokens. To remove Wavelength's access "
            "entirely, also remove it at spotify.com/account/apps. Playlists already in your "
            "Spotify stay there."
        )

    def status(self, user: UserId) -> Reply:
        if self._service is None:
            return Reply(NOT_SET_UP)
        st = self._service.status(user)
        if st.broken:
            return Reply("Spotify stopped accepting our access (revoked?). /link to reconnect.")
        if not st.linked:
            return Reply("Spotify isn't linked. /link connects it.")
        lines = [f"Spotify: linked as {st.display_name or st.spotify_id}."]
        with self._lock:
            progress = self._imports.get(user)
        if progress:
            lines.append(f"Library import: {progress}")
        for p in st.playlists:
            state = "" if p.done else " (being updated)"
            lines.append(f"  {p.purpose}: {p.tracks} tracks {p.url or ''}{state}")
        return Reply("\n".join(lines))

    def save(
        self, user: UserId, purpose: str, name: str, mood: str, tracks: Sequence[TrackId]
    ) -> Reply:
        if self._service is None:
            return Reply(NOT_SET_UP)
        if not tracks:
            return Reply("Nothing has played on this station yet: say /next first, then /save.")
        report = self._service.push(user, purpose, f"Wavelength · {name}", mood, tracks)
        verb = "Made" if report.created or report.recreated else "Updated"
        text = f"💾 {verb} your Spotify playlist ({report.tracks} tracks): {report.url}"
        missed = report.unmatched + report.unplayable
        if missed:
            text += (
                f"\n{report.unmatched} track(s) aren't on Spotify and {report.unplayable} can't "
                "play in your country; I left them out."
            )
        return Reply(text)
