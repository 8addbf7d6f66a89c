"""Read-only copies of the embedded store's live generation, for processes beside its owner.

qdrant-edge opens a shard folder in one process only (its WAL is locked), and it holds the
GIL while it searches (benchmarks/probe_edge_gil.py), so the process that owns the shards
cannot compose station batches on more than one core. A compose worker
(``wavelength.compose_pool``) searches a private copy of the live generation instead: made
when it starts and again whenever a model refresh makes another generation live, which
``LiveStore`` notices by the pointer file (``follow_every_s``). Copies are never written;
the owner's folders stay the only truth, so nothing a copy holds can be lost.
"""

from __future__ import annotations

import errno
import itertools
import os
import shutil
import threading
from pathlib import Path

from vectorstore.base import CollectionName, VectorStoreError
from vectorstore.edge import EdgeStore, EdgeTuning
from vectorstore.edge_generations import EdgeGenerations

_READ_ONLY = "a copy of the vector store is read-only; the process that owns {} writes it"


class EdgeReplicas:
    """``Generations`` answered from private copies, under ``scratch``, of the live
    generation of the embedded store at ``source``. Only reading: ``open``, ``publish`` and
    ``drop`` refuse. ``close`` deletes every copy."""

    def __init__(self, source: Path, scratch: Path, *, tuning: EdgeTuning | None = None) -> None:
        self._source = EdgeGenerations(source, tuning=tuning)
        self._scratch = scratch.expanduser().resolve()
        self._tuning = tuning
        self._copies = itertools.count(1)
        self._newest: Path | None = None
        self._making: set[Path] = set()  # copies being made: never pruned
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EdgeReplicas({self._source.where!r} -> {str(self._scratch)!r})"

    @property
    def where(self) -> str:
        return self._source.where

    def live(self) -> int:
        return self._source.live()

    def built(self) -> list[int]:
        return self._source.built()

    def open(self, generation: int) -> EdgeStore:
        raise VectorStoreError(_READ_ONLY.format(self._source.where))

    def open_live(self) -> EdgeStore:
        """A store on a fresh copy of the generation live now."""
        generation = self._source.live()
        folder = self._source.folder(generation)
        target = self._scratch / f"g{generation}-{next(self._copies)}"
        with self._lock:
            self._making.add(target)
        try:
            shutil.rmtree(target, ignore_errors=True)  # a dead worker's leftover, same name
            target.mkdir(parents=True)
            shards = [folder / n.value for n in CollectionName if (folder / n.value).is_dir()]
            if not shards:
                raise VectorStoreError(
                    f"{folder} holds no collections to copy yet: run `wavelength train`, or "
                    "let the first start finish building the vectors"
                )
            for shard in shards:
                # The owner never writes a published generation (a refresh builds a new
                # one), so the files are still while they are copied.
                shutil.copytree(shard, target / shard.name, copy_function=sparse_copy)
            with self._lock:  # newest before no longer "being made": a prune keeps it
                self._newest = target
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)  # a full disk leaves no half copy
            raise
        finally:
            with self._lock:
                self._making.discard(target)
        return EdgeStore(target, tuning=self._tuning)

    def prune(self) -> None:
        """Delete every copy but the newest (after ``LiveStore`` moved off the older ones; a
        copy still open elsewhere stays readable until closed, as Linux keeps deleted files)."""
        if not self._scratch.is_dir():
            return
        with self._lock:
            keep = {self._newest, *self._making}
        for child in self._scratch.iterdir():
            if child not in keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)

    def publish(self, generation: int) -> None:
        raise VectorStoreError(_READ_ONLY.format(self._source.where))

    def drop(self, generation: int) -> bool:
        raise VectorStoreError(_READ_ONLY.format(self._source.where))

    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)


def sparse_copy(source: str, target: str) -> None:
    """Copy a file with its holes left holes. qdrant-edge reserves large files it has barely
    written (a 25-point shard is 55 MB on disk and a plain copy of it 605 MB): only the data
    regions are read and written, found with SEEK_DATA / SEEK_HOLE where the system has them."""
    seek_data, seek_hole = getattr(os, "SEEK_DATA", None), getattr(os, "SEEK_HOLE", None)
    if seek_data is None or seek_hole is None:
        shutil.copy2(source, target)
        return
    with Path(source).open("rb") as src, Path(target).open("wb") as dst:
        size = os.fstat(src.fileno()).st_size
        at = 0
        while at < size:
            try:
                start = os.lseek(src.fileno(), at, seek_data)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # nothing but a hole to the end
                    break
                # A file system that cannot tell holes from data (EINVAL): copy it whole,
                # never leave the rest of the file zeros.
                src.seek(0)
                dst.seek(0)
                shutil.copyfileobj(src, dst, 1 << 20)
                break
            end = os.lseek(src.fileno(), start, seek_hole)
            src.seek(start)
            dst.seek(start)
            left = end - start
            while left > 0:
                chunk = src.read(min(left, 1 << 20))
                if not chunk:
                    break
                dst.write(chunk)
                left -= len(chunk)
            at = end
        dst.truncate(size)
    shutil.copystat(source, target)
