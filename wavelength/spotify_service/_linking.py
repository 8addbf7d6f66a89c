"""Linking a Spotify account: the consent page with a one-time state, the callback (or the
redirected address pasted in chat), unlinking and the link's status."""

from __future__ import annotations

from urllib.parse import urlencode

from spotify.api import (
    SCOPES,
    BadRequest,
    ConfigError,
    Forbidden,
    LinkRevoked,
    RateLimited,
    Unavailable,
    playlist_url,
)
from spotify.auth import STATE_TTL, new_state, parse_redirect, state_hash
from storage import spotify as repo
from wavelength.domain import UserId
from wavelength.spotify_service._core import SpotifyCore
from wavelength.spotify_service._types import LinkResult, LinkStatus, PlaylistStatus


class Linking(SpotifyCore):
    def authorize_url(self, user: UserId) -> str:
        """Spotify's consent page for ``user``; its one-time state lasts ten minutes."""
        config = self._require_config()
        state, now = new_state(), self._clock()
        with self._engine.begin() as conn:
            repo.put_state(
                conn=conn, state_hash=state_hash(state), user=user, expires_at=now + STATE_TTL,
                now=now,
            )  # fmt: skip
        query = {
            "client_id": config.client_id,
            "response_type": "code",
            "redirect_uri": config.redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
            "show_dialog": "true",  # lets someone pick the right account on a shared browser
        }
        return f"{config.authorize_url}?{urlencode(query)}"

    def complete(self, state: str | None, code: str | None, error: str | None = None) -> LinkResult:
        """Finish a link from the callback's query parameters."""
        return self._complete(state, code, error, expected=None)

    def complete_pasted(self, user: UserId, url: str) -> LinkResult:
        """Finish a link from the address the browser was sent to, pasted in chat (for
        installations without a public callback URL)."""
        redirect = parse_redirect(url)
        if not redirect.state or not (redirect.code or redirect.error):
            return LinkResult(
                user, False,
                "That isn't the address Spotify sent you to. After you agree on Spotify's page, "
                "copy the whole address from the browser bar (it contains code=...) and send it.",
            )  # fmt: skip
        return self._complete(redirect.state, redirect.code, redirect.error, expected=user)

    def _complete(
        self, state: str | None, code: str | None, error: str | None, *, expected: UserId | None
    ) -> LinkResult:
        config = self._require_config()
        now = self._clock()
        with self._engine.begin() as conn:
            taken = repo.take_state(conn=conn, state_hash=state_hash(state or ""), now=now)
        again = "Send /link for a fresh link."
        if taken is None:
            return LinkResult(expected, False, f"This link is unknown or was used already. {again}")
        user, live = taken
        if expected is not None and user != expected:
            # Someone else's link: spent, so the code in it can't be used by anyone now.
            return LinkResult(expected, False, f"That link was made for someone else. {again}")
        if not live:
            return LinkResult(user, False, f"That link expired (links last 10 minutes). {again}")
        if error or not code:
            return LinkResult(user, False, f"Spotify says you didn't agree ({error}). {again}")
        try:
            token, profile = self._exchange(config, code)
        except LinkRevoked:
            return LinkResult(user, False, f"Spotify didn't accept that code. {again}")
        except Forbidden:
            return LinkResult(
                user, False,
                "Spotify refused: this app is in Development Mode and your account is not on its "
                "user list (at most 5 people). Ask whoever runs this Wavelength to add you.",
            )  # fmt: skip
        except (Unavailable, RateLimited, ConfigError, BadRequest) as exc:
            return LinkResult(user, False, f"Spotify couldn't be reached ({exc}). {again}")
        with self._engine.begin() as conn:
            try:
                repo.save_link(
                    conn=conn, user=user, spotify_id=profile.id, display_name=profile.display_name,
                    token=self._box.seal(token), now=now,
                )  # fmt: skip
            except repo.SpotifyAccountTaken:
                return LinkResult(
                    user, False, "That Spotify account is linked to another Wavelength user."
                )
        name = profile.display_name or profile.id
        return LinkResult(user, True, f"Linked to Spotify as {name}.", name)

    def unlink(self, user: UserId) -> bool:
        """Forget the token and the playlists kept; returns whether there was a link."""
        with self._user_lock(user), self._engine.begin() as conn:
            return repo.delete_link(conn=conn, user=user)

    def status(self, user: UserId) -> LinkStatus:
        with self._engine.connect() as conn:
            link = repo.get_link(conn=conn, user=user)
            pushes = repo.pushes_of(conn=conn, user=user) if link else []
        if link is None:
            return LinkStatus(linked=False, broken=False)
        return LinkStatus(
            linked=link.token is not None,
            broken=link.token is None,
            display_name=link.display_name,
            spotify_id=link.spotify_id,
            playlists=tuple(
                PlaylistStatus(
                    purpose=p.purpose,
                    url=playlist_url(p.playlist_id) if p.playlist_id else None,
                    done=p.state == repo.DONE,
                    tracks=len(p.uris),
                )
                for p in pushes
            ),
        )
