from __future__ import annotations

import pytest

from recommender.cf import AlsEmbedder, BprEmbedder
from wavelength.components import make_embedder
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
