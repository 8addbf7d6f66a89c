"""The model refresh on a real data home: how long it takes, and whether stations keep playing.

Copies a trained data home (never writes into it), adds real playlists to the copy, then
runs ``ModelRefresher`` in a thread exactly as the scheduled job does, while client threads
keep asking for the next batch of their stations through ``StationService`` (the path every
frontend takes). Every request is timed and tagged with the phase it started in: before the
refresh, during the rebuild, around the swap (±1 s of it), after. A failed request (any
exception) is counted, never retried.

The playlists come from the Million Playlist Dataset slices in ``--mpd``, restricted to
tracks the home's catalog has (the demo catalog has none of its own), so the refresh learns
real co-occurrence without the catalog growing.

    python benchmarks/bench_model_refresh.py --home /tmp/wl-demo --mpd ../shared/data/mpd
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MOODS = (
    "rainy sunday jazz for reading", "90s hip hop for the gym", "something to fall asleep to",
    "upbeat indie for a road trip", "sad songs for a breakup", "chill electronic for coding",
    "classic rock for cooking", "acoustic folk for a quiet evening", "party dance hits",
    "summer reggae by the beach", "motown for a dinner party", "country for a long drive",
)  # fmt: skip
AROUND_SWAP_S = 1.0


@dataclass(frozen=True, slots=True)
class Request:
    started: float
    seconds: float
    failed: str | None


def copy_home(source: Path, target: Path) -> None:
    """The data home, minus lock files (they belong to whoever holds the source open)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock", "*-shm", "*-wal"))


def add_mpd_playlists(engine: Any, mpd: Path, first: int, slices: int) -> tuple[int, int]:
    """Real playlists from ``slices`` MPD files after the ``first``, kept to the catalog's
    tracks; returns (playlists, items) added."""
    from sqlalchemy import select

    from storage import catalog
    from storage.models import TrackRow
    from storage.track_facts import SqlTrackCatalog
    from wavelength.domain import Playlist, PlaylistId, TrackId

    with engine.connect() as conn:
        known = set(conn.scalars(select(TrackRow.id)))
    facts = SqlTrackCatalog(engine)
    added = items = 0
    files = sorted(mpd.glob("mpd.slice.*.json"))[first : first + slices]
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        batch = []
        for p in data["playlists"]:
            uris = [t["track_uri"] for t in p["tracks"] if t["track_uri"] in known]
            uris = list(dict.fromkeys(uris))
            if len(uris) < 2:
                continue
            tracks = facts.tracks([TrackId(u) for u in uris])
            batch.append(
                Playlist(
                    id=PlaylistId(f"bench:{path.stem}:{p['pid']}"),
                    name=p.get("name") or "",
                    tracks=tuple(tracks[TrackId(u)] for u in uris if TrackId(u) in tracks),
                    description=p.get("description"),
                    num_followers=p.get("num_followers"),
                )
            )
        with engine.begin() as conn:
            added += catalog.insert_playlists(conn=conn, playlists=batch, known_tracks=known)
        items += sum(len(p.tracks) for p in batch)
    return added, items


def client(
    service: Any, user: Any, stop: threading.Event, think_s: float, out: list[Request]
) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        failed = None
        try:
            service.next(user)
        except Exception as exc:  # counted, not retried: this is what a listener would see
            failed = f"{type(exc).__name__}: {exc}"
        out.append(Request(start, time.perf_counter() - start, failed))
        stop.wait(think_s)


