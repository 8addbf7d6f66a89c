from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.world import World, world_fixture


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from world_fixture(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def text_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The same world without playlists' collaborative vectors: the demo catalog's case."""
    yield from world_fixture(tmp_path_factory.mktemp("text-world"), cf=False)
