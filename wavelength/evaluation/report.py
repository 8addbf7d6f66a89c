"""The evaluation's numbers as one value, rendered as Markdown tables and as JSON.

Every figure carries what it needs to be quoted honestly: the data folder, the split seed
and sizes, K, the machine, the date and the seconds each stage took.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass

from wavelength.evaluation.learning import Curve
from wavelength.evaluation.scoring import Scores


@dataclass(frozen=True, slots=True)
class EvalReport:
    data: str
    files: int
    playlists: int
    read_problems: int
    seed: int
    train: int
    test: int
    qualifying: int
    k: int
    batches: int
    seed_mode: str
    tracks_csv: tuple[str, ...]
    artists_csv: tuple[str, ...]
    workdir: str | None  # None: a temporary folder, removed afterwards
    reused_workspace: bool
    encoder: str
    cf_model: str | None
    catalog_tracks: int
    test_tracks: int  # distinct tracks over the test playlists
    test_tracks_in_catalog: float  # share the catalog knows: the ceiling of any station
    test_tracks_in_train: float  # share on a training playlist: the ceiling of the baselines
    machine: str
    date: str
    seconds: dict[str, float]
    train_seconds: dict[str, float]  # the parts of the train stage; empty when reused
    mood: tuple[Scores, ...]
    continuation: tuple[Scores, ...]
    continuation_cases: int
    learning: tuple[Curve, ...]

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}"
    )


def to_json(report: EvalReport) -> str:
    out = asdict(report)
    out["total_seconds"] = round(report.total_seconds, 1)
    return json.dumps(out, indent=2, ensure_ascii=False)


def markdown(report: EvalReport) -> str:
    r = report
    seed_text = "the first 5 tracks" if r.seed_mode == "first" else "the first half"
    stages = ", ".join(
        f"{name} {s:,.0f} s" + (f" ({_parts(r.train_seconds)})" if name == "train" else "")
        for name, s in r.seconds.items()
    )
    lines = [
        f"## Wavelength offline evaluation ({r.date})",
        "",
        f"Data: `{r.data}` ({r.files:,} slice files, {r.playlists:,} playlists"
        + (f", {r.read_problems:,} read problems" if r.read_problems else "")
        + f"). Split seed {r.seed}: {r.test:,} test playlists drawn from the {r.qualifying:,} "
        f"with 10+ distinct tracks, {r.train:,} train playlists.",
        "",
        f"Catalog: the train playlists only{_csvs(r)}; {r.catalog_tracks:,} tracks indexed, "
        f"text encoder {r.encoder}, collaborative model {r.cf_model or 'none'}"
        + (" (workspace reused from an earlier run)" if r.reused_workspace else "")
        + f". Of the {r.test_tracks:,} distinct test tracks, {r.test_tracks_in_catalog:.1%} are "
        f"in the catalog (the ceiling for the station) and {r.test_tracks_in_train:.1%} on a "
        "train playlist (the ceiling for popularity and item-kNN).",
        "",
        f"Every ranker returns K = {r.k} tracks per query. R-precision, NDCG and clicks are the "
        "RecSys Challenge 2018 metrics: R-precision reads the first |G| tracks and gives an "
        "artist match 0.25; NDCG is the challenge's (the ideal counts only the hits found, so it "
        f"measures how early hits come); clicks are refreshes of 10 before the first hit, "
        f"{-(-r.k // 10) + 1} when none is in the {r.k} (the challenge's 51 is for 500). "
        "± is one standard error over the playlists.",
        "",
        f"Machine: {r.machine}. Time: {stages}; total {r.total_seconds:,.0f} s.",
        "",
        f"### Mood → tracks (title only), {r.mood[0].cases if r.mood else 0:,} playlists",
        "",
        *_table(r.mood, r.k),
        "",
        f"### Playlist continuation (title + {seed_text} as seed), "
        f"{r.continuation_cases:,} playlists",
        "",
        *_table(r.continuation, r.k),
        "",
        *_curves(r.learning, r.seed),
    ]
    return "\n".join(lines) + "\n"


def _parts(seconds: dict[str, float]) -> str:
    return ", ".join(f"{name} {s:,.0f} s" for name, s in seconds.items())


def _csvs(r: EvalReport) -> str:
    parts = []
    if r.tracks_csv:
        parts.append("tracks from " + ", ".join(f"`{p}`" for p in r.tracks_csv))
    if r.artists_csv:
        parts.append("artist genres from " + ", ".join(f"`{p}`" for p in r.artists_csv))
    return (" plus " + " and ".join(parts)) if parts else ""


def _table(rows: tuple[Scores, ...], k: int) -> list[str]:
    lines = [
        f"| ranker | R-precision | NDCG | recall@{k} | clicks | s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in rows:
        lines.append(
            f"| {s.ranker} | {s.r_precision:.4f} ± {s.r_precision_se:.4f} | {s.ndcg:.4f} "
            f"| {s.recall:.4f} ± {s.recall_se:.4f} | {s.clicks:.2f} | {s.seconds:,.0f} |"
        )
    return lines


def _curves(curves: tuple[Curve, ...], seed: int) -> list[str]:
    if not curves:
        return []
    learning = curves[0]
    batches = len(learning.artist_hits)
    lines = [
        f"### Learning curve: {learning.listeners:,} listeners × {batches} batches of 5 "
        f"(balanced, seed {seed})",
        "",
        "Hit rate per batch: the share of a batch by the listener's playlist's artists (the "
        "exact tracks in brackets).",
        "",
        "| batch | " + " | ".join(c.label for c in curves) + " |",
        "|---:|" + "---:|" * len(curves),
    ]
    for b in range(batches):
        cells = " | ".join(f"{c.artist_hits[b]:.3f} ({c.track_hits[b]:.3f})" for c in curves)
        lines.append(f"| {b + 1} | {cells} |")
    if batches >= 2:
        tail = max(1, batches // 3)
        for c in curves:
            late = sum(c.artist_hits[-tail:]) / tail
            last = f"the last {tail} batches" if tail > 1 else "the last batch"
            lines += [
                "",
                f"{c.label}: artist hit rate {c.artist_hits[0]:.3f} in batch 1, {late:.3f} over "
                f"{last} ({late - c.artist_hits[0]:+.3f}).",
            ]
    return lines
