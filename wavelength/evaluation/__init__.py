"""Offline evaluation of the station engine on real playlists, baselines in the same run.

``evaluate`` loads an MPD-format folder, holds out a seeded test set, trains a catalog on
the rest (the real ``wavelength train``), and scores three things: mood → tracks from a
title alone, playlist continuation from a title and a seed, and how a station's hit rate
rises as a simulated listener reacts. ``markdown`` and ``to_json`` render the report.
"""

from wavelength.evaluation.continuation import SeedMode
from wavelength.evaluation.data import DataError
from wavelength.evaluation.report import EvalReport, markdown, to_json
from wavelength.evaluation.run import EvalOptions, evaluate

__all__ = ["DataError", "EvalOptions", "EvalReport", "SeedMode", "evaluate", "markdown", "to_json"]
