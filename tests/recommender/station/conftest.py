"""``world`` (the known-answer world) comes from tests/conftest.py; its CF-less twin is here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.world import World, world_fixture


@pytest.fixture(scope="module")
def text_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The same world without playlists' collaborative vectors: the demo catalog's case."""
    yield from world_fixture(tmp_path_factory.mktemp("text-world"), cf=False)
