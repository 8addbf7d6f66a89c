"""Does reusing a station's last search (``RecentSearches``) cost quality? The same held-out
MPD playlists, the same trained workspace, two engines in one run: every search fresh (the
baseline) against reuse while the query has barely moved (the default).

Reports the learning curve (simulated listeners reacting to 10 batches, as ``wavelength
eval``), continuation R-precision (the ranking with 5 liked seeds) and the stations' search
counts and time. Needs a workspace that ``wavelength eval --workdir`` trained with the same
data options:

    python benchmarks/eval_search_reuse.py --playlists ../shared/data/mpd --holdout-seed 7 \\
        --test-size 200 --max-files 300 --workdir /tmp/wl-eval
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recommender.station import StationComposer
from recommender.station.sources import REUSE_COSINE, REUSE_MAX, Reuse, default_sources
from vectorstore.base import CollectionName
from vectorstore.edge import EdgeStore
from wavelength.components import make_encoder
from wavelength.evaluation import continuation, data, learning
from wavelength.evaluation.continuation import SeedMode
from wavelength.evaluation.rankers import StationRanker
from wavelength.evaluation.run import artist_lookup
from wavelength.evaluation.scoring import score
from wavelength.evaluation.workspace import _open
from wavelength.settings import Settings


class CountingStore:
    """The workspace's store, counting track searches and their seconds."""

    def __init__(self, inner: EdgeStore) -> None:
        self._inner = inner
        self.searches = 0
        self.seconds = 0.0

    def search(self, name: CollectionName, **kw: object) -> object:
        start = time.perf_counter()
        try:
            return self._inner.search(name, **kw)  # type: ignore[arg-type]
        finally:
            if name is CollectionName.TRACKS:
                self.searches += 1
                self.seconds += time.perf_counter() - start

    def __getattr__(self, attr: str) -> object:
        return getattr(self._inner, attr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--playlists", type=Path, required=True)
    parser.add_argument("--holdout-seed", type=int, required=True)
    parser.add_argument("--test-size", type=int, default=500)
    parser.add_argument("--max-files", type=int, default=None)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument(
        "--reuse",
        action="append",
        metavar="COSINE:USES",
        help="a reuse setting to compare with fresh searches (repeatable; default: the "
        f"engine's, {REUSE_COSINE}:{REUSE_MAX})",
    )
    args = parser.parse_args()
    try:
        settings = [Reuse(float(c), int(u)) for c, u in (r.split(":") for r in args.reuse or [])]
    except ValueError as exc:
        parser.error(f"--reuse takes COSINE:USES, like 0.99:8 ({exc})")
    settings = settings or [Reuse()]
    if not (args.workdir / "vectors").is_dir():
        parser.error(f"{args.workdir} holds no trained workspace: run `wavelength eval` first")
    corpus = data.load_mpd(args.playlists, max_files=args.max_files)
    parts = data.split(corpus.playlists, test_size=args.test_size, seed=args.holdout_seed)
    space = _open(args.workdir, reused=True)
    encoder = make_encoder(Settings())
    artists = artist_lookup(corpus.artist_of, space.catalog)
    cases = continuation.continuation_cases(parts.test, SeedMode.FIRST)
    rows = []
    try:
        engines = [("fresh searches (baseline)", None)] + [
            (f"reuse {r.cosine:g}:{r.max_uses}" + (" (default)" if r == Reuse() else ""), r)
            for r in settings
        ]
        for label, reuse in engines:
            store = CountingStore(space.store)
            composer = StationComposer(
                store=store,  # type: ignore[arg-type]
                encoder=encoder,
                catalog=space.catalog,
                sources=default_sources(reuse=reuse),
            )
            started = time.perf_counter()
            curve, _ = learning.learning_curves(
                composer, parts.test, batches=args.batches, seed=args.holdout_seed
            )
            learn_s = time.perf_counter() - started
            learn_searches, learn_search_s = store.searches, store.seconds
            cont = score(label, StationRanker(composer), cases, k=100, artists=artists)
            rows.append((label, curve, cont, learn_s, learn_searches, learn_search_s))
    finally:
        space.close()
    n = len(parts.test)
    print(f"\n{n} held-out playlists (seed {args.holdout_seed}), {args.batches} batches of 5")
    print("\nlearning curve, artist hits per batch (exact tracks in brackets)")
    print("batch  " + "  ".join(f"{label:>26}" for label, *_ in rows))
    for b in range(args.batches):
        cells = [f"{c.artist_hits[b]:.3f} ({c.track_hits[b]:.3f})" for _, c, *_ in rows]
        print(f"{b + 1:>5}  " + "  ".join(f"{x:>26}" for x in cells))
    print("mean   " + "  ".join(
        f"{sum(c.artist_hits) / len(c.artist_hits):>26.4f}" for _, c, *_ in rows))  # fmt: skip
    print(f"\n{'engine':<28}{'R-prec':>8}{'± se':>8}{'learn s':>9}{'searches':>10}{'search s':>10}")
    for label, _, cont, learn_s, searches, search_s in rows:
        print(
            f"{label:<28}{cont.r_precision:>8.4f}{cont.r_precision_se:>8.4f}"
            f"{learn_s:>9.1f}{searches:>10,}{search_s:>10.1f}"
        )


if __name__ == "__main__":
    main()
