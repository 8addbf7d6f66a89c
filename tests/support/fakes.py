"""Honest in-memory fakes of the interfaces the core depends on (checked by contract tests)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from recommender.names import MIN_SCORE, RESOLVED, NameMatch, name_score, split_artist_title
from wavelength.domain import Artist, ArtistId, CatalogCounts, PlaylistId, Track, TrackId
from wavelength.ids import artist_id, normalize_name


class FakeCatalogStats:
    """A catalog whose counts are whatever the test says they are."""

    def __init__(self, counts: CatalogCounts | None = None) -> None:
        self._counts = counts or CatalogCounts(0, 0, 0, 0, 0, 0, 0)

    def set(self, counts: CatalogCounts) -> None:
        self._counts = counts

    def counts(self) -> CatalogCounts:
        return self._counts


class HashingEncoder:
    """A text encoder without a model: hashed bag of words, L2-normalised. Texts that share
    words are close, unrelated texts are near-orthogonal, which is all the contract asks."""

    model_name = "fake-hashing"

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim
        self.calls: list[int] = []  # batch sizes seen, so tests can check what was encoded

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> npt.NDArray[np.float32]:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.casefold()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self._dim] += 1.0
            norm = np.linalg.norm(out[row])
            if norm == 0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out


class DictEmbeddingCache:
    """The embedding cache in memory."""

    def __init__(self) -> None:
        self.data: dict[bytes, npt.NDArray[np.float32]] = {}

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, npt.NDArray[np.float32]]:
        return {k: self.data[k] for k in keys if k in self.data}

    def put_many(self, items: Mapping[bytes, npt.NDArray[np.float32]]) -> None:
        self.data.update(items)


class DictNeighbours:
    """Shared neighbour lists in memory (``recommender.station.ports.SharedNeighbours``)."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[list[TrackId], np.ndarray]] = {}

    def get(self, key: str) -> tuple[list[TrackId], np.ndarray] | None:
        found = self.data.get(key)
        return None if found is None else (list(found[0]), found[1].copy())

    def put(self, key: str, ids: Sequence[TrackId], scores: np.ndarray) -> None:
        self.data[key] = (list(ids), np.asarray(scores, dtype=np.float64).copy())

    def __len__(self) -> int:  # as the SQLite cache has: an empty one is falsy
        return len(self.data)


class FakeTrackCatalog:
    """The station engine's ``TrackCatalog`` over dicts."""

    def __init__(
        self,
        tracks: Iterable[Track] = (),
        *,
        playlists: Mapping[PlaylistId, str] | None = None,
        members: Mapping[PlaylistId, Sequence[TrackId]] | None = None,
    ) -> None:
        self._members = {p: tuple(ts) for p, ts in (members or {}).items()}
        self._tracks = {t.id: t for t in tracks}
        self._artists = {t.artist.id: t.artist for t in self._tracks.values()}
        self._playlists = dict(playlists or {})

    def tracks(self, ids: Iterable[TrackId]) -> dict[TrackId, Track]:
        return {t: self._tracks[t] for t in ids if t in self._tracks}

    def clear(self) -> None:
        """Nothing to forget: every answer is read from the dicts."""

    def artists(self, ids: Iterable[ArtistId]) -> dict[ArtistId, Artist]:
        return {a: self._artists[a] for a in ids if a in self._artists}

    def genres(self) -> frozenset[str]:
        found = {g.lower() for a in self._artists.values() for g in a.genres}
        found.update(
            g.strip().lower() for t in self._tracks.values() for g in (t.genre or "").split(",")
        )
        return frozenset(g for g in found if g)

    def playlist_names(self, ids: Iterable[PlaylistId]) -> dict[PlaylistId, str]:
        return {p: self._playlists[p] for p in ids if p in self._playlists}

    def playlist_tracks(self, ids: Iterable[PlaylistId]) -> dict[PlaylistId, tuple[TrackId, ...]]:
        return {p: self._members[p] for p in ids if p in self._members}

    def playlist_counts(self, ids: Iterable[TrackId]) -> dict[TrackId, int]:
        return {t: sum(t in m for m in self._members.values()) for t in ids}


class FakeNameIndex:
    """Artist and track names in dicts, scored one by one with ``name_score``: the plain
    reading of the ``NameIndex`` rules that SqlNameIndex's faster path must agree with."""

    def __init__(self) -> None:
        self._artists: dict[str, str] = {}  # artist id -> first-seen name
        self._tracks: dict[str, tuple[str, str, int | None]] = {}  # id -> artist id, title, pop

    @classmethod
    def of(cls, tracks: Iterable[Track]) -> FakeNameIndex:
        """An index holding ``tracks`` (and their artists), as the catalog would."""
        index = cls()
        for t in tracks:
            index.add(t.artist.name, t.name, track_id=t.id, popularity=t.popularity)
        return index

    def add(self, artist: str, title: str, *, track_id: str, popularity: int | None = None) -> None:
        aid = artist_id(artist)
        self._artists.setdefault(aid, artist)
        self._tracks.setdefault(track_id, (aid, title, popularity))

    def add_artist(self, name: str) -> None:
        self._artists.setdefault(artist_id(name), name)

    def artists(self, query: str, *, limit: int = 5) -> list[NameMatch]:
        _check(limit)
        counts: dict[str, int] = {}
        for aid, _, _ in self._tracks.values():
            counts[aid] = counts.get(aid, 0) + 1
        found = [
            (name_score(query, name), counts.get(aid, 0), normalize_name(name), aid, name)
            for aid, name in self._artists.items()
        ]
        found = [f for f in found if f[0] >= MIN_SCORE]
        found.sort(key=lambda f: (-f[0], -f[1], f[2], f[3]))
        return [NameMatch("artist", aid, name, score) for score, _, _, aid, name in found][:limit]

    def tracks(self, query: str, *, limit: int = 5) -> list[NameMatch]:
        _check(limit)
        split = split_artist_title(query)
        if split is not None:
            artist, title = split
            found = []
            for tid, (aid, name, popularity) in self._tracks.items():
                artist_score = name_score(artist, self._artists[aid])
                if artist_score >= RESOLVED:
                    found.append((min(artist_score, name_score(title, name)), popularity, tid))
            if any(f[0] >= MIN_SCORE for f in found):
                return self._ranked(found, limit)
        found = [
            (name_score(query, name), pop, tid) for tid, (_, name, pop) in self._tracks.items()
        ]
        return self._ranked(found, limit)

    def _ranked(self, found: list[tuple[float, int | None, str]], limit: int) -> list[NameMatch]:
        kept = sorted(
            (f for f in found if f[0] >= MIN_SCORE),
            key=lambda f: (-f[0], -(f[1] if f[1] is not None else -1), f[2]),
        )
        out = []
        for score, _, tid in kept[:limit]:
            aid, name, _ = self._tracks[tid]
            out.append(NameMatch("track", tid, f"{self._artists[aid]} - {name}", score))
        return out


def _check(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
