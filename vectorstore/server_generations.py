"""Generations on a Qdrant server: physical collections per generation, aliases name the live one.

A refresh builds ``wavelength_tracks_g3`` (and artists, playlists) beside the live ones, then
one ``update_collection_aliases`` call moves the three aliases ``wavelength_tracks`` ->
``wavelength_tracks_g3`` ...: Qdrant applies the operations of one call atomically, so every
process, reading through the alias names, sees the new generation from its next request on.

A deployment no refresh has touched has real collections under the alias names (generation
0). An alias can't take the name of an existing collection, so its first refresh deletes
them right before the alias call: the only moment (one delete and one alias call, a few
milliseconds) in which a reader in another process can find no collection.
"""

from __future__ import annotations

import re

from qdrant_client import QdrantClient, models

from vectorstore.base import CollectionName
from vectorstore.server import DEFAULT_PREFIX, QdrantServerStore, generation_suffix

_SUFFIX = re.compile(r"_g([1-9][0-9]*)$")


class ServerGenerations:
    """``Generations`` of ``QdrantServerStore`` collections on one client."""

    def __init__(self, store: QdrantServerStore) -> None:
        # The root store addresses the alias names; it owns the client every generation
        # store shares, and lends its error messages.
        self._root = store
        self._client: QdrantClient = store.client
        self._prefix = store.prefix

    @classmethod
    def connect(cls, url: str, *, api_key: str | None = None) -> ServerGenerations:
        return cls(QdrantServerStore.connect(url, api_key=api_key))

    @classmethod
    def local(
        cls, client: QdrantClient | None = None, *, prefix: str = DEFAULT_PREFIX
    ) -> ServerGenerations:
        """qdrant-client's local mode (in memory unless ``client`` says otherwise)."""
        return cls(QdrantServerStore(client or QdrantClient(location=":memory:"), prefix=prefix))

    def __repr__(self) -> str:
        return f"ServerGenerations({self.where!r})"

    @property
    def where(self) -> str:
        return self._root.where

    def _logical(self, name: CollectionName) -> str:
        return f"{self._prefix}{name.value}"

    def _aliases(self) -> dict[str, str]:
        with self._root.errors("list aliases"):
            found = self._client.get_aliases().aliases
        return {a.alias_name: a.collection_name for a in found}

    def _collections(self) -> set[str]:
        with self._root.errors("list collections"):
            return {c.name for c in self._client.get_collections().collections}

    def live(self) -> int:
        target = self._aliases().get(self._logical(CollectionName.TRACKS))
        found = _SUFFIX.search(target) if target else None
        return int(found.group(1)) if found else 0

    def built(self) -> list[int]:
        names = self._collections()
        found: set[int] = set()
        for name in CollectionName:
            logical = self._logical(name)
            if logical in names:
                found.add(0)
            for collection in names:
                rest = collection.removeprefix(logical)
                match = _SUFFIX.fullmatch(rest) if rest != collection else None
                if match:
                    found.add(int(match.group(1)))
        return sorted(found)

    def open(self, generation: int) -> QdrantServerStore:
        if generation == 0:
            return self.open_live()
        return QdrantServerStore(
            self._client, prefix=self._prefix, generation=generation, owns_client=False
        )

    def open_live(self) -> QdrantServerStore:
        return QdrantServerStore(self._client, prefix=self._prefix, owns_client=False)

    def publish(self, generation: int) -> None:
        names = self._collections()
        suffix = generation_suffix(generation)
        missing = [n for n in CollectionName if f"{self._logical(n)}{suffix}" not in names]
        if generation < 1 or missing:
            raise ValueError(f"generation {generation} is not built on {self.where}")
        aliases = self._aliases()
        operations: list[models.AliasOperations] = []
        for name in CollectionName:
            logical = self._logical(name)
            if logical in names:  # generation 0's real collection is in the alias's way
                with self._root.errors(f"delete collection {logical}"):
                    self._client.delete_collection(logical)
            if logical in aliases:
                operations.append(
                    models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=logical))
                )
            operations.append(
                models.CreateAliasOperation(
                    create_alias=models.CreateAlias(
                        collection_name=f"{logical}{suffix}", alias_name=logical
                    )
                )
            )
        with self._root.errors("switch the collection aliases"):
            self._client.update_collection_aliases(change_aliases_operations=operations)

    def drop(self, generation: int) -> bool:
        if generation == self.live():
            raise ValueError(f"generation {generation} is live on {self.where}; not dropped")
        names = self._collections()
        suffix = "" if generation == 0 else generation_suffix(generation)
        for name in CollectionName:
            physical = f"{self._logical(name)}{suffix}"
            if physical in names:
                with self._root.errors(f"delete collection {physical}"):
                    self._client.delete_collection(physical)
        return True

    def close(self) -> None:
        self._root.close()
