"""Open qdrant-edge shards, one per folder per process, kept from other processes by a lock.

qdrant-edge refuses to open a shard folder twice (its WAL is locked), so every ``EdgeStore``
of this process on the same folder shares one open shard from this registry; the last one to
close it closes it. ``<folder>.lock`` (``flock``) turns another process away with a clear
message instead of the engine's "Can't init WAL: WouldBlock".
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import qdrant_edge as qe

from vectorstore._common import VECTOR_NAMES
from vectorstore.base import VectorName, VectorStoreError

_CONFIG_FILE = "edge_config.json"  # written by qdrant-edge; the only place it keeps the dims
_DAMAGED = "; if the folder is damaged, delete it and run `wavelength train` again"


@dataclass(frozen=True, slots=True)
class NewShard:
    """What a missing shard is created with: its dims, engine config and payload indexes."""

    dims: Mapping[VectorName, int]
    config: qe.EdgeConfig
    indexes: Mapping[str, qe.PayloadSchemaType | qe.PayloadSchemaParams]


class OpenShard:
    """One open shard, shared by every EdgeStore of this process on the same folder."""

    def __init__(
        self, path: Path, shard: qe.EdgeShard, dims: dict[VectorName, int], lock: IO[str]
    ) -> None:
        self.path = path
        self.engine = shard
        self.dims = dims
        self.lock = lock
        self.users = 1


_REGISTRY: dict[Path, OpenShard] = {}
_REGISTRY_LOCK = threading.Lock()


def _lock_path(shard_path: Path) -> Path:
    return shard_path.with_name(f"{shard_path.name}.lock")


def _take_lock(shard_path: Path) -> IO[str]:
    """An exclusive advisory lock, released by the kernel if this process dies."""
    lock_path = _lock_path(shard_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise VectorStoreError(
            f"the vector store {shard_path} is open in another process (pid {holder}); "
            "stop that Wavelength process first, or set QDRANT_URL to share a Qdrant server"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _drop_lock(handle: IO[str]) -> None:
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()


def _read_dims(shard_path: Path) -> dict[VectorName, int]:
    config = json.loads((shard_path / _CONFIG_FILE).read_text(encoding="utf-8"))
    dims: dict[VectorName, int] = {}
    for name, params in config.get("vectors", {}).items():
        if name in VECTOR_NAMES and params.get("distance") == "Cosine":
            dims[VectorName(name)] = int(params["size"])
    return dims


@contextmanager
def engine_errors(path: Path, doing: str, hint: str = "") -> Iterator[None]:
    """qdrant-edge raises bare ``Exception``s (and Rust panics); say where and what failed."""
    try:
        yield
    except (ValueError, VectorStoreError):
        raise
    except Exception as exc:
        raise VectorStoreError(f"qdrant-edge could not {doing} in {path}: {exc}{hint}") from exc
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":  # pyo3's, a BaseException
            raise
        raise VectorStoreError(
            f"qdrant-edge crashed trying to {doing} in {path}: {exc}{hint}"
        ) from exc


def _open_shard(path: Path, create: NewShard | None) -> OpenShard | None:
    """Open the shard at ``path``, or create it as ``create`` says; None when absent."""
    lock = _take_lock(path)
    try:
        if (path / _CONFIG_FILE).exists():
            with engine_errors(path, "open the shard", _DAMAGED):
                engine = qe.EdgeShard.load(str(path))
            dims = _read_dims(path)
        elif create is not None:
            with engine_errors(path, "create the shard"):
                engine = qe.EdgeShard.create(str(path), create.config)
                for field_name, schema in create.indexes.items():
                    engine.update(qe.UpdateOperation.create_field_index(field_name, schema))
            dims = dict(create.dims)
        else:
            _drop_lock(lock)
            return None
    except BaseException:
        _drop_lock(lock)
        raise
    return OpenShard(path, engine, dims, lock)


def acquire(path: Path, *, create: NewShard | None = None) -> OpenShard | None:
    """The shared open shard at ``path``, created as ``create`` says if absent; None when it
    does not exist and ``create`` is None."""
    with _REGISTRY_LOCK:
        shared = _REGISTRY.get(path)
        if shared is not None:
            shared.users += 1
            return shared
        if create is None and not (path / _CONFIG_FILE).exists():
            return None  # a mere lookup leaves no lock file behind
        shared = _open_shard(path, create)
        if shared is not None:
            _REGISTRY[path] = shared
        return shared


def in_use(path: Path) -> bool:
    """Whether this process has the shard at ``path`` open."""
    with _REGISTRY_LOCK:
        return path in _REGISTRY


@contextmanager
def locked_for_removal(folder: Path) -> Iterator[bool]:
    """Hold every shard lock in ``folder`` (non-blocking): True when no process, this one
    included, has any of its shards open, so the folder may be deleted meanwhile."""
    held: list[IO[str]] = []
    free = True
    try:
        for lock_path in sorted(folder.glob("*.lock")):
            if in_use(lock_path.with_suffix("")):
                free = False
                break
            handle = lock_path.open("a+", encoding="utf-8")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                free = False
                break
            held.append(handle)
        yield free
    finally:
        for taken in held:
            _drop_lock(taken)


def release(shared: OpenShard) -> None:
    with _REGISTRY_LOCK:
        shared.users -= 1
        if shared.users > 0:
            return
        del _REGISTRY[shared.path]
        try:
            with engine_errors(shared.path, "close the shard"):
                shared.engine.flush()
                shared.engine.close()
        finally:
            _drop_lock(shared.lock)
