"""Honest in-memory fakes of the interfaces the core depends on (checked by contract tests)."""

from __future__ import annotations

from wavelength.domain import CatalogCounts


class FakeCatalogStats:
    """A catalog whose counts are whatever the test says they are."""

    def __init__(self, counts: CatalogCounts | None = None) -> None:
        self._counts = counts or CatalogCounts(0, 0, 0, 0, 0, 0, 0)

    def set(self, counts: CatalogCounts) -> None:
        self._counts = counts

    def counts(self) -> CatalogCounts:
        return self._counts
