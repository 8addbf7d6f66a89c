"""``wavelength eval-mixes``: the three personal-mix evaluations in one run, one report.

Load the MPD folder and split it with the seed (as ``wavelength eval`` does), fit ALS in
memory on the training playlists minus the ranker's share, then: organic playlist matching on
the held-out playlists, taste centers and nostalgia on the listening histories. Every method is
scored beside its baselines in the same run; ``only`` picks a subset.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from wavelength.evaluation import data
from wavelength.evaluation.buddies import (
    BuddiesResult,
    BuddiesSetup,
    evaluate_buddies,
    ranker_split,
)
from wavelength.evaluation.centers import CentersResult, CentersSetup, evaluate_centers
from wavelength.evaluation.histories import load_histories, total_plays
from wavelength.evaluation.nostalgia import NostalgiaResult, NostalgiaSetup, evaluate_nostalgia
from wavelength.evaluation.report import machine
from wavelength.evaluation.space import fit_space

if TYPE_CHECKING:
    from recommender.cf import ItemEmbedder

Echo = Callable[[str], None]
PARTS = ("buddies", "centers", "nostalgia")


@dataclass(frozen=True, slots=True)
class MixEvalOptions:
    playlists: Path
    histories: Path
    seed: int
    test_size: int = 500
    only: frozenset[str] = frozenset(PARTS)
    max_files: int | None = None
    buddies: BuddiesSetup = field(default_factory=BuddiesSetup)
    centers: CentersSetup = field(default_factory=CentersSetup)
    nostalgia: NostalgiaSetup = field(default_factory=NostalgiaSetup)

    def check(self) -> None:
        unknown = set(self.only) - set(PARTS)
        if unknown or not self.only:
            raise data.DataError(f"--only takes {', '.join(PARTS)}; got {sorted(self.only)}")
        if not self.histories.is_dir() and self.only & {"centers", "nostalgia"}:
            raise data.DataError(f"no folder at {self.histories}")


@dataclass(frozen=True, slots=True)
class MixEvalReport:
    data: str
    histories: str
    seed: int
    playlists: int
    train: int
    test: int
    listeners: int
    plays: int
    cf_model: str
    machine: str
    date: str
    seconds: dict[str, float]
    buddies: BuddiesResult | None
    centers: CentersResult | None
    nostalgia: NostalgiaResult | None


def evaluate_mixes(options: MixEvalOptions, *, embedder: ItemEmbedder, echo: Echo) -> MixEvalReport:
    options.check()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    corpus = data.load_mpd(options.playlists, max_files=options.max_files)
    parts = data.split(corpus.playlists, test_size=options.test_size, seed=options.seed)
    ranker_set, als_set = ranker_split(
        parts.train, size=options.buddies.ranker_size, seed=options.seed
    )
    seconds["load"] = time.perf_counter() - started
    echo(
        f"{len(corpus.playlists):,} playlists: {len(parts.test):,} test, {len(ranker_set):,} "
        f"ranker, {len(als_set):,} ALS (seed {options.seed})"
    )
    started = time.perf_counter()
    space = fit_space(als_set, embedder)
    seconds["als"] = time.perf_counter() - started
    listeners = load_histories(options.histories) if options.only & {"centers", "nostalgia"} else []
    buddies = centers = nostalgia = None
    if "buddies" in options.only:
        echo("organic playlist matching ...")
        buddies = evaluate_buddies(
            parts.test,
            ranker_set,
            space,
            seed=options.seed,
            als_playlists=len(als_set),
            setup=options.buddies,
        )
        seconds["buddies"] = buddies.seconds
    if "centers" in options.only:
        echo("taste centers ...")
        centers = evaluate_centers(listeners, space, seed=options.seed, setup=options.centers)
        seconds["centers"] = centers.seconds
    if "nostalgia" in options.only:
        echo("nostalgia ...")
        nostalgia = evaluate_nostalgia(listeners, seed=options.seed, setup=options.nostalgia)
        seconds["nostalgia"] = nostalgia.seconds
    return MixEvalReport(
        data=str(options.playlists),
        histories=str(options.histories),
        seed=options.seed,
        playlists=len(corpus.playlists),
        train=len(parts.train),
        test=len(parts.test),
        listeners=len(listeners),
        plays=total_plays(listeners),
        cf_model=embedder.name,
        machine=machine(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds={k: round(v, 1) for k, v in seconds.items()},
        buddies=buddies,
        centers=centers,
        nostalgia=nostalgia,
    )


def to_json(report: MixEvalReport) -> str:
    out = asdict(report)
    if report.buddies is not None:
        ranker = report.buddies.ranker
        out["buddies"]["ranker"] = {
            "weights": ranker.weights.round(4).tolist(),
            "mean": ranker.mean.round(4).tolist(),
            "scale": ranker.scale.round(4).tolist(),
        }
    return json.dumps(out, indent=2, ensure_ascii=False)


def markdown(report: MixEvalReport) -> str:
    r = report
    total = sum(r.seconds.values())
    lines = [
        f"## Personal mixes evaluation ({r.date})",
        "",
        f"Playlists: `{r.data}` ({r.playlists:,}), split seed {r.seed}: {r.test:,} test, "
        f"{r.train:,} train. Collaborative space: {r.cf_model}, fitted in memory on the train "
        "playlists minus the ranker's share; tracks on no playlist take their artist's vector. "
        f"Histories: `{r.histories}` ({r.listeners} listeners, {r.plays:,} plays).",
        "",
        f"Machine: {r.machine}. Time: "
        + ", ".join(f"{k} {v:,.0f} s" for k, v in r.seconds.items())
        + f"; total {total:,.0f} s. ± is one standard error.",
        "",
    ]
    if r.buddies is not None:
        lines += _buddies(r.buddies)
    if r.centers is not None:
        lines += _centers(r.centers)
    if r.nostalgia is not None:
        lines += _nostalgia(r.nostalgia)
    return "\n".join(lines) + "\n"


def _buddies(b: BuddiesResult) -> list[str]:
    lines = [
        f"### Organic playlist matching: 1 positive among {b.setup.negatives + 1}, "
        f"{b.cases:,} listeners",
        "",
        "A listener is the first half of a held-out playlist; the positive is its second half; "
        f"the {b.setup.negatives} negatives are second halves of other held-out playlists. "
        f"Ranker fitted on {b.ranker_playlists:,} training playlists the ALS never saw "
        f"({b.setup.ranker_negatives} negatives each, half of them nearest by cosine).",
        "",
        "| method | MRR | Hit@1 | Hit@5 | Hit@10 |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in b.rows:
        hits = " | ".join(f"{h.mean:.3f}" for h in row.hits)
        lines.append(f"| {row.method} | {row.mrr.mean:.3f} ± {row.mrr.se:.3f} | {hits} |")
    weights = ", ".join(
        f"{name} {w:+.2f}" for name, w in zip(b.feature_names, b.ranker.weights, strict=True)
    )
    return [*lines, "", f"Ranker weights (standardised features): {weights}.", ""]


def _centers(c: CentersResult) -> list[str]:
    s = c.setup
    lines = [
        f"### Taste centers: next-week recall, {', '.join(c.listeners)}",
        "",
        f"Cutoffs every {s.step_days:.0f} days; recency half-life {s.half_life_days:.0f} days; "
        f"mixes of {s.n} ({s.new_share:.0%} new), at most {s.per_artist} per artist, nothing "
        f"played in the last {s.exclude_days:.0f} days; up to {s.max_centers} centers of at "
        f"least {s.min_share:.0%}. {c.mixes_per_cutoff:.1f} mixes and "
        f"{c.tracks_per_cutoff:.0f} tracks per cutoff on average; the baseline gets as many. "
        f"{c.ids_kept:.0%} of centers kept their id from one cutoff to the next.",
        "",
        "| part | method | recall | cutoffs |",
        "|---|---|---:|---:|",
    ]
    for part, m in c.rows:
        lines.append(f"| {part} | {m.method} | {m.mean:.4f} ± {m.se:.4f} | {m.cases} |")
    lines.append("")
    for part, p in c.paired:
        lines.append(
            f"- {part}: centers minus centroid {p.diff:+.4f} ± {p.se:.4f} "
            f"(ahead at {p.wins}, level at {p.ties}, behind at {p.losses} cutoffs)"
        )
    return [*lines, ""]


def _nostalgia(n: NostalgiaResult) -> list[str]:
    s = n.setup
    lines = [
        f"### Nostalgia: precision@{s.n} of replays in the next {s.horizon_days:.0f} days, "
        f"{', '.join(n.listeners)}",
        "",
        f"Listeners with {s.min_years:.0f}+ years of history (left out: "
        f"{', '.join(n.skipped) or 'none'}). Cutoffs every {s.step_days:.0f} days after the "
        f"first {s.warmup_days:.0f}; every method draws from the same pool: tracks played "
        f"before and not in the last {s.recent_days:.0f} days. The period (median over "
        f"cutoffs) reached from {n.period_days[0]:.0f} to {n.period_days[1]:.0f} days back.",
        "",
        "| method | precision | cutoffs |",
        "|---|---:|---:|",
    ]
    for m in n.rows:
        lines.append(f"| {m.method} | {m.mean:.4f} ± {m.se:.4f} | {m.cases} |")
    lines.append("")
    for p in n.paired:
        lines.append(
            f"- minus {p.baseline}: {p.diff:+.4f} ± {p.se:.4f} "
            f"(ahead at {p.wins}, level at {p.ties}, behind at {p.losses} cutoffs)"
        )
    return [*lines, ""]


def parse_only(values: Collection[str] | None) -> frozenset[str]:
    """``--only buddies --only centers`` or ``--only buddies,centers``; none means all."""
    if not values:
        return frozenset(PARTS)
    return frozenset(v.strip() for value in values for v in value.split(",") if v.strip())
