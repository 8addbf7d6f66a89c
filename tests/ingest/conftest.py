"""Fixtures for the ingest tests: small input files with known contents, written into tmp_path."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.ingest.samples import Writer

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """Writes a file under ``tmp_path/in`` and returns its path (see ``Writer``)."""
    return Writer(tmp_path / "in")
