"""``wavelength similar`` and ``wavelength search``: look into the vector spaces by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage import lookup
from vectorstore import NO_FILTER, CollectionName, Filter, VectorName

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from recommender.encoder import TextEncoder
    from vectorstore import Hit, VectorStore


class NotFoundError(LookupError):
    def __init__(self, query: str, suggestions: list[str]) -> None:
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"nothing in the catalog matches {query!r}.{hint}")
        self.suggestions = suggestions


@dataclass(frozen=True, slots=True)
class Scored:
    id: str
    label: str
    score: float


@dataclass(frozen=True, slots=True)
class SimilarResult:
    item: lookup.Found
    using: VectorName
    note: str | None
    artists: list[Scored]
    tracks: list[Scored]


# Catalogs hold the same song under several ids (single, album, remaster): ask for extra hits
# and show each title once.
_SPARE = 10


def _label(engine: Engine, hits: list[Hit], n: int) -> list[Scored]:
    with engine.connect() as conn:
        names = lookup.labels(conn=conn, ids=[h.id for h in hits])
    out: dict[str, Scored] = {}
    for h in hits:
        label = names.get(h.id, h.id)
        if label.casefold() not in out:
            out[label.casefold()] = Scored(h.id, label, h.score)
    return list(out.values())[:n]


def similar(
    engine: Engine, store: VectorStore, query: str, *, using: VectorName, n: int = 10
) -> SimilarResult:
    """Nearest tracks (and, for an artist, nearest artists) to a named track or artist."""
    with engine.connect() as conn:
        item = lookup.find(conn=conn, query=query)
        if item is None:
            raise NotFoundError(query, lookup.suggestions(conn=conn, query=query))
    collection = CollectionName.TRACKS if item.kind == "track" else CollectionName.ARTISTS
    note = None
    info = store.info(collection)
    if info is None:
        raise ValueError("no vectors yet: run `wavelength train` first")
    vector = None
    if using is VectorName.CF and VectorName.CF not in info.dims:
        note = "no collaborative vectors yet (ingest playlists and train); showing the text space"
        using = VectorName.TEXT
    vector = store.vectors(collection, [item.id], using=using).get(item.id)
    if vector is None and using is VectorName.CF:
        note = "no collaborative vector for it (too few playlists); showing the text space"
        using = VectorName.TEXT
        vector = store.vectors(collection, [item.id], using=using).get(item.id)
    if vector is None:
        raise NotFoundError(query, []) from None
    artists: list[Hit] = []
    if item.kind == "artist":
        artists = store.recommend(CollectionName.ARTISTS, using=using, positive=[item.id], n=n)
        where = Filter(exclude_artist_ids=(item.id,))
    else:
        where = Filter(exclude_ids=(item.id,))
    tracks = store.search(
        CollectionName.TRACKS, using=using, vector=vector, n=n + _SPARE, where=where
    )
    return SimilarResult(item, using, note, _label(engine, artists, n), _label(engine, tracks, n))


def search(
    engine: Engine,
    store: VectorStore,
    encoder: TextEncoder,
    text: str,
    *,
    n: int = 10,
    where: Filter = NO_FILTER,
) -> list[Scored]:
    """Tracks nearest to a free-text description in the text space."""
    if not text.strip():
        raise ValueError('say what you want to hear, e.g. "rainy sunday jazz for reading"')
    (vector,) = encoder.encode([text.strip()])
    hits = store.search(
        CollectionName.TRACKS, using=VectorName.TEXT, vector=vector, n=n + _SPARE, where=where
    )
    return _label(engine, hits, n)
