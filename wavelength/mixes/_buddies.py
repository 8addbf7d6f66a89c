"""Organic playlists: human-made playlists (and consenting listeners' tastes) close to a
user's, ranked with a 0-100 match and the reason it shows; the most followed playlists while
there is no signal yet; and the consent to be matched to others."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recommender.mixes import Overlap, Taste, cold_start, overlap, playlist_features, user_knn
from recommender.vectors import normalize_rows
from storage import history as repo
from vectorstore.base import CollectionName
from wavelength.domain import PlaylistId, UserId
from wavelength.mixes._core import MixCore
from wavelength.mixes._types import PlaylistMatch

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class Buddies(MixCore):
    def share_taste(self, user: UserId, *, on: bool) -> None:
        """Agree (or stop agreeing) that others may be matched to this user's taste."""
        with self._engine.begin() as conn:
            repo.set_sharing(conn=conn, user=user, on=on, now=self._clock())

    def buddies(self, user: UserId, *, n: int = 5) -> list[PlaylistMatch]:
        """Human-made playlists (and consenting listeners' tastes) close to this user's, best
        first with a 0-100 match and why; the most followed playlists while there is no
        signal yet."""
        now = self._clock()
        with self._engine.begin() as conn:
            taste = self._taste(conn, user, now)
            if taste is None:
                return self._cold_start(conn, n)
            centers, _ = self._centers(conn, user, taste, now)
            sharing = [u for u in repo.sharing_users(conn=conn) if u != user]
            others = {u: self._taste(conn, u, now) for u in sharing}
            names = repo.display_names(conn=conn, users=sharing)
        mean = normalize_rows((taste.vectors * taste.weights[:, None]).sum(axis=0))[0]
        me = Taste.of(
            taste.ids,
            taste.artists,
            taste.vectors,
            centers=np.asarray([c.vector for c in centers]),
        )
        me = Taste(me.tracks, me.artists, mean, me.rows, me.centers)
        playlists = self._store.info(CollectionName.PLAYLISTS)
        if playlists is None or playlists.points == 0 or self._space() not in playlists.dims:
            # No playlists with vectors in this space (the text-only demo): popular ones.
            with self._engine.connect() as conn:
                return self._cold_start(conn, n)
        hits = self._store.search(
            CollectionName.PLAYLISTS, using=self._space(), vector=mean, n=self._options.buddies_pool
        )
        pids = [PlaylistId(h.id) for h in hits]
        members = self._catalog.playlist_tracks(pids)
        titles = self._catalog.playlist_names(pids)
        with self._engine.connect() as conn:
            follow = repo.followers(conn=conn, ids=pids)
        candidates: list[tuple[PlaylistMatch, Taste, int]] = []
        for pid in pids:
            tracks = members.get(pid, ())
            if not tracks:
                continue
            facts = self._catalog.tracks(tracks)
            vectors = self._vectors(list(tracks))
            rows = [vectors[t] for t in tracks if t in vectors]
            candidate = Taste.of(
                tracks, {facts[t].artist.id for t in tracks if t in facts}, rows or None
            )
            base = PlaylistMatch(
                pid, titles.get(pid, str(pid)), "playlist corpus", None, "", tracks
            )
            candidates.append((base, candidate, follow.get(pid, 0)))
        mates = [(u, t) for u, t in others.items() if t is not None]
        if mates:
            owners = np.asarray(
                [normalize_rows((t.vectors * t.weights[:, None]).sum(axis=0))[0] for _, t in mates]
            )
            near, _ = user_knn(mean, owners, n=self._options.buddies_pool)
            for i in near.tolist():
                other, theirs = mates[i]
                top = theirs.ids[:50]
                candidate = Taste.of(top, set(theirs.artists[:50]), theirs.vectors[:50])
                who = names.get(other, "a Wavelength listener")
                base = PlaylistMatch(None, f"{who}'s favourites", who, None, "", top)
                candidates.append((base, candidate, 0))
        if not candidates:
            with self._engine.connect() as conn:
                return self._cold_start(conn, n)
        x = playlist_features(me, [c[1] for c in candidates], [c[2] for c in candidates])
        order, _ = self._ranker.rank(x)
        match = self._ranker.match(x)
        out = []
        for i in order[:n].tolist():
            base, candidate, _ = candidates[i]
            out.append(
                PlaylistMatch(
                    base.playlist,
                    base.name,
                    base.by,
                    round(float(match[i])),
                    _why(overlap(me, candidate)),
                    base.tracks,
                )
            )
        return out

    def _cold_start(self, conn: Connection, n: int) -> list[PlaylistMatch]:
        top = repo.most_followed(conn=conn, n=n)
        members = self._catalog.playlist_tracks([p for p, _ in top])
        titles = self._catalog.playlist_names([p for p, _ in top])
        order = cold_start([f for _, f in top])
        return [
            PlaylistMatch(
                top[i][0],
                titles.get(top[i][0], str(top[i][0])),
                "playlist corpus",
                None,
                f"one of the most followed playlists ({top[i][1]:,} followers); react to a few "
                "tracks and these become yours",
                members.get(top[i][0], ()),
            )
            for i in order.tolist()
        ]


def _why(o: Overlap) -> str:
    """The reason a match shows: "shares 14 artists with you, adds 23 you haven't heard"."""
    parts = []
    if o.shared_artists:
        parts.append(f"shares {o.shared_artists} artist{'s' * (o.shared_artists != 1)} with you")
    if o.new_artists:
        parts.append(f"adds {o.new_artists} you haven't heard")
    if o.shared_tracks:
        parts.append(f"{o.shared_tracks} of your tracks")
    return ", ".join(parts) or "close to your taste"
