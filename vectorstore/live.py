"""Generations of the vector store, and the store the running app holds across a swap.

Re-training the collaborative model changes the basis of every ``cf`` vector, so a model
refresh never writes into the collections being served: it builds a complete new generation
beside them and then makes it live in one atomic step (a pointer file for the embedded
store, collection aliases on a Qdrant server). ``LiveStore`` is what the app's components
hold: it answers from the live generation and, when told (``follow``), switches to the one
that became live, lets the calls still running on the old one finish, closes it, and tells
its listeners so caches of the old vectors are dropped.

Generation 0 is what existed before any refresh: the collections ``wavelength train`` wrote,
where they always were, so data homes and servers from before keep working untouched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from vectorstore.base import (
    NO_FILTER,
    CollectionInfo,
    CollectionName,
    Filter,
    Hit,
    Point,
    Vector,
    VectorName,
    VectorStore,
)

log = logging.getLogger(__name__)

# How long a switch waits for calls still running on the old generation before it gives up
# closing it (a station batch takes milliseconds; only a stuck call gets near this).
DRAIN_S = 60.0


class Generations(Protocol):
    """One backend's generations: which is live, building a new one, making it live."""

    @property
    def where(self) -> str:
        """The folder or server, for messages and the meta key."""

    def live(self) -> int:
        """The live generation (0: the collections from before any refresh, or none)."""

    def built(self) -> list[int]:
        """Every generation that has data, live or not (a half-built one included)."""

    def open(self, generation: int) -> VectorStore:
        """A store reading and writing that generation only (to build it)."""

    def open_live(self) -> VectorStore:
        """A store on the live generation, for serving."""

    def publish(self, generation: int) -> None:
        """Make a built generation live, atomically for every reader."""

    def drop(self, generation: int) -> bool:
        """Delete a generation's data; False (and nothing deleted) while something still
        uses it. The live generation is never dropped (ValueError)."""

    def close(self) -> None: ...


class _Slot:
    """One generation's store and the calls running on it."""

    __slots__ = ("calls", "generation", "retired", "store")

    def __init__(self, store: VectorStore, generation: int) -> None:
        self.store = store
        self.generation = generation
        self.calls = 0
        self.retired = False


