"""``wavelength eval-sort``: the liked-songs sorter on piles built from real playlists.

A test user's pile is the union of 2-5 real playlists whose titles are clearly different (no
shared word other than a few stop words) and whose tracks barely overlap (at most
``max_overlap`` of the smaller one); each song's label is the playlist it came from, and songs
in several of them are dropped. One more such playlist is the distractor: its songs belong to
no list, and the incomplete sorts should leave them in the void. ALS is fitted in memory on
every playlist not used in a pile; songs with no vector (neither their own nor their artist's)
are dropped.

The sorter gets k labelled songs per list (k = 3, 5, 10), drawn at random or chosen by active
labelling (one random example per list, then ``propose_to_label`` one song per list per round
until the same budget), and every method is scored in the same run as the nearest-centroid
baseline, on the songs it was not told about.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recommender.sorter import Method, Pile, SortOptions, propose_to_label, sort_pile
from wavelength.domain import Playlist, TrackId
from wavelength.evaluation import data
from wavelength.evaluation.measure import Measured, Paired
from wavelength.evaluation.report import machine
from wavelength.evaluation.space import Space, fit_space

if TYPE_CHECKING:
    from recommender.cf import ItemEmbedder

Echo = Callable[[str], None]
STOP_WORDS = frozenset({"the", "a", "an", "and", "of", "my", "for", "to", "in", "on", "n", "s"})
MODES = ("random", "active")


@dataclass(frozen=True, slots=True)
class SortEvalOptions:
    playlists: Path
    seed: int
    users: int = 150
    ks: tuple[int, ...] = (3, 5, 10)
    methods: tuple[Method, ...] = (Method.CENTROID, Method.LOGISTIC, Method.SPREAD)
    max_files: int | None = None
    min_songs: int = 25  # distinct tracks a playlist needs to be a list
    max_songs: int = 200
    max_overlap: float = 0.1


@dataclass(frozen=True, slots=True)
class TestUser:
    titles: tuple[str, ...]  # the lists', then the distractor's
    lists: tuple[tuple[TrackId, ...], ...]
    distractor: tuple[TrackId, ...]


@dataclass(frozen=True, slots=True)
class Row:
    """One method at one k and labelling mode; means over users."""

    method: str
    k: int
    mode: str
    accuracy: Measured  # mutual, complete
    macro_f1: Measured  # non-mutual, complete
    void_precision: Measured  # mutual, incomplete (users whose void is not empty)
    void_recall: Measured
    placed_accuracy: Measured  # mutual, incomplete: of the list songs it placed
    f1_incomplete: Measured  # non-mutual, incomplete, distractor songs count as wrong
    versus_baseline: Paired | None  # accuracy minus the centroid's, same labels


@dataclass(frozen=True, slots=True)
class SortEvalReport:
    data: str
    seed: int
    playlists: int
    candidates: int
    users: int
    lists: dict[int, int]  # lists per pile -> users
    pile_songs: float  # mean songs per pile (lists only)
    distractor_songs: float
    dropped_no_vector: int
    als_playlists: int
    cf_model: str
    machine: str
    date: str
    seconds: dict[str, float]
    sort_ms: dict[str, float]  # median time of one sort (fit, calibration, split) per method
    rows: tuple[Row, ...] = field(default=())


def title_words(name: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9]+", name.lower())) - STOP_WORDS


def clearly_different(a: Playlist, b: Playlist, *, max_overlap: float) -> bool:
    """No shared title word and at most ``max_overlap`` of the smaller one's tracks shared."""
    if title_words(a.name) & title_words(b.name):
        return False
    ta, tb = set(data.distinct(a)), set(data.distinct(b))
    return len(ta & tb) <= max_overlap * min(len(ta), len(tb))


