"""Read-only catalog facts for the conversation engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.catalog import count_catalog

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from wavelength.domain import CatalogCounts


class SqlCatalogStats:
    """Counts straight from the database (the real adapter behind ``bot.CatalogStats``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def counts(self) -> CatalogCounts:
        with self._engine.connect() as conn:
            return count_catalog(conn=conn)
