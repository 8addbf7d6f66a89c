from __future__ import annotations

from pathlib import Path

import pytest

from recommender.cf import AlsEmbedder, BprEmbedder
from wavelength.components import make_embedder, make_shared_neighbours
from wavelength.settings import CfModel, Settings


def test_unset_sizes_keep_the_models_tuned_defaults() -> None:
    embedder = make_embedder(Settings())
    assert isinstance(embedder, AlsEmbedder)
    assert embedder == AlsEmbedder()


def test_settings_override_size_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAVELENGTH_CF_FACTORS", "16")
    monkeypatch.setenv("WAVELENGTH_CF_ITERATIONS", "3")
    embedder = make_embedder(Settings(), CfModel.BPR)
    assert isinstance(embedder, BprEmbedder)
    assert (embedder.factors, embedder.iterations) == (16, 3)


def test_none_means_text_only() -> None:
    assert make_embedder(Settings(), CfModel.NONE) is None


@pytest.mark.parametrize(
    ("processes", "workers", "shared"), [(1, 0, False), (2, 0, True), (1, 2, True)]
)
def test_liked_neighbours_are_shared_where_several_processes_compose(
    tmp_path: Path, processes: int, workers: int, shared: bool
) -> None:
    settings = Settings(data_home=tmp_path, api_processes=processes, compose_workers=workers)
    cache = make_shared_neighbours(settings)
    assert (cache is not None) is shared
    if cache is not None:
        assert cache.path == tmp_path / "cache" / "neighbours.sqlite"
        cache.close()
    assert settings.neighbour_cache_path.exists() is shared  # one process writes no file


def test_a_cache_that_cannot_open_leaves_stations_unshared(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_home=tmp_path, api_processes=2)
    settings.neighbour_cache_path.mkdir(parents=True)  # a folder where the file would be
    assert make_shared_neighbours(settings) is None
    assert "will not be shared between processes" in caplog.text