def build_users(
    playlists: Sequence[Playlist], options: SortEvalOptions
) -> tuple[list[list[Playlist]], int]:
    """Groups of 3-6 clearly different playlists (2-5 lists and a distractor), seeded."""
    rng = random.Random(options.seed)
    pool = [
        p
        for p in playlists
        if options.min_songs <= len(data.distinct(p)) <= options.max_songs and title_words(p.name)
    ]
    candidates = len(pool)
    rng.shuffle(pool)
    used: set[int] = set()
    groups: list[list[Playlist]] = []
    for start in range(len(pool)):
        if len(groups) == options.users:
            break
        if start in used:
            continue
        want = rng.randint(2, 5) + 1
        chosen = [start]
        for i in range(start + 1, len(pool)):
            if i in used:
                continue
            if all(
                clearly_different(pool[i], pool[c], max_overlap=options.max_overlap) for c in chosen
            ):
                chosen.append(i)
                if len(chosen) == want:
                    break
        if len(chosen) == want:
            used.update(chosen)
            groups.append([pool[i] for i in chosen])
    return groups, candidates


def to_user(group: list[Playlist], space: Space) -> tuple[TestUser, int]:
    """Labels by playlist, songs in several dropped, songs without a vector dropped."""
    count: dict[TrackId, int] = {}
    for p in group:
        for t in data.distinct(p):
            count[t] = count.get(t, 0) + 1
    dropped = 0
    kept: list[tuple[TrackId, ...]] = []
    for p in group:
        songs = [t for t in data.distinct(p) if count[t] == 1]
        with_vector = [t for t in songs if space.own(t) is not None or _artist(space, t, p)]
        dropped += len(songs) - len(with_vector)
        kept.append(tuple(with_vector))
    return TestUser(tuple(p.name for p in group), tuple(kept[:-1]), kept[-1]), dropped


def _artist(space: Space, track: TrackId, p: Playlist) -> bool:
    artist = next(t.artist.id for t in p.tracks if t.id == track)
    return artist in space.artists


