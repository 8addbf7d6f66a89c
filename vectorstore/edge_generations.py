"""Generations of the embedded store: one folder each, and a pointer file naming the live one.

Layout under the vectors folder (``settings.vector_dir``)::

    tracks/ artists/ playlists/   generation 0: where `wavelength train` always wrote
    g3/tracks/ g3/artists/ ...    generation 3, built by a model refresh
    LIVE                          "g3": the live generation (absent: generation 0)

The pointer is replaced atomically (a temporary file, fsync, ``os.replace``, fsync of the
folder), so a crash leaves either the old or the new name in it, never half of one. A
refresh that dies mid-build leaves a folder no pointer names; the next refresh deletes it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

from vectorstore._shards import locked_for_removal
from vectorstore.base import CollectionName, VectorStoreError
from vectorstore.edge import EdgeStore, EdgeTuning

POINTER = "LIVE"
_FOLDER = re.compile(r"^g([1-9][0-9]*)$")


class EdgeGenerations:
    """``Generations`` of qdrant-edge shards under ``root``."""

    def __init__(self, root: Path, *, tuning: EdgeTuning | None = None) -> None:
        self._root = root.expanduser().resolve()
        self._tuning = tuning

    def __repr__(self) -> str:
        return f"EdgeGenerations({str(self._root)!r})"

    @property
    def where(self) -> str:
        return str(self._root)

    def folder(self, generation: int) -> Path:
        if generation < 0:
            raise ValueError(f"generations are numbered from 0, got {generation}")
        return self._root if generation == 0 else self._root / f"g{generation}"

    def live(self) -> int:
        pointer = self._root / POINTER
        try:
            text = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return 0
        found = _FOLDER.match(text)
        if found is None:
            raise VectorStoreError(
                f"{pointer} should name the live generation's folder (like g3), not {text!r}; "
                "write the name of the newest g<n> folder into it, or delete it to go back to "
                "the collections directly in the folder"
            )
        return int(found.group(1))

    def built(self) -> list[int]:
        found: set[int] = set()
        if self._gen0_paths(self._root):
            found.add(0)
        if self._root.is_dir():
            for child in self._root.iterdir():
                match = _FOLDER.match(child.name)
                if match and child.is_dir():
                    found.add(int(match.group(1)))
        return sorted(found)

    def _gen0_paths(self, folder: Path) -> list[Path]:
        """Generation 0's shard folders and lock files that exist."""
        paths = [folder / name.value for name in CollectionName]
        return [p for p in (*paths, *(p.with_name(f"{p.name}.lock") for p in paths)) if p.exists()]

    def open(self, generation: int) -> EdgeStore:
        return EdgeStore(self.folder(generation), tuning=self._tuning)

    def open_live(self) -> EdgeStore:
        return self.open(self.live())

    def publish(self, generation: int) -> None:
        folder = self.folder(generation)
        if generation == 0 or not all((folder / n.value).is_dir() for n in CollectionName):
            raise ValueError(f"generation {generation} is not built in {folder}")
        pointer = self._root / POINTER
        temporary = pointer.with_name(f".{POINTER}.{os.getpid()}.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(f"{folder.name}\n")
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(pointer)  # atomic: os.replace
        _fsync_folder(self._root)

    def drop(self, generation: int) -> bool:
        if generation == self.live():
            raise ValueError(f"generation {generation} is live in {self._root}; not dropped")
        folder = self.folder(generation)
        with locked_for_removal(folder) as free:
            if not free:
                return False
            if generation == 0:
                # Only the shards: the folder also holds the other generations and the pointer.
                for path in self._gen0_paths(folder):
                    if path.is_dir():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)
            else:
                shutil.rmtree(folder, ignore_errors=True)
        return True

    def close(self) -> None:
        """Nothing to release: every store opened here is closed by its holder."""


def _fsync_folder(folder: Path) -> None:
    # The rename itself must reach the disk, or a power cut could bring the old name back.
    with contextlib.suppress(OSError):  # some filesystems refuse to fsync a directory
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
