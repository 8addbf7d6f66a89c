from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from tests.support.station_rows import StationRows, station_rows


@pytest.fixture
def rows(engine: Engine) -> Iterator[StationRows]:
    """Two users and six tracks, in one transaction that the test may keep using."""
    yield from station_rows(engine)