def evaluate_sort(
    options: SortEvalOptions, *, embedder: ItemEmbedder, echo: Echo
) -> SortEvalReport:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    corpus = data.load_mpd(options.playlists, max_files=options.max_files)
    groups, candidates = build_users(corpus.playlists, options)
    if not groups:
        raise data.DataError("no group of clearly different playlists could be built")
    in_piles = {p.id for g in groups for p in g}
    train = [p for p in corpus.playlists if p.id not in in_piles]
    seconds["load"] = time.perf_counter() - started
    echo(f"{len(groups)} test users from {candidates:,} candidate playlists; ALS on {len(train):,}")
    started = time.perf_counter()
    space = fit_space(train, embedder)
    seconds["als"] = time.perf_counter() - started
    artist_of = {t.id: t.artist.id for g in groups for p in g for t in p.tracks}
    users: list[TestUser] = []
    dropped = 0
    for g in groups:
        user, lost = to_user(g, space)
        dropped += lost
        if min(len(s) for s in user.lists) >= max(options.ks) + 5:
            users.append(user)
    echo(f"{len(users)} users with {max(options.ks) + 5}+ songs with vectors in every list")
    started = time.perf_counter()
    scores: dict[tuple[str, int, str], dict[str, list[float]]] = {}
    timings: dict[str, list[float]] = {m.value: [] for m in options.methods}
    for u, user in enumerate(users):
        songs = [t for s in user.lists for t in s] + list(user.distractor)
        x, _ = space.matrix(songs, [artist_of[t] for t in songs])
        truth = np.asarray(
            [j for j, s in enumerate(user.lists) for _ in s] + [-1] * len(user.distractor)
        )
        _score_user(u, x, truth, options, scores, timings)
    seconds["sort"] = time.perf_counter() - started
    rows = _rows(scores, options)
    lists: dict[int, int] = {}
    for user in users:
        lists[len(user.lists)] = lists.get(len(user.lists), 0) + 1
    return SortEvalReport(
        data=str(options.playlists),
        seed=options.seed,
        playlists=len(corpus.playlists),
        candidates=candidates,
        users=len(users),
        lists=dict(sorted(lists.items())),
        pile_songs=statistics.fmean(sum(len(s) for s in u.lists) for u in users) if users else 0.0,
        distractor_songs=statistics.fmean(len(u.distractor) for u in users) if users else 0.0,
        dropped_no_vector=dropped,
        als_playlists=len(train),
        cf_model=embedder.name,
        machine=machine(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds={k: round(v, 1) for k, v in seconds.items()},
        sort_ms={m: round(statistics.median(v) * 1000, 1) for m, v in timings.items() if v},
        rows=tuple(rows),
    )


def _score_user(
    u: int,
    x: np.ndarray,
    truth: np.ndarray,
    options: SortEvalOptions,
    scores: dict[tuple[str, int, str], dict[str, list[float]]],
    timings: dict[str, list[float]],
) -> None:
    lists = int(truth.max()) + 1
    main = int((truth >= 0).sum())
    pile = Pile.of(x[:main])
    with_void = Pile.of(x)
    for k in options.ks:
        rng = random.Random(f"{options.seed}/{u}/{k}")
        by_list = [np.flatnonzero(truth[:main] == j).tolist() for j in range(lists)]
        drawn = [(r, j) for j in range(lists) for r in rng.sample(by_list[j], k)]
        first = [(r, j) for j in range(lists) for r in rng.sample(by_list[j], 1)]
        for method in options.methods:
            out = scores.setdefault((method.value, k, "random"), {})
            started = time.perf_counter()
            s = sort_pile(pile, drawn, lists=lists, method=method)
            timings[method.value].append(time.perf_counter() - started)
            _complete(out, s, truth[:main], drawn)
            s = sort_pile(
                pile, drawn, lists=lists, method=method, options=SortOptions(mutual=False)
            )
            out.setdefault("macro_f1", []).append(_macro_f1(s, truth[:main], drawn, lists))
            s = sort_pile(
                with_void, drawn, lists=lists, method=method, options=SortOptions(complete=False)
            )
            _incomplete(out, s, truth, drawn)
            s = sort_pile(
                with_void,
                drawn,
                lists=lists,
                method=method,
                options=SortOptions(mutual=False, complete=False),
            )
            out.setdefault("f1_incomplete", []).append(_macro_f1(s, truth, drawn, lists))
            active = _active(pile, first, truth[:main], lists, k, method)
            s = sort_pile(pile, active, lists=lists, method=method)
            _complete(scores.setdefault((method.value, k, "active"), {}), s, truth[:main], active)


def _active(
    pile: Pile, first: list[tuple[int, int]], truth: np.ndarray, lists: int, k: int, method: Method
) -> list[tuple[int, int]]:
    labels = list(first)
    while len(labels) < lists * k:
        s = sort_pile(pile, labels, lists=lists, method=method)
        want = min(lists, lists * k - len(labels))
        picks = propose_to_label(pile, s, [r for r, _ in labels], n=want)
        if not picks:
            break
        labels += [(r, int(truth[r])) for r in picks]  # the user answers truthfully
    return labels


def _complete(out: dict[str, list[float]], s, truth: np.ndarray, labels) -> None:  # type: ignore[no-untyped-def]
    told = {r for r, _ in labels}
    rows = [p for p in s.placements if p.row not in told]
    out.setdefault("accuracy", []).append(
        statistics.fmean(p.lists[0] == truth[p.row] for p in rows)
    )


def _incomplete(out: dict[str, list[float]], s, truth: np.ndarray, labels) -> None:  # type: ignore[no-untyped-def]
    told = {r for r, _ in labels}
    rows = [p for p in s.placements if p.row not in told]
    void = [p.row for p in rows if not p.lists]
    outsiders = int((truth < 0).sum())
    caught = sum(truth[r] < 0 for r in void)
    if void:
        out.setdefault("void_precision", []).append(caught / len(void))
    out.setdefault("void_recall", []).append(caught / outsiders if outsiders else 0.0)
    placed = [p for p in rows if p.lists and truth[p.row] >= 0]
    if placed:
        out.setdefault("placed_accuracy", []).append(
            statistics.fmean(p.lists[0] == truth[p.row] for p in placed)
        )


def _macro_f1(s, truth: np.ndarray, labels, lists: int) -> float:  # type: ignore[no-untyped-def]
    told = {r for r, _ in labels}
    rows = [p for p in s.placements if p.row not in told]
    f1 = []
    for j in range(lists):
        tp = sum(j in p.lists and truth[p.row] == j for p in rows)
        predicted = sum(j in p.lists for p in rows)
        actual = sum(truth[p.row] == j for p in rows)
        f1.append(2 * tp / (predicted + actual) if predicted + actual else 0.0)
    return statistics.fmean(f1)


def _rows(
    scores: dict[tuple[str, int, str], dict[str, list[float]]], options: SortEvalOptions
) -> list[Row]:
    rows = []
    base = Method.CENTROID.value
    for k in options.ks:
        for mode in MODES:
            for method in options.methods:
                got = scores.get((method.value, k, mode), {})
                if not got:
                    continue
                baseline = scores.get((base, k, "random"), {}).get("accuracy", [])
                paired = (
                    Paired.of(f"{method.value}/{mode}", f"{base}/random", got["accuracy"], baseline)
                    if (method.value, mode) != (base, "random") and baseline
                    else None
                )
                rows.append(
                    Row(
                        method=method.value,
                        k=k,
                        mode=mode,
                        accuracy=Measured.of(method.value, got["accuracy"]),
                        macro_f1=Measured.of(method.value, got.get("macro_f1", [])),
                        void_precision=Measured.of(method.value, got.get("void_precision", [])),
                        void_recall=Measured.of(method.value, got.get("void_recall", [])),
                        placed_accuracy=Measured.of(method.value, got.get("placed_accuracy", [])),
                        f1_incomplete=Measured.of(method.value, got.get("f1_incomplete", [])),
                        versus_baseline=paired,
                    )
                )
    return rows


def markdown(report: SortEvalReport) -> str:
    r = report
    lists = ", ".join(f"{n} lists: {c}" for n, c in r.lists.items())
    lines = [
        f"## Liked-songs sorter evaluation ({r.date}, seed {r.seed})",
        "",
        f"Playlists: `{r.data}` ({r.playlists:,}; {r.candidates:,} with a usable size and title). "
        f"{r.users} test users ({lists}); a pile holds {r.pile_songs:.0f} list songs on average "
        f"plus {r.distractor_songs:.0f} distractor songs (incomplete sorts only); "
        f"{r.dropped_no_vector:,} songs without any vector dropped. Collaborative space: "
        f"{r.cf_model}, fitted in memory on the {r.als_playlists:,} playlists in no pile.",
        "",
        f"Machine: {r.machine}. Time: "
        + ", ".join(f"{k} {v:,.0f} s" for k, v in r.seconds.items())
        + "; one sort (fit + calibration + split), median: "
        + ", ".join(f"{m} {v:.1f} ms" for m, v in r.sort_ms.items())
        + ". ± is one standard error over users.",
        "",
        "| method | k | labels | accuracy (mutual, complete) | vs centroid/random | macro F1 "
        "(non-mutual) | void precision | void recall | placed accuracy | F1 (non-mutual, "
        "incomplete) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in r.rows:
        vs = (
            f"{row.versus_baseline.diff:+.3f} ± {row.versus_baseline.se:.3f} "
            f"({row.versus_baseline.wins}/{row.versus_baseline.ties}/{row.versus_baseline.losses})"
            if row.versus_baseline
            else ""
        )
        rest = (
            f"{row.macro_f1.mean:.3f} | {row.void_precision.mean:.3f} | "
            f"{row.void_recall.mean:.3f} | {row.placed_accuracy.mean:.3f} | "
            f"{row.f1_incomplete.mean:.3f}"
            if row.mode == "random"
            else " | ".join([""] * 5)
        )
        lines.append(
            f"| {row.method} | {row.k} | {row.mode} | {row.accuracy.mean:.3f} ± "
            f"{row.accuracy.se:.3f} | {vs} | {rest} |"
        )
    return "\n".join(lines) + "\n"
