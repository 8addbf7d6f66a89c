"""Malformed input is reported with file and line, and ingestion carries on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        return f"{where}: {self.message}"


@dataclass
class ProblemLog:
    """Collects problems; shows the first few per file as they happen and counts the rest."""

    echo: Callable[[str], None] | None = None
    shown_per_file: int = 10
    kept: int = 10_000
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    total: int = 0
    _per_file: dict[Path, int] = field(default_factory=dict)

    def add(self, path: Path, line: int | None, message: str) -> None:
        problem = Problem(path, line, message)
        self.total += 1
        if len(self.problems) < self.kept:  # bounded memory on a huge broken corpus
            self.problems.append(problem)
        seen = self._per_file.get(path, 0) + 1
        self._per_file[path] = seen
        if self.echo is None:
            return
        if seen <= self.shown_per_file:
            self.echo(f"problem: {problem}")
        elif seen == self.shown_per_file + 1:
            self.echo(f"problem: {path}: more problems in this file; the summary counts them")

    def note(self, message: str) -> None:
        """Something the user should know that is not an error (a fallback encoding, say)."""
        self.notes.append(message)
        if self.echo is not None:
            self.echo(f"note: {message}")

    def __len__(self) -> int:
        return self.total