class LiveStore:
    """A ``VectorStore`` on the live generation that can switch generations in place.

    A call that started before a switch finishes on the generation it started on; calls
    after it go to the new one. One request that straddles the switch may still read one
    vector from each generation (the interface has no request scope); every later one is
    consistent."""

    def __init__(
        self,
        generations: Generations,
        *,
        drain_s: float = DRAIN_S,
        follow_every_s: float | None = None,
    ) -> None:
        self._generations = generations
        self._drain_s = drain_s
        # Where other processes can publish (a shared Qdrant server), look this often, from
        # a call but in a thread of its own, so no request waits for the look.
        self._follow_every_s = follow_every_s
        self._next_follow = time.monotonic() + (follow_every_s or 0.0)
        self._cond = threading.Condition()
        self._switching = threading.Lock()
        self._slot = _Slot(generations.open_live(), generations.live())
        self._listeners: list[Callable[[int], None]] = []
        self._closed = False

    def __repr__(self) -> str:
        return f"LiveStore({self._generations.where!r}, generation {self.generation})"

    @property
    def generation(self) -> int:
        return self._slot.generation

    @property
    def generations(self) -> Generations:
        return self._generations

    def on_swap(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(new_generation)`` after every switch, once the old one is idle."""
        self._listeners.append(listener)

    def follow(self) -> bool:
        """Switch to the generation that is live now, if this store is on another one (after
        this process published it, or another process did); True when it switched."""
        with self._switching:
            live = self._generations.live()
            if live == self._slot.generation or self._closed:
                return False
            fresh = self._generations.open_live()
            for name in CollectionName:  # open it now, not on the first listener's request
                fresh.info(name)
            with self._cond:
                old, self._slot = self._slot, _Slot(fresh, live)
                old.retired = True
                idle = self._cond.wait_for(lambda: old.calls == 0, timeout=self._drain_s)
            if idle:
                old.store.close()
            else:  # left open (and so never dropped): better a leak than a failed request
                log.warning(
                    "generation %d still had %d calls running after %.0f s; left open",
                    old.generation, old.calls, self._drain_s,
                )  # fmt: skip
            log.info("vector store now on generation %d (was %d)", live, old.generation)
        for listener in self._listeners:
            listener(live)
        return True

    def _follow_soon(self) -> None:
        now = time.monotonic()
        with self._cond:
            if now < self._next_follow or self._follow_every_s is None:
                return
            self._next_follow = now + self._follow_every_s
        threading.Thread(target=self._follow_quietly, name="vectors-follow", daemon=True).start()

    def _follow_quietly(self) -> None:
        try:
            self.follow()
        except Exception:  # the store stays on its generation; the next look tries again
            log.warning("could not look for a new vector store generation", exc_info=True)

    def _enter(self) -> _Slot:
        if self._follow_every_s is not None:
            self._follow_soon()
        with self._cond:
            slot = self._slot
            slot.calls += 1
            return slot

    def _leave(self, slot: _Slot) -> None:
        with self._cond:
            slot.calls -= 1
            if slot.retired and slot.calls == 0:
                self._cond.notify_all()

    # -- VectorStore, each call on the generation that was live when it started ------------

    def ensure_collection(self, name: CollectionName, *, dims: Mapping[VectorName, int]) -> None:
        slot = self._enter()
        try:
            slot.store.ensure_collection(name, dims=dims)
        finally:
            self._leave(slot)

    def upsert(
        self, name: CollectionName, points: Iterable[Point], *, batch_size: int = 1024
    ) -> int:
        slot = self._enter()
        try:
            return slot.store.upsert(name, points, batch_size=batch_size)
        finally:
            self._leave(slot)

    def finish_bulk_load(self, name: CollectionName) -> None:
        slot = self._enter()
        try:
            slot.store.finish_bulk_load(name)
        finally:
            self._leave(slot)

    def delete(self, name: CollectionName, ids: Sequence[str]) -> None:
        slot = self._enter()
        try:
            slot.store.delete(name, ids)
        finally:
            self._leave(slot)

    def count(self, name: CollectionName) -> int:
        slot = self._enter()
        try:
            return slot.store.count(name)
        finally:
            self._leave(slot)

    def info(self, name: CollectionName) -> CollectionInfo | None:
        slot = self._enter()
        try:
            return slot.store.info(name)
        finally:
            self._leave(slot)

    def search(
        self,
        name: CollectionName,
        *,
        using: VectorName,
        vector: Vector,
        n: int = 10,
        where: Filter = NO_FILTER,
    ) -> list[Hit]:
        slot = self._enter()
        try:
            return slot.store.search(name, using=using, vector=vector, n=n, where=where)
        finally:
            self._leave(slot)

    def recommend(
        self,
        name: CollectionName,
        *,
        using: VectorName,
        positive: Sequence[str],
        negative: Sequence[str] = (),
        n: int = 10,
        where: Filter = NO_FILTER,
    ) -> list[Hit]:
        slot = self._enter()
        try:
            return slot.store.recommend(
                name, using=using, positive=positive, negative=negative, n=n, where=where
            )
        finally:
            self._leave(slot)

    def vectors(
        self, name: CollectionName, ids: Sequence[str], *, using: VectorName
    ) -> dict[str, Vector]:
        slot = self._enter()
        try:
            return slot.store.vectors(name, ids, using=using)
        finally:
            self._leave(slot)

    def close(self) -> None:
        with self._switching:
            if self._closed:
                return
            self._closed = True
            with self._cond:
                slot = self._slot
                slot.retired = True
                self._cond.wait_for(lambda: slot.calls == 0, timeout=self._drain_s)
            try:
                slot.store.close()
            finally:
                self._generations.close()


def generation_of(store: object) -> int:
    """The generation ``store`` answers from: a ``LiveStore``'s, else 0 (a plain store)."""
    return store.generation if isinstance(store, LiveStore) else 0
