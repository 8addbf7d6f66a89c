"""The catalog's names, searchable as people type them: the SQL adapter of ``NameIndex``.

Artist names (with track counts, the tiebreak) and the catalog's distinct normalised titles
are read into memory once; a query is scored there with rapidfuzz and only the few tracks
that match are read back, through short connections on the held Engine. Scoring follows
``recommender.names`` exactly; names are pre-normalised and token-sorted once at load, so
a query is one C++ pass over the names (``fuzz.ratio`` on sorted forms is
``token_sort_ratio``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from recommender.names import (
    EXACT,
    MIN_SCORE,
    RESOLVED,
    NameMatch,
    exact_form,
    fuzzy_form,
    name_score,
    split_artist_title,
)
from storage.models import ArtistRow, TrackRow
from wavelength.ids import normalize_name

if TYPE_CHECKING:
    from sqlalchemy.engine import Row
    from sqlalchemy.orm import InstrumentedAttribute

_CHUNK = 500  # ids per IN (...): well under SQLite's and PostgreSQL's parameter limits
MAX_TITLE_KEYS = 1000  # match keys read back for one bare-title query, at most


# id, title, artist id, artist name, popularity, match key
_TrackRow: TypeAlias = "Row[str, str, str, str, int | None, str]"


class _Fuzzy:
    """Names scored against a query with ``fuzz.ratio`` (on token-sorted forms), exactly as
    scoring each one would, but skipping the names that can't reach the floor.

    ``ratio`` is ``200·LCS / (len(a) + len(b))``, and a common subsequence can't use more of a
    character than both strings hold, so letter counts bound it from above. One numpy pass
    over a (names x 32) count matrix leaves a few percent of the names for rapidfuzz; that
    makes 60k artists a ~2 ms search instead of ~12 ms.
    """

    _BUCKETS = 32  # a-z, digits, space, and four shared buckets for everything else

    def __init__(self, forms: list[str]) -> None:
        self.forms = forms
        self.lengths = np.fromiter((len(f) for f in forms), dtype=np.int64, count=len(forms))
        counts = np.zeros((len(forms), self._BUCKETS), dtype=np.uint16)
        rows = np.repeat(np.arange(len(forms)), self.lengths)
        np.add.at(counts, (rows, _buckets("".join(forms))), 1)
        self.counts = np.minimum(counts, 255).astype(np.uint8)

    def scores(self, query: str) -> list[tuple[int, float]]:
        """(position, score) of every name scoring at least ``MIN_SCORE`` against ``query``."""
        if not query or not self.forms:
            return []
        mine = np.bincount(_buckets(query), minlength=self._BUCKETS).clip(max=255)
        shared = np.minimum(self.counts, mine.astype(np.uint8)).sum(axis=1, dtype=np.int64)
        hopeful = np.flatnonzero(200 * shared >= MIN_SCORE * (len(query) + self.lengths))
        hits = process.extract(
            query,
            [self.forms[i] for i in hopeful],
            scorer=fuzz.ratio,
            score_cutoff=MIN_SCORE,
            limit=None,
        )
        return [(int(hopeful[i]), float(score)) for _, score, i in hits]


def _buckets(text: str) -> npt.NDArray[np.int64]:
    """The count bucket of every character of ``text``."""
    codes = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32).astype(
        np.int64
    )
    out = 28 + codes % 4
    out[(codes >= 97) & (codes <= 122)] = codes[(codes >= 97) & (codes <= 122)] - 97
    out[(codes >= 48) & (codes <= 57)] = 26
    out[codes == 32] = 27
    return out


@dataclass(frozen=True, slots=True)
class _Artists:
    ids: list[str]
    names: list[str]
    keys: list[str]  # normalised names, the last tiebreak
    counts: list[int]
    exact: dict[str, list[int]]  # exact_form → artist positions
    search: _Fuzzy  # over the fuzzy_form of each key, aligned with ids


@dataclass(frozen=True, slots=True)
class _Titles:
    groups: list[list[str]]  # match keys ("artist\x1ftitle") per distinct fuzzy form
    exact: dict[str, list[str]]  # exact_form of a title → match keys
    search: _Fuzzy  # over the distinct fuzzy forms, aligned with groups


class SqlNameIndex:
    """``NameIndex`` over the SQL catalog. Build with ``load``; call ``load`` again after an
    ingest to see new names (the index is a snapshot)."""

    def __init__(self, engine: Engine, artists: _Artists, titles: _Titles) -> None:
        self._engine = engine
        self._artists = artists
        self._titles = titles

    @classmethod
    def load(cls, source: Engine | Connection) -> SqlNameIndex:
        """Read the names through ``source``; later queries use its Engine."""
        if isinstance(source, Connection):
            return cls(source.engine, _load_artists(source), _load_titles(source))
        with source.connect() as conn:
            return cls(source, _load_artists(conn), _load_titles(conn))

    @property
    def artist_count(self) -> int:
        return len(self._artists.ids)

    def artists(self, query: str, *, limit: int = 5) -> list[NameMatch]:
        """Artists scoring at least ``MIN_SCORE``, best first (see ``NameIndex``)."""
        _check_limit(limit)
        a = self._artists
        ranked = sorted(
            self._artist_scores(query).items(),
            key=lambda item: (-item[1], -a.counts[item[0]], a.keys[item[0]], a.ids[item[0]]),
        )
        return [NameMatch("artist", a.ids[i], a.names[i], s) for i, s in ranked[:limit]]

    def tracks(self, query: str, *, limit: int = 5) -> list[NameMatch]:
        """Tracks for "Title" or "Artist - Title", best first (see ``NameIndex``)."""
        _check_limit(limit)
        split = split_artist_title(query)
        if split is not None:
            found = self._by_artist(*split)
            if found:
                return found[:limit]
        return self._by_title(query, limit)

    def _artist_scores(self, query: str) -> dict[int, float]:
        key = normalize_name(query)
        if not key:
            return {}
        a = self._artists
        scores = dict(a.search.scores(fuzzy_form(key)))
        for i in a.exact.get(exact_form(key), ()):
            scores[i] = EXACT
        return scores

    def _by_artist(self, artist: str, title: str) -> list[NameMatch]:
        """Tracks of the artists that ``artist`` names (score ≥ RESOLVED), scored by the lower
        of the artist's and the title's score."""
        a = self._artists
        sure = {a.ids[i]: s for i, s in self._artist_scores(artist).items() if s >= RESOLVED}
        if not sure:
            return []
        scored = []
        for tid, name, aid, artist_name, popularity, _ in self._rows(TrackRow.artist_id, sure):
            score = min(sure[aid], name_score(title, name))
            if score >= MIN_SCORE:
                scored.append((score, popularity, tid, f"{artist_name} - {name}"))
        return _ranked(scored)

    def _by_title(self, query: str, limit: int) -> list[NameMatch]:
        key = normalize_name(query)
        if not key:
            return []
        t = self._titles
        best: dict[str, float] = dict.fromkeys(t.exact.get(exact_form(key), ()), EXACT)
        for i, score in t.search.scores(fuzzy_form(key)):
            for mk in t.groups[i]:
                best[mk] = max(best.get(mk, 0.0), score)
        # Every key holds at least one track, so the best ``limit`` tracks come from the best
        # ``limit`` keys and any tied with the last of them.
        ordered = sorted(best.items(), key=lambda kv: -kv[1])
        if len(ordered) > limit:
            floor = ordered[limit - 1][1]
            ordered = [kv for kv in ordered if kv[1] >= floor]
        wanted = dict(ordered[:MAX_TITLE_KEYS])
        scored = [
            (wanted[mk], popularity, tid, f"{artist_name} - {name}")
            for tid, name, _, artist_name, popularity, mk in self._rows(TrackRow.match_key, wanted)
        ]
        return _ranked(scored)[:limit]

    def _rows(self, column: InstrumentedAttribute[str], values: Iterable[str]) -> list[_TrackRow]:
        """Tracks whose ``column`` is one of ``values`` (id, title, artist id, artist name,
        popularity, match key), read in chunks on one short connection."""
        wanted = list(values)
        stmt = select(
            TrackRow.id,
            TrackRow.name,
            TrackRow.artist_id,
            ArtistRow.name,
            TrackRow.popularity,
            TrackRow.match_key,
        ).join(ArtistRow, ArtistRow.id == TrackRow.artist_id)
        out: list[_TrackRow] = []
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                out.extend(conn.execute(stmt.where(column.in_(chunk))).all())
        return out


def _ranked(scored: Iterable[tuple[float, int | None, str, str]]) -> list[NameMatch]:
    """Best score first, then the more popular (unknown last), then by id."""
    order = sorted(scored, key=lambda r: (-r[0], -(r[1] if r[1] is not None else -1), r[2]))
    return [NameMatch("track", tid, label, score) for score, _, tid, label in order]


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")


def _load_artists(conn: Connection) -> _Artists:
    counts = (
        select(TrackRow.artist_id, func.count().label("n")).group_by(TrackRow.artist_id).subquery()
    )
    rows = conn.execute(
        select(ArtistRow.id, ArtistRow.name, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.artist_id == ArtistRow.id)
        .order_by(ArtistRow.id)
    )
    ids: list[str] = []
    names: list[str] = []
    keys: list[str] = []
    tallies: list[int] = []
    exact: dict[str, list[int]] = {}
    for aid, name, count in rows:
        key = normalize_name(name)
        exact.setdefault(exact_form(key), []).append(len(ids))
        ids.append(aid)
        names.append(name)
        keys.append(key)
        tallies.append(int(count))
    return _Artists(ids, names, keys, tallies, exact, _Fuzzy([fuzzy_form(k) for k in keys]))


def _load_titles(conn: Connection) -> _Titles:
    forms: dict[str, list[str]] = {}  # fuzzy form → match keys, in first-seen order
    exact: dict[str, list[str]] = {}
    keys = conn.execution_options(yield_per=20_000).execute(select(TrackRow.match_key).distinct())
    for (mk,) in keys:
        title = mk.rpartition("\x1f")[2]
        if title:
            exact.setdefault(exact_form(title), []).append(mk)
            forms.setdefault(fuzzy_form(title), []).append(mk)
    return _Titles(list(forms.values()), exact, _Fuzzy(list(forms)))
