"""Offline evaluation of the collaborative item vectors on real MPD playlists.

Protocol (one run, every model on the same split):

* The playlists under ``--data`` (default ``../shared/data/mpd``: 5,271 MPD playlists) are
  shuffled with ``--seed``; ``--holdout`` (10%) become the test set, the rest train.
* Hyperparameters are chosen on a validation set (another 10%, cut from train with the same
  seed) by recall@10, then the chosen models are refit on all of train and scored on test.
  The test set is never used to choose anything.
* For each held-out playlist the model sees a seed (its first half, or a random half with
  ``--seed-mode random``) and must rank the hidden rest. Seed and hidden tracks are kept only
  where training knows them; playlists left without either are skipped (and counted).
* Query: the normalised mean of the seed tracks' vectors, nearest items excluding the seed,
  exactly how a station uses the vectors. ALS is also scored with a fold-in of the seed
  (``AlsEmbedder.fold_in``, equal to implicit's ``recalculate_user``).
* Baselines in the same run: popularity (most-held training tracks) and item-item cosine
  (implicit's item-item cosine, neighbours K chosen on validation).

Metrics: recall@10 and recall@50 (hits over all hidden tracks), NDCG@10 (binary).

    python benchmarks/eval_cf.py            # full grid, a few minutes on 2 cores
    python benchmarks/eval_cf.py --quick    # default models only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from recommender.cf import AlsEmbedder, BprEmbedder
from recommender.fallback import artist_vectors, with_fallbacks
from recommender.interactions import Interactions, build_interactions
from recommender.metrics import ndcg_at_k, recall_at_k
from recommender.vectors import ItemVectors, Matrix
from wavelength.domain import TrackId
from wavelength.evaluation.rankers import ItemKnn, Popularity, Query

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "mpd"
OUT = HERE / "out"
N = 50  # longest list any metric reads

Ranker = Callable[[Sequence[str]], list[str]]

# Validation grids. BPR ignores alpha; ALS's alpha and regularization interact (at alpha 10 a
# small regularization over-fits each playlist's incidental picks), hence the joint grid.
ALS_GRID: list[dict[str, Any]] = [
    {"factors": f, "regularization": r, "alpha": a, "iterations": 15}
    for f in (32, 64, 128)
    for a in (1.0, 10.0, 40.0)
    for r in (0.1, 1.0, 10.0)
]
BPR_GRID: list[dict[str, Any]] = [
    {"factors": f, "learning_rate": lr, "regularization": 0.01, "iterations": it}
    for f in (64, 128)
    for lr in (0.01, 0.05)
    for it in (100, 300)
]
KNN_GRID = (20, 100, 500)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Corpus:
    playlists: list[tuple[str, tuple[str, ...]]]  # (playlist id, track ids in order)
    track_artist: dict[str, str]
    files: int
    problems: int


def load_mpd(folder: Path, *, max_files: int | None = None) -> Corpus:
    """Every playlist under ``folder`` as track-id tuples, in file-name order (read by the
    ``wavelength eval`` loader, repeats dropped)."""
    from wavelength.evaluation.data import DataError, distinct
    from wavelength.evaluation.data import load_mpd as read_mpd

    try:
        corpus = read_mpd(folder, max_files=max_files)
    except DataError as exc:
        raise FileNotFoundError(str(exc)) from None
    playlists: list[tuple[str, tuple[str, ...]]] = [(p.id, distinct(p)) for p in corpus.playlists]
    track_artist: dict[str, str] = {t: a for t, a in corpus.artist_of.items()}
    return Corpus(playlists, track_artist, corpus.files, corpus.problems)


def split(
    playlists: Sequence[tuple[str, tuple[str, ...]]], *, fraction: float, seed: int
) -> tuple[list[tuple[str, tuple[str, ...]]], list[tuple[str, tuple[str, ...]]]]:
    """(kept, held out): a seeded random ``fraction`` of the playlists is held out."""
    order = list(range(len(playlists)))
    random.Random(seed).shuffle(order)
    cut = round(len(order) * fraction)
    held = sorted(order[:cut])
    kept = sorted(order[cut:])
    return [playlists[i] for i in kept], [playlists[i] for i in held]


@dataclass(frozen=True)
class Case:
    seed: tuple[str, ...]
    hidden: frozenset[str]


@dataclass(frozen=True)
class Cases:
    cases: list[Case]
    skipped: int


def make_cases(
    held_out: Iterable[tuple[str, tuple[str, ...]]],
    known: Callable[[str], bool],
    *,
    mode: str,
    seed: int,
) -> Cases:
    """Seed/hidden halves of every held-out playlist, restricted to tracks training knows."""
    rng = random.Random(seed)
    cases: list[Case] = []
    skipped = 0
    for _pid, tracks in held_out:
        order = list(tracks)
        if mode == "random":
            rng.shuffle(order)
        half = len(order) // 2
        seed_ids = tuple(t for t in order[:half] if known(t))
        hidden = frozenset(t for t in order[half:] if known(t)) - set(seed_ids)
        if seed_ids and hidden:
            cases.append(Case(seed_ids, hidden))
        else:
            skipped += 1
    return Cases(cases, skipped)


def pairs_of(playlists: Iterable[tuple[str, tuple[str, ...]]]) -> Iterable[tuple[str, str]]:
    for pid, tracks in playlists:
        for track in tracks:
            yield pid, track


# --------------------------------------------------------------------------- rankers


def popularity_ranker(train: Interactions) -> Ranker:
    popularity = Popularity(train)

    def rank(seed: Sequence[str]) -> list[str]:
        ids, _ = popularity.recommend(Query(seed=tuple(TrackId(t) for t in seed)), n=N)
        return list(ids)

    return rank


def vector_ranker(vectors: ItemVectors, fallback: Ranker, *, skip_borrowed: bool = False) -> Ranker:
    """Mean of the seed's vectors, nearest items; popularity when no seed track has a vector."""

    def rank(seed: Sequence[str]) -> list[str]:
        usable = [t for t in seed if t in vectors]
        if not usable:
            return fallback(seed)
        query = vectors.mean(usable)
        ids, _ = vectors.nearest(query, n=N, exclude=seed, skip_borrowed=skip_borrowed)
        return list(ids)

    return rank


