"""Finding input files and opening them as bytes or text, whatever their encoding."""

from __future__ import annotations

import codecs
import gzip
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.problems import ProblemLog

_SNIFF_BYTES = 1 << 16


class InputError(ValueError):
    """A path that can't be ingested at all; the message says why in one line."""


def expand_paths(
    paths: Iterable[Path], suffixes: tuple[str, ...], problems: ProblemLog
) -> list[Path]:
    """Files named directly, plus files with a matching suffix found under named folders."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and _matches(p, suffixes))
            if not inside:
                problems.add(path, None, f"no {' / '.join(suffixes)} files in this folder")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            problems.add(path, None, "no such file or folder")
    return found


def _matches(path: Path, suffixes: tuple[str, ...]) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(suffixes)


class CountingReader(io.RawIOBase):
    """Reports bytes read from the underlying file, for progress bars on compressed input too."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if n:
            self._on_read(n)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_bytes(path: Path, on_read: Callable[[int], None] = lambda _n: None) -> IO[bytes]:
    """Open ``path`` for reading bytes, transparently un-gzipping ``.gz`` files."""
    counted = io.BufferedReader(CountingReader(path.open("rb"), on_read), buffer_size=1 << 16)
    if path.name.lower().endswith(".gz"):
        return gzip.GzipFile(fileobj=counted, mode="rb")  # type: ignore[return-value]
    return counted


def skip_utf8_bom(stream: IO[bytes]) -> None:
    """Move past a UTF-8 byte order mark at the start of ``stream``, if there is one."""
    if stream.peek(len(codecs.BOM_UTF8))[: len(codecs.BOM_UTF8)] == codecs.BOM_UTF8:  # type: ignore[attr-defined]
        stream.read(len(codecs.BOM_UTF8))


def sniff_encoding(head: bytes, *, whole_file: bool = False) -> str:
    """UTF-8 (with or without BOM) or UTF-16 when the bytes say so, else Windows-1252.

    ``whole_file`` says ``head`` is all of the file rather than a sample of its start."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # A multi-byte character may be cut at the end of a sample; that is still UTF-8. At the
        # end of the whole file it is not: a cp1252 file ending in "Beyonc\xe9" must not pass.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=whole_file)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def open_text(
    path: Path, problems: ProblemLog, on_read: Callable[[int], None] = lambda _n: None
) -> IO[str]:
    """Open ``path`` as text in the encoding it appears to use, noting any fallback."""
    with open_bytes(path) as probe:
        head = probe.read(_SNIFF_BYTES)
    if not head.strip():
        raise InputError("file is empty")
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError("this is a binary file, not text")
    encoding = sniff_encoding(head, whole_file=len(head) < _SNIFF_BYTES)
    if encoding == "cp1252":
        problems.note(f"{path} is not UTF-8; reading it as Windows-1252")
    # "replace" keeps a stray bad byte deep in a UTF-8 file from losing the whole file.
    errors = "replace" if encoding.startswith("utf-8") else "strict"
    if encoding == "cp1252":
        errors = "replace"  # five byte values are undefined in cp1252
    return io.TextIOWrapper(open_bytes(path, on_read), encoding=encoding, errors=errors, newline="")