def _row(name: str, requests: list[Request]) -> str:
    ok = [r.seconds * 1000 for r in requests if r.failed is None]
    failed = sum(r.failed is not None for r in requests)
    if not ok:
        return f"| {name} | {len(requests)} | {failed} | - | - | - |"
    return (
        f"| {name} | {len(requests)} | {failed} | {np.percentile(ok, 50):.1f} "
        f"| {np.percentile(ok, 99):.1f} | {statistics.mean(ok):.1f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a trained data home (copied)")
    parser.add_argument("--mpd", type=Path, help="MPD slices to add playlists from")
    parser.add_argument("--slices", type=int, default=350, help="how many MPD slices")
    parser.add_argument("--first-slice", type=int, default=0, help="skip the slices before")
    parser.add_argument(
        "--work", type=Path, help="where the copy goes (default: a temp dir); reused if there"
    )
    parser.add_argument("--clients", type=int, default=2, help="listeners asking for batches")
    parser.add_argument("--think-ms", type=float, default=200.0, help="pause between requests")
    parser.add_argument("--before-s", type=float, default=20.0, help="load before the refresh")
    parser.add_argument("--after-s", type=float, default=20.0, help="load after the swap")
    parser.add_argument("--force", action="store_true", help="refresh even if not due")
    args = parser.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="wl-refresh-bench-"))
    home = work / "home"
    started_copy = time.perf_counter()
    reused = home.exists()  # a second round on the copy a first round refreshed
    if not reused:
        copy_home(args.home, home)
    copy_s = time.perf_counter() - started_copy
    os.environ["WAVELENGTH_DATA_HOME"] = str(home)

    from recommender.station import StationComposer
    from storage import catalog
    from storage.db import open_database
    from storage.names import SqlNameIndex
    from storage.track_facts import SqlTrackCatalog
    from vectorstore import CollectionName, VectorName
    from wavelength.app import freeze_startup_heap
    from wavelength.components import make_encoder, open_vector_store
    from wavelength.model_refresh import ModelRefresher, Outcome
    from wavelength.settings import Settings
    from wavelength.stations import StationService
    from wavelength.warmup import trained_key

    settings = Settings(data_home=home)
    engine = open_database(settings.database_url)
    source_key = f"vectors_trained:{(args.home / 'vectors').resolve()}"
    with engine.begin() as conn:  # the copy's vectors are trained as the source's were
        marked = catalog.get_meta(conn=conn, key=source_key)
        if marked is not None:
            catalog.set_meta(conn=conn, key=trained_key(settings), value=marked)
    added = (0, 0)
    if args.mpd is not None:
        added = add_mpd_playlists(engine, args.mpd, args.first_slice, args.slices)

    store = open_vector_store(settings)
    encoder = make_encoder(settings)
    composer = StationComposer(store=store, encoder=encoder, catalog=SqlTrackCatalog(engine))
    swapped_at: list[float] = []
    store.on_swap(lambda _g: (composer.refresh(), swapped_at.append(time.perf_counter())))
    service = StationService(
        engine=engine, composer=composer, names=SqlNameIndex.load(engine), rng=random.Random(7)
    )
    users = []
    for i in range(args.clients):
        user = service.user("bench", f"refresh-{os.getpid()}-{i}")
        service.create(user, MOODS[i % len(MOODS)])
        users.append(user)
    refresher = ModelRefresher(
        database=engine, live=store, encoder=encoder, settings=settings, worker="bench:1",
        echo=lambda line: print(f"  [{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr),
    )  # fmt: skip
    tracks_before = store.info(CollectionName.TRACKS)
    check = refresher.check(
        has_cf=tracks_before is not None and VectorName.CF in tracks_before.dims
    )
    freeze_startup_heap()

    requests: list[list[Request]] = [[] for _ in users]
    stop = threading.Event()
    threads = [
        threading.Thread(target=client, args=(service, u, stop, args.think_ms / 1000, out))
        for u, out in zip(users, requests, strict=True)
    ]
    for t in threads:
        t.start()
    time.sleep(args.before_s)
    refresh_start = time.perf_counter()
    result = refresher.run(force=args.force)
    refresh_end = time.perf_counter()
    time.sleep(args.after_s)
    stop.set()
    for t in threads:
        t.join()
    tracks = store.info(CollectionName.TRACKS)
    store.close()
    engine.dispose()

    everything = sorted((r for out in requests for r in out), key=lambda r: r.started)
    swap = swapped_at[0] if swapped_at else None
    before = [r for r in everything if r.started < refresh_start]
    during = [r for r in everything if refresh_start <= r.started < refresh_end]
    after = [r for r in everything if r.started >= refresh_end]
    around = [r for r in everything if swap is not None and abs(r.started - swap) <= AROUND_SWAP_S]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs; Python {platform.python_version()}."
    )
    print(
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Home: copy of {args.home} "
        f"({'reused from an earlier round' if reused else f'{copy_s:.0f} s to copy'})."
    )
    print(
        f"Catalog: {check.now.tracks:,} tracks, {check.now.playlists:,} playlists, "
        f"{check.now.playlist_items:,} playlist items ({added[0]:,} playlists / {added[1]:,} "
        f"items added from {args.mpd} for this run)."
    )
    print(f"Check before: {check.reason}.")
    print(f"Refresh: {result}")
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in refresher.report.seconds.items())
    print(f"Refresh wall time: {refresh_end - refresh_start:.1f} s ({stages}).")
    if tracks is not None:
        dims = ", ".join(f"{k.value}={v}" for k, v in sorted(tracks.dims.items()))
        print(f"Live generation {store.generation}: {tracks.points:,} track points ({dims}).")
    print(
        f"Load: {args.clients} listeners, each `next` then {args.think_ms:.0f} ms pause. Peak RSS {peak:,.0f} MB.\n"
    )
    print("| phase | requests | failed | p50 ms | p99 ms | mean ms |")
    print("|---|--:|--:|--:|--:|--:|")
    print(_row("before the refresh", before))
    print(_row("during the rebuild", during))
    print(_row(f"within {AROUND_SWAP_S:.0f} s of the swap", around))
    print(_row("after the swap", after))
    print(_row("all", everything))
    failures = [r.failed for r in everything if r.failed]
    if failures:
        print(f"\nFirst failure: {failures[0]}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    elif not reused:
        print(f"\n(The copy stays in {home} for another round.)")
    return 0 if result.outcome is Outcome.SWAPPED and not failures else 1


if __name__ == "__main__":
    raise SystemExit(main())