def foldin_ranker(als: AlsEmbedder, factors: Matrix, train: Interactions) -> Ranker:
    gram = factors.T.astype(np.float64) @ factors

    def rank(seed: Sequence[str]) -> list[str]:
        cols = [train.item_index(t) for t in seed]
        scores = factors @ als.fold_in(factors, cols, gram=gram)
        scores[cols] = -np.inf
        top = np.argpartition(-scores, N)[:N]
        top = top[np.argsort(-scores[top])]
        return [train.item_ids[i] for i in top.tolist()]

    return rank


def knn_ranker(train: Interactions, k: int, fallback: Ranker) -> Ranker:
    knn = ItemKnn(train, k=k)

    def rank(seed: Sequence[str]) -> list[str]:
        found: list[str] = list(knn.recommend(Query(seed=tuple(TrackId(t) for t in seed)), n=N)[0])
        # Items with no co-occurring neighbour carry no signal: popularity fills up.
        if len(found) < N:
            have = set(found)
            found += [t for t in fallback(seed) if t not in have][: N - len(found)]
        return found

    return rank


# --------------------------------------------------------------------------- scoring


@dataclass
class Row:
    model: str
    params: str
    recall10: float
    recall10_se: float  # standard error of the mean over the evaluated playlists
    recall50: float
    ndcg10: float
    fit_s: float
    n: int


