"""The liked-songs sorter service: a user's liked pile split into lists they name.

The pile is everything the user said they like: favourites, live likes and loves, and the
Spotify saved tracks imported as listening events (source ``spotify_saved``), less dislikes.
One sort per user is stored in ``sorts`` (lists, options, labels, last split); every call
refits from the labels at once (``recommender.sorter``), so a correction is just a label.
Methods are synchronous; the chat engine runs them in its thread pool.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sqlalchemy import delete, select, update

from recommender.sorter import (
    DEFAULT_METHOD,
    Method,
    Pile,
    Sorting,
    SortOptions,
    propose_to_label,
    sort_pile,
)
from storage import feedback as fb
from storage import history as repo
from storage._sql import dialect_insert
from storage.models import Base, ListeningEventRow, SortRow
from vectorstore.base import CollectionName, VectorName
from wavelength.domain import Track, TrackId, UserId

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from recommender.station.ports import TrackCatalog
    from vectorstore.base import VectorStore
    from wavelength.spotify_service import PushReport

Clock = Callable[[], datetime]
MIN_LISTS, MAX_LISTS = 2, 10
MAX_NAME = 60
SAVED = "spotify_saved"
_SORTS = Base.metadata.tables["sorts"]


class Pusher(Protocol):
    """The part of ``SpotifyService`` a push needs."""

    def push(
        self, user: UserId, purpose: str, name: str, description: str,
        track_ids: Sequence[TrackId],
    ) -> PushReport: ...  # fmt: skip


class SorterError(ValueError):
    """A sort request that cannot be done; ``str(error)`` says why, for the user."""


@dataclass(frozen=True, slots=True)
class SortState:
    lists: tuple[str, ...]
    mutual: bool
    complete: bool
    labelled: dict[str, int]  # list name -> songs the user labelled for it
    pile: int  # liked songs that can be sorted (they have a vector)
    unsortable: int  # liked songs without a vector (not in the catalog's model yet)

    @property
    def ready(self) -> bool:
        """Every list has at least one example, so a split can be computed."""
        return all(self.labelled.get(name, 0) > 0 for name in self.lists)


@dataclass(frozen=True, slots=True)
class SortedSong:
    track: Track
    lists: tuple[str, ...]  # empty: the void
    confidence: float  # 0..1, the best list's probability
    labelled: bool


@dataclass(frozen=True, slots=True)
class SortedList:
    name: str
    songs: tuple[SortedSong, ...]  # labelled first, then the surest


@dataclass(frozen=True, slots=True)
class SortSplit:
    lists: tuple[SortedList, ...]
    void: tuple[SortedSong, ...]  # only when the sort is incomplete
    mutual: bool
    complete: bool


@dataclass(frozen=True, slots=True)
class _Stored:
    lists: list[str]
    mutual: bool
    complete: bool
    labels: list[tuple[TrackId, int]]
    split: dict[str, list[int]]


class SorterService:
    def __init__(
        self,
        *,
        engine: Engine,
        store: VectorStore,
        catalog: TrackCatalog,
        spotify: Pusher | None = None,  # a SpotifyService in production
        method: Method = DEFAULT_METHOD,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._store = store
        self._catalog = catalog
        self._spotify = spotify
        self._method = method
        self._clock = clock

    # -- setting up ---------------------------------------------------------------------------

    def start(
        self, user: UserId, lists: Sequence[str], *, mutual: bool = True, complete: bool = True
    ) -> SortState:
        """Begin (or begin again) a sort into ``lists``; earlier labels are dropped."""
        names = [_name(n) for n in lists]
        if not MIN_LISTS <= len(names) <= MAX_LISTS:
            raise SorterError(f"Name {MIN_LISTS} to {MAX_LISTS} lists (got {len(names)}).")
        if len({n.casefold() for n in names}) != len(names):
            raise SorterError("Each list needs its own name.")
        with self._engine.begin() as conn:
            conn.execute(delete(SortRow).where(SortRow.user_id == user))
            conn.execute(
                dialect_insert(conn, _SORTS).values(
                    user_id=user, lists=names, mutual=mutual, complete=complete, labels=[],
                    split={}, updated_at=self._clock(),
                )
            )  # fmt: skip
        return self.state(user)

    def state(self, user: UserId) -> SortState:
        with self._engine.connect() as conn:
            stored = self._load(conn, user)
            pile = _pile(conn, user)
        have = self._vectors(pile)
        counts = {name: 0 for name in stored.lists}
        for _, j in stored.labels:
            counts[stored.lists[j]] += 1
        return SortState(
            tuple(stored.lists), stored.mutual, stored.complete, counts, len(have),
            len(pile) - len(have),
        )  # fmt: skip

    def rename(self, user: UserId, old: str, new: str) -> SortState:
        with self._engine.begin() as conn:
            stored = self._load(conn, user)
            j = _index(stored, old)
            name = _name(new)
            if any(n.casefold() == name.casefold() for i, n in enumerate(stored.lists) if i != j):
                raise SorterError(f"There is already a list called {name!r}.")
            lists = [*stored.lists]
            lists[j] = name
            self._save(conn, user, lists=lists)
        return self.state(user)

    def set_options(
        self, user: UserId, *, mutual: bool | None = None, complete: bool | None = None
    ) -> SortState:
        with self._engine.begin() as conn:
            stored = self._load(conn, user)
            self._save(
                conn, user,
                mutual=stored.mutual if mutual is None else mutual,
                complete=stored.complete if complete is None else complete,
            )  # fmt: skip
        return self.state(user)

    # -- labelling and corrections ------------------------------------------------------------

    def label(self, user: UserId, track: TrackId, lists: str | Sequence[str]) -> SortState:
        """Say which list(s) ``track`` belongs in (a correction is the same call: it replaces
        the song's earlier labels). More than one list only when the sort is non-mutual."""
        names = [lists] if isinstance(lists, str) else list(lists)
        with self._engine.begin() as conn:
            stored = self._load(conn, user)
            if not names:
                raise SorterError("Name the list the song belongs in.")
            if len(names) > 1 and stored.mutual:
                raise SorterError("This sort is mutual: a song goes in one list only.")
            if track not in set(_pile(conn, user)):
                raise SorterError("That song isn't among your liked songs.")
            js = sorted({_index(stored, n) for n in names})
            labels = [(t, j) for t, j in stored.labels if t != track] + [(track, j) for j in js]
            self._save(conn, user, labels=[[t, j] for t, j in labels])
        return self.state(user)

    def correct(self, user: UserId, track: TrackId, lists: str | Sequence[str]) -> SortSplit:
        """Move a song (a label), refit at once, and return the new split."""
        self.label(user, track, lists)
        return self.split(user)

    def unlabel(self, user: UserId, track: TrackId) -> SortState:
        with self._engine.begin() as conn:
            stored = self._load(conn, user)
            self._save(conn, user, labels=[[t, j] for t, j in stored.labels if t != track])
        return self.state(user)

    def propose(self, user: UserId, *, n: int = 5) -> list[Track]:
        """The liked songs whose labels would teach the sort most, best first."""
        stored, ids, pile, sorting = self._fit(user, need_all=False)
        rows = propose_to_label(pile, sorting, [ids.index(t) for t, _ in stored.labels], n=n)
        tracks = self._catalog.tracks([ids[r] for r in rows])
        return [tracks[ids[r]] for r in rows if ids[r] in tracks]

    # -- the split ----------------------------------------------------------------------------

    def split(self, user: UserId) -> SortSplit:
        """The whole pile sorted with confidence (and stored, for ``sort_new``)."""
        stored, ids, _, sorting = self._fit(user, need_all=True)
        assert sorting is not None
        split = {ids[p.row]: list(p.lists) for p in sorting.placements}
        with self._engine.begin() as conn:
            self._save(conn, user, split=split)
        return self._render(stored, ids, sorting)

    def sublist(self, user: UserId, name: str) -> SortedList:
        out = self.split(user)
        with self._engine.connect() as conn:
            j = _index(self._load(conn, user), name)
        return out.lists[j]

    def sort_new(self, user: UserId) -> list[SortedSong]:
        """Liked songs that arrived since the last split, placed (for the scheduled job);
        empty when there is no sort, no example in some list, or nothing new."""
        with self._engine.connect() as conn:
            row = self._row(conn, user)
        if row is None or not row.split:
            return []
        before = set(row.split)
        try:
            out = self.split(user)
        except SorterError:
            return []
        songs = {s.track.id: s for s in (*out.void, *(x for lst in out.lists for x in lst.songs))}
        return [s for t, s in songs.items() if t not in before]

    def sort_all_new(self) -> dict[UserId, int]:
        """``sort_new`` for every user with a sort: the scheduler's job. User -> new songs."""
        with self._engine.connect() as conn:
            users = [UserId(u) for u in conn.execute(select(SortRow.user_id)).scalars()]
        return {u: len(self.sort_new(u)) for u in users}

    def push(self, user: UserId) -> list[PushReport]:
        """Each list to its own Spotify playlist (``sort:<name>``), updated in place. Raises
        ``SpotifyServiceError`` subclasses (not linked, not configured) as the push does."""
        from wavelength.spotify_service import SpotifyNotConfigured

        if self._spotify is None:
            raise SpotifyNotConfigured()
        out = self.split(user)
        return [
            self._spotify.push(
                user,
                purpose=f"sort:{lst.name}"[:40],
                name=lst.name,
                description="Sorted from your liked songs by Wavelength.",
                track_ids=[s.track.id for s in lst.songs],
            )
            for lst in out.lists
        ]

    # -- internals ----------------------------------------------------------------------------

    def _fit(
        self, user: UserId, *, need_all: bool
    ) -> tuple[_Stored, list[TrackId], Pile, Sorting | None]:
        with self._engine.connect() as conn:
            stored = self._load(conn, user)
            liked = _pile(conn, user)
        vectors = self._vectors(liked)
        ids = [t for t in liked if t in vectors]
        if not ids:
            raise SorterError("None of your liked songs can be sorted yet (no liked songs?).")
        pile = Pile.of(np.asarray([vectors[t] for t in ids]))
        at = {t: i for i, t in enumerate(ids)}
        labels = [(at[t], j) for t, j in stored.labels if t in at]
        stored = _Stored(stored.lists, stored.mutual, stored.complete,
                         [(t, j) for t, j in stored.labels if t in at], stored.split)  # fmt: skip
        missing = [n for j, n in enumerate(stored.lists) if all(k != j for _, k in labels)]
        if missing and need_all:
            raise SorterError(f"Label at least one song for: {', '.join(missing)}.")
        if missing:
            return stored, ids, pile, None
        options = SortOptions(mutual=stored.mutual, complete=stored.complete)
        sorting = sort_pile(
            pile, labels, lists=len(stored.lists), options=options, method=self._method
        )
        return stored, ids, pile, sorting

    def _render(self, stored: _Stored, ids: list[TrackId], sorting: Sorting) -> SortSplit:
        tracks = self._catalog.tracks(ids)

        def song(p: Any) -> SortedSong | None:
            t = tracks.get(ids[p.row])
            names = tuple(stored.lists[j] for j in p.lists)
            return None if t is None else SortedSong(t, names, p.confidence, p.labelled)

        lists = []
        for j, name in enumerate(stored.lists):
            songs = [s for p in sorting.members(j) if (s := song(p)) is not None]
            lists.append(SortedList(name, tuple(songs)))
        void = [s for p in sorting.placements if not p.lists if (s := song(p)) is not None]
        void.sort(key=lambda s: s.confidence)
        return SortSplit(tuple(lists), tuple(void), stored.mutual, stored.complete)

    def _vectors(self, ids: Sequence[TrackId]) -> dict[TrackId, Any]:
        if not ids:
            return {}
        # The collaborative space sorts best (docs/evaluation.md); a catalog trained on text
        # alone has no cf vectors, and then the text space is what there is.
        info = self._store.info(CollectionName.TRACKS)
        spaces = info.dims if info is not None else {}
        for using in (VectorName.CF, VectorName.TEXT):
            if using not in spaces:  # the embedded store refuses a space it doesn't hold
                continue
            found = self._store.vectors(CollectionName.TRACKS, list(ids), using=using)
            if found:
                return {TrackId(k): v for k, v in found.items()}
        return {}

    def _row(self, conn: Connection, user: UserId) -> Any:
        return conn.execute(select(_SORTS).where(SortRow.user_id == user)).first()

    def _load(self, conn: Connection, user: UserId) -> _Stored:
        row = self._row(conn, user)
        if row is None:
            raise SorterError("You have no sort yet: start one with /sort and your list names.")
        return _Stored(
            list(row.lists), bool(row.mutual), bool(row.complete),
            [(TrackId(t), int(j)) for t, j in row.labels], dict(row.split),
        )  # fmt: skip

    def _save(self, conn: Connection, user: UserId, **values: Any) -> None:
        conn.execute(
            update(_SORTS).where(SortRow.user_id == user).values(**values, updated_at=self._clock())
        )


def _pile(conn: Connection, user: UserId) -> list[TrackId]:
    """The user's liked songs, oldest first, without dislikes."""
    liked = sorted(repo.liked(conn=conn, user=user), key=lambda x: x.at)
    saved = conn.execute(
        select(ListeningEventRow.track_id)
        .where(ListeningEventRow.user_id == user, ListeningEventRow.source == SAVED)
        .order_by(ListeningEventRow.played_at, ListeningEventRow.id)
    ).scalars()
    disliked = fb.disliked_tracks(conn=conn, user=user)
    ids = [*(x.track for x in liked), *(TrackId(t) for t in saved)]
    return [t for t in dict.fromkeys(ids) if t not in disliked]


def _name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean or len(clean) > MAX_NAME:
        raise SorterError(f"A list name needs 1 to {MAX_NAME} characters.")
    return clean


def _index(stored: _Stored, name: str) -> int:
    for j, n in enumerate(stored.lists):
        if n.casefold() == " ".join(name.split()).casefold():
            return j
    raise SorterError(f"No list called {name!r}; your lists: {', '.join(stored.lists)}.")