def score(name: str, params: str, ranker: Ranker, cases: Cases, fit_s: float) -> Row:
    r10: list[float] = []
    r50 = nd = 0.0
    for case in cases.cases:
        ranked = ranker(case.seed)
        r10.append(recall_at_k(ranked, case.hidden, 10))
        r50 += recall_at_k(ranked, case.hidden, 50)
        nd += ndcg_at_k(ranked, case.hidden, 10)
    n = len(cases.cases)
    se = float(np.std(r10, ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    row = Row(name, params, sum(r10) / n, se, r50 / n, nd / n, fit_s, n)
    print(
        f"  {name:<28} {params:<40} R@10 {row.recall10:.4f}±{se:.4f}  R@50 {row.recall50:.4f}  "
        f"NDCG@10 {row.ndcg10:.4f}  fit {fit_s:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    return row


class _Clock:
    """``with _Clock() as clock: ...`` then ``clock.seconds``."""

    def __enter__(self) -> _Clock:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


_SHORT = {"factors": "f", "regularization": "reg", "alpha": "alpha", "iterations": "it"}


def _params(p: dict[str, Any]) -> str:
    """``f=64 reg=1.0 ...``, or ``defaults`` for an empty grid point."""
    return " ".join(f"{_SHORT.get(k, 'lr')}={v}" for k, v in p.items()) or "defaults"


# --------------------------------------------------------------------------- the run


@dataclass
class Report:
    data: str
    seed: int
    mode: str
    playlists: int
    train: int
    test: int
    validation: int
    train_items: int
    train_rows: int
    test_cases: int
    test_skipped: int
    validation_rows: list[Row]
    test_rows: list[Row]
    chosen: dict[str, dict[str, Any]]
    grid: bool
    machine: str
    when: str
    seconds: float


FAMILIES = ("als", "bpr", "knn")
# The models' own defaults were set from this script's validation grid (2026-11-22); K too.
DEFAULTS: dict[str, dict[str, Any]] = {"als": {}, "bpr": {}, "knn": {"K": 500}}


def _grid(
    train: Interactions, cases: Cases, pop: Ranker, *, families: Sequence[str], threads: int
) -> tuple[list[Row], dict[str, dict[str, Any]]]:
    """Score every grid point on validation; return the rows and the best params per family."""
    rows: list[Row] = []
    best: dict[str, tuple[float, dict[str, Any]]] = {}

    def keep(family: str, row: Row, params: dict[str, Any]) -> None:
        rows.append(row)
        if family not in best or row.recall10 > best[family][0]:
            best[family] = (row.recall10, params)

    for p in ALS_GRID if "als" in families else []:
        with _Clock() as clock:
            vectors = AlsEmbedder(**p, threads=threads).fit(train)
        row = score("ALS", _params(p), vector_ranker(vectors, pop), cases, clock.seconds)
        keep("als", row, p)
    for p in BPR_GRID if "bpr" in families else []:
        with _Clock() as clock:
            vectors = BprEmbedder(**p, threads=threads).fit(train)
        row = score("BPR", _params(p), vector_ranker(vectors, pop), cases, clock.seconds)
        keep("bpr", row, p)
    for k in KNN_GRID if "knn" in families else ():
        with _Clock() as clock:
            knn = knn_ranker(train, k, pop)
        keep("knn", score("item-item cosine", f"K={k}", knn, cases, clock.seconds), {"K": k})
    return rows, {family: params for family, (_r, params) in best.items()}


def _als_rows(
    train: Interactions,
    cases: Cases,
    pop: Ranker,
    params: dict[str, Any],
    track_artist: dict[str, str],
    threads: int,
) -> list[Row]:
    """ALS queried several ways: mean of seed vectors, fold-in, support floor, artist fallback."""
    als = AlsEmbedder(**params, threads=threads)
    with _Clock() as clock:
        factors = als.item_factors(train)
    s = clock.seconds
    vectors = ItemVectors.from_factors(
        train.item_ids, factors, train.item_support(), model=als.name
    )
    label = _params(params)
    rows = [
        score("ALS", label, vector_ranker(vectors, pop), cases, s),
        score("ALS, fold-in query", label, foldin_ranker(als, factors, train), cases, s),
    ]
    no_artists = artist_vectors(vectors, {})
    artists = artist_vectors(vectors, track_artist)
    for floor in (2, 3):
        # Without artist vectors, with_fallbacks simply drops the tracks below the floor.
        kept = with_fallbacks(vectors, no_artists, track_artist, min_support=floor)
        name = f"ALS, only tracks with support >= {floor}"
        rows.append(score(name, label, vector_ranker(kept, pop), cases, s))
        mixed = with_fallbacks(vectors, artists, track_artist, min_support=floor)
        name = f"ALS, artist vector below support {floor}"
        rows.append(score(name, label, vector_ranker(mixed, pop), cases, s))
        name = f"ALS, artist vector below support {floor}, as query only"
        ranker = vector_ranker(mixed, pop, skip_borrowed=True)
        rows.append(score(name, label, ranker, cases, s))
    return rows


def run(
    data: Path,
    *,
    seed: int = 7,
    holdout: float = 0.1,
    mode: str = "first",
    grid: bool = True,
    families: Sequence[str] = FAMILIES,
    max_files: int | None = None,
    threads: int = 0,
    params: dict[str, dict[str, Any]] | None = None,
) -> Report:
    """The whole evaluation; prints progress to stderr and returns the numbers.

    ``grid=False`` skips validation and scores each family with its defaults, or with
    ``params`` (per family, e.g. ``{"als": {"factors": 32}}``) where given.
    """
    started = time.perf_counter()
    corpus = load_mpd(data, max_files=max_files)
    train_pl, test_pl = split(corpus.playlists, fraction=holdout, seed=seed)
    inner_pl, val_pl = split(train_pl, fraction=holdout, seed=seed + 1)
    print(
        f"{len(corpus.playlists):,} playlists from {corpus.files} files: train {len(train_pl):,} "
        f"(inner {len(inner_pl):,} + validation {len(val_pl):,}), test {len(test_pl):,}",
        file=sys.stderr,
    )
    val_rows: list[Row] = []
    chosen = {**DEFAULTS, **(params or {})}
    if grid:
        inner = build_interactions(pairs_of(inner_pl))
        val_cases = make_cases(val_pl, inner.__contains__, mode=mode, seed=seed)
        print(f"validation: {len(val_cases.cases)} cases, {inner.n_items:,} items", file=sys.stderr)
        val_rows, best = _grid(
            inner, val_cases, popularity_ranker(inner), families=families, threads=threads
        )
        chosen.update(best)

    train = build_interactions(pairs_of(train_pl))
    cases = make_cases(test_pl, train.__contains__, mode=mode, seed=seed)
    print(f"test: {len(cases.cases)} cases, {train.n_items:,} items", file=sys.stderr)
    pop = popularity_ranker(train)
    rows = [score("popularity", "", pop, cases, 0.0)]
    if "knn" in families:
        k = chosen["knn"]["K"]
        with _Clock() as clock:
            knn = knn_ranker(train, k, pop)
        rows.append(score("item-item cosine", f"K={k}", knn, cases, clock.seconds))
    if "als" in families:
        rows += _als_rows(train, cases, pop, chosen["als"], corpus.track_artist, threads)
    if "bpr" in families:
        with _Clock() as clock:
            bpr_vectors = BprEmbedder(**chosen["bpr"], threads=threads).fit(train)
        bpr_ranker = vector_ranker(bpr_vectors, pop)
        rows.append(score("BPR", _params(chosen["bpr"]), bpr_ranker, cases, clock.seconds))
    return Report(
        data=str(data),
        seed=seed,
        mode=mode,
        playlists=len(corpus.playlists),
        train=len(train_pl),
        test=len(test_pl),
        validation=len(val_pl),
        train_items=train.n_items,
        train_rows=train.nnz,
        test_cases=len(cases.cases),
        test_skipped=cases.skipped,
        validation_rows=val_rows,
        test_rows=rows,
        chosen=chosen,
        grid=grid,
        machine=_machine(),
        when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds=time.perf_counter() - started,
    )


def _machine() -> str:
    import implicit

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, implicit {implicit.__version__}"
    )


def _table(rows: list[Row], baseline: Row | None) -> list[str]:
    lines = [
        "| model | params | recall@10 (± s.e.) | recall@50 | NDCG@10 | vs popularity (R@10) "
        "| fit s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = f"{r.recall10 / baseline.recall10:.2f}x" if baseline and baseline.recall10 else ""
        lines.append(
            f"| {r.model} | {r.params} | {r.recall10:.4f} ± {r.recall10_se:.4f} "
            f"| {r.recall50:.4f} | {r.ndcg10:.4f} "
            f"| {ratio} | {r.fit_s:.1f} |"
        )
    return lines


def markdown(report: Report) -> str:
    pop = next((r for r in report.test_rows if r.model == "popularity"), None)
    lines = [
        f"## Collaborative vectors on MPD playlists ({report.when})",
        "",
        f"Data: `{report.data}`, {report.playlists:,} playlists. Split seed {report.seed}: "
        f"train {report.train:,} playlists ({report.train_rows:,} rows, {report.train_items:,} "
        f"tracks), test {report.test:,}; {report.test_cases} test playlists evaluated "
        f"({report.test_skipped} skipped: no known seed or hidden track). Seed = "
        f"{'first half' if report.mode == 'first' else 'random half'} of each playlist, "
        "query = mean of the seed's vectors unless noted. "
        + (
            "Hyperparameters chosen by recall@10 on a validation split of train "
            f"({report.validation:,} playlists, seed {report.seed + 1})."
            if report.grid
            else "Default hyperparameters (no validation grid)."
        ),
        "",
        f"Machine: {report.machine}. Whole run {report.seconds:.0f} s.",
        "",
        "### Test",
        "",
        *_table(report.test_rows, pop),
        "",
    ]
    if report.validation_rows:
        lines += [
            "",
            "### Validation grid (chooses the test models)",
            "",
            *_table(report.validation_rows, None),
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of MPD slices")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--holdout", type=float, default=0.1)
    parser.add_argument("--seed-mode", choices=("first", "random"), default="first")
    parser.add_argument("--quick", action="store_true", help="default models only, no grid")
    parser.add_argument("--models", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--max-files", type=int, default=None, help="read only this many slices")
    parser.add_argument("--threads", type=int, default=0, help="fit threads (0: all cores)")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"no data folder at {args.data} (the MPD sample lives in ../shared/data/mpd)")
    report = run(
        args.data,
        seed=args.seed,
        holdout=args.holdout,
        mode=args.seed_mode,
        grid=not args.quick,
        families=args.models,
        max_files=args.max_files,
        threads=args.threads,
    )
    text = markdown(report)
    print(text)
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (OUT / f"eval-cf-{stamp}.md").write_text(text, encoding="utf-8")
    (OUT / f"eval-cf-{stamp}.json").write_text(
        json.dumps(report, default=lambda o: o.__dict__, indent=2), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
