"""Ingest benchmark: MPD-shaped playlists into SQLite and PostgreSQL.

Each case runs in its own subprocess, so peak RSS (ru_maxrss) and the parser caches are per
case. Cases:

* ``baseline``            parse only: ``ingest.mpd.read_playlists`` over every slice, no database
* ``sqlite``              ``ingest_playlists`` into a fresh, migrated SQLite file
* ``postgresql``          the same into a fresh, migrated PostgreSQL database
* ``sqlite re-ingest``    the same corpus again into the filled SQLite file (must add nothing)

The corpus comes from ``make_mpd_corpus.py`` and is generated on first use. Results are
printed as Markdown and saved under ``benchmarks/out/``.

    python benchmarks/bench_ingest.py --quick          # 5000 playlists, a smoke run
    python benchmarks/bench_ingest.py                  # 100000 playlists
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import resource
import secrets
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
GENERATOR = HERE / "make_mpd_corpus.py"
MANIFEST = "corpus.manifest"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MPD_TRACK_ROWS = 66_346_428  # track rows in the full 1M-playlist MPD
MPD_PLAYLISTS = 1_000_000
QUICK_PLAYLISTS = 5000
RESULT_MARK = "BENCH-RESULT "


# --------------------------------------------------------------------------- worker side


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _worker_baseline(corpus: Path) -> dict[str, Any]:
    from ingest.files import expand_paths
    from ingest.mpd import read_playlists
    from ingest.pipeline import PLAYLIST_SUFFIXES
    from ingest.problems import ProblemLog

    problems = ProblemLog()
    cpu0 = _cpu_seconds()
    started = time.perf_counter()
    playlists = rows = 0
    for path in expand_paths([corpus], PLAYLIST_SUFFIXES, problems):
        for playlist in read_playlists(path, problems):
            playlists += 1
            rows += len(playlist.tracks)
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "cpu_s": _cpu_seconds() - cpu0,
        "playlists": playlists,
        "rows": rows,
        "added": None,
        "problems": problems.total,
        "batch_seconds": [],
        "counts": None,
    }


def _worker_ingest(corpus: Path, url: str, batch_size: int) -> dict[str, Any]:
    from ingest.pipeline import ingest_playlists
    from ingest.problems import ProblemLog
    from storage.catalog import count_catalog
    from storage.db import open_database

    engine = open_database(url)  # migrates a fresh database; a filled one is left as is
    problems = ProblemLog()
    cpu0 = _cpu_seconds()
    started = time.perf_counter()
    report = ingest_playlists(
        engine, [corpus], problems=problems, batch_size=batch_size, progress=False
    )
    wall = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu0
    with engine.connect() as conn:
        counts = count_catalog(conn=conn)
    engine.dispose()
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "playlists": report.read,
        "rows": report.rows,
        "added": report.added,
        "problems": problems.total,
        "batch_seconds": list(report.batch_seconds),
        "counts": {
            "tracks": counts.tracks,
            "artists": counts.artists,
            "albums": counts.albums,
            "playlists": counts.playlists,
            "playlist_items": counts.playlist_items,
        },
    }


def worker(case: str, corpus: Path, url: str | None, batch_size: int) -> None:
    """Run one case in this (fresh) process and print its result as one JSON line."""
    if case == "baseline":
        result = _worker_baseline(corpus)
    else:
        assert url is not None
        result = _worker_ingest(corpus, url, batch_size)
    batches = result.pop("batch_seconds")
    wall = result["wall_s"]
    tenth = max(1, len(batches) // 10)
    result.update(
        {
            "case": case,
            "playlists_per_s": result["playlists"] / wall if wall > 0 else 0.0,
            "rows_per_s": result["rows"] / wall if wall > 0 else 0.0,
            "batches": len(batches),
            "batch_p50_ms": _ms(_percentile(batches, 50)),
            "batch_p99_ms": _ms(_percentile(batches, 99)),
            "batch_max_ms": _ms(max(batches) if batches else None),
            "batch_p50_first_tenth_ms": _ms(_percentile(batches[:tenth], 50)),
            "batch_p50_last_tenth_ms": _ms(_percentile(batches[-tenth:], 50)),
            "batch_total_s": sum(batches),
            "peak_rss_mb": _peak_rss_mb(),
        }
    )
    print(RESULT_MARK + json.dumps(result), flush=True)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


# --------------------------------------------------------------------------- parent side


def run_case(
    case: str, corpus: Path, url: str | None, batch_size: int, timeout: float
) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        case,
        "--corpus",
        str(corpus),
        "--batch-size",
        str(batch_size),
    ]
    if url:
        command += ["--worker-url", url]
    print(f"-- {case}: running ...", file=sys.stderr, flush=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"case {case!r} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_MARK))
    print(
        f"-- {case}: {result['wall_s']:.1f} s, {result['rows_per_s']:,.0f} rows/s, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB",
        file=sys.stderr,
        flush=True,
    )
    return result


def ensure_corpus(corpus: Path, playlists: int, seed: int) -> dict[str, Any]:
    manifest_path = corpus / MANIFEST
    if manifest_path.is_file():
        manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("playlists") == playlists:
            return manifest
        raise SystemExit(
            f"{corpus} holds {manifest.get('playlists')} playlists, not {playlists}; "
            "pass --playlists to match or another --corpus"
        )
    if corpus.exists() and any(corpus.iterdir()):
        print(f"{corpus} has no {MANIFEST} (incomplete?); regenerating", file=sys.stderr)
    subprocess.run(
        [
            sys.executable,
            str(GENERATOR),
            "--playlists",
            str(playlists),
            "--out",
            str(corpus),
            "--seed",
            str(seed),
        ],
        check=True,
    )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return manifest


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def _pg_admin() -> Any:
    from sqlalchemy import create_engine

    return create_engine(
        PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )


def _pg_version() -> str | None:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    try:
        engine = _pg_admin()
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
        engine.dispose()
    except OperationalError:
        return None
    return str(version)


def machine_facts() -> dict[str, Any]:
    ram = _ram_gb()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(ram, 1) if ram else None,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _pg_version(),
        "platform": platform.platform(),
    }


def _fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def markdown(
    facts: dict[str, Any], manifest: dict[str, Any], results: list[dict[str, Any]], batch: int
) -> str:
    baseline = next((r for r in results if r["case"] == "baseline"), None)
    lines = [
        f"Machine: {facts['cpu']}, {facts['cores']} cores, {_fmt(facts['ram_gb'], 1)} GB RAM; "
        f"Python {facts['python']}, SQLite {facts['sqlite']}, "
        f"PostgreSQL {facts['postgresql'] or 'not reachable'}; {facts['platform']}.",
        f"Date: {facts['date']}.",
        f"Corpus: {manifest['playlists']:,} playlists, {manifest['track_rows']:,} track rows, "
        f"{manifest['unique_tracks']:,} distinct tracks, {manifest['unique_artists']:,} artists, "
        f"{manifest['unique_albums']:,} albums, {manifest['bytes'] / 1e9:.2f} GB in "
        f"{manifest['slices']} slices (seed {manifest['seed']}); batch size {batch}.",
        "",
        "| case | playlists | track rows | wall s | playlists/s | rows/s | batch p50 ms "
        "| batch p99 ms | peak RSS MB | ratio vs baseline |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        ratio = r["rows_per_s"] / baseline["rows_per_s"] if baseline else None
        lines.append(
            f"| {r['case']} | {r['playlists']:,} | {r['rows']:,} | {r['wall_s']:.1f} "
            f"| {r['playlists_per_s']:,.0f} | {r['rows_per_s']:,.0f} | {_fmt(r['batch_p50_ms'])} "
            f"| {_fmt(r['batch_p99_ms'])} | {r['peak_rss_mb']:,.0f} | {_fmt(ratio, 2)} |"
        )
    lines.append("")
    for r in results:
        if r["case"] in ("sqlite", "postgresql"):
            hours = MPD_TRACK_ROWS / r["rows_per_s"] / 3600
            lines.append(
                f"Estimate for the full MPD (1M playlists, {MPD_TRACK_ROWS / 1e6:.1f}M track rows) "
                f"into {r['case']} at the measured {r['rows_per_s']:,.0f} rows/s: "
                f"{hours:.1f} h ({hours * 60:.0f} min), linear extrapolation."
            )
    lines += [
        "",
        "| case | CPU s (worker) | batches | batch p50 first 10% ms | batch p50 last 10% ms "
        "| batch max ms | new playlists | problems |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        lines.append(
            f"| {r['case']} | {r['cpu_s']:.1f} | {r['batches']:,} "
            f"| {_fmt(r['batch_p50_first_tenth_ms'])} | {_fmt(r['batch_p50_last_tenth_ms'])} "
            f"| {_fmt(r['batch_max_ms'])} | {_fmt(r['added'])} | {r['problems']} |"
        )
    return "\n".join(lines)


def verify(manifest: dict[str, Any], results: list[dict[str, Any]]) -> list[str]:
    """Checks that counts after ingest match the corpus; returns failure messages."""
    expected = {
        "playlists": manifest["playlists"],
        "playlist_items": manifest["track_rows"],
        "tracks": manifest["unique_tracks"],
        "artists": manifest["unique_artists"],
        "albums": manifest["unique_albums"],
    }
    failures = []
    for r in results:
        if r["playlists"] != manifest["playlists"] or r["rows"] != manifest["track_rows"]:
            failures.append(
                f"{r['case']}: read {r['playlists']} playlists / {r['rows']} rows, "
                f"corpus has {manifest['playlists']} / {manifest['track_rows']}"
            )
        if r["problems"]:
            failures.append(f"{r['case']}: {r['problems']} problem(s) reported")
        if r["counts"] is not None:
            for key, want in expected.items():
                if r["counts"][key] != want:
                    failures.append(f"{r['case']}: {key} = {r['counts'][key]:,}, expected {want:,}")
        if r["added"] is None:
            continue
        want_added = 0 if r["case"].endswith("re-ingest") else manifest["playlists"]
        if r["added"] != want_added:
            failures.append(f"{r['case']}: added {r['added']:,} playlists, expected {want_added:,}")
    return failures


def _report(
    facts: dict[str, Any], manifest: dict[str, Any], results: list[dict[str, Any]], batch: int
) -> tuple[str, list[str]]:
    failures = verify(manifest, results)
    checks = (
        "Checks: FAILED\n" + "\n".join(f"- {f}" for f in failures)
        if failures
        else "Checks: OK (playlists, playlist items, tracks, artists and albums match the corpus; "
        "every ingest added all playlists, re-ingest added 0; no problems reported)."
    )
    return markdown(facts, manifest, results, batch) + "\n\n" + checks, failures


def main(argv: list[str] | None = None) -> int:
    from ingest.pipeline import ingest_playlists

    default_batch = inspect.signature(ingest_playlists).parameters["batch_size"].default
    parser = argparse.ArgumentParser(
        description="Benchmark MPD playlist ingestion (parse-only baseline, SQLite, PostgreSQL, "
        "SQLite re-ingest). Each case runs in its own subprocess; prints a Markdown table."
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        help="MPD-shaped folder (default: benchmarks/out/corpus-<N>, generated if missing)",
    )
    parser.add_argument(
        "--playlists", type=int, default=100_000, help="corpus size (default: 100000)"
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run on {QUICK_PLAYLISTS} playlists"
    )
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated backends to measure (default: sqlite,postgresql)",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the parse-only baseline case"
    )
    parser.add_argument("--no-reingest", action="store_true", help="skip the SQLite re-ingest case")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=default_batch,
        help=f"playlists per transaction (default: {default_batch}, the pipeline's default)",
    )
    parser.add_argument("--seed", type=int, default=7, help="corpus seed (default: 7)")
    parser.add_argument(
        "--timeout", type=float, default=4 * 3600, help="seconds allowed per case (default: 14400)"
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="re-print the report of a saved benchmarks/out/ingest-*.json and re-run its checks",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        worker(args.worker, args.corpus, args.worker_url, args.batch_size)
        return 0
    if args.render:
        saved = json.loads(args.render.read_text(encoding="utf-8"))
        report = _report(saved["machine"], saved["corpus"], saved["results"], saved["batch_size"])
        print(report[0])
        return 1 if report[1] else 0

    playlists = QUICK_PLAYLISTS if args.quick else args.playlists
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    corpus = (args.corpus or OUT / f"corpus-{playlists}").resolve()
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = ensure_corpus(corpus, playlists, args.seed)
    facts = machine_facts()
    print(f"corpus {corpus}: {json.dumps(manifest)}", file=sys.stderr)

    results: list[dict[str, Any]] = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    if not args.no_baseline:
        results.append(run_case("baseline", corpus, None, args.batch_size, args.timeout))
    sqlite_file = OUT / f"bench-{stamp}-{secrets.token_hex(3)}.db"
    try:
        if "sqlite" in backends:
            url = f"sqlite:///{sqlite_file}"
            results.append(run_case("sqlite", corpus, url, args.batch_size, args.timeout))
            if not args.no_reingest:
                results.append(
                    run_case("sqlite re-ingest", corpus, url, args.batch_size, args.timeout)
                )
        if "postgresql" in backends:
            if facts["postgresql"] is None:
                print("-- postgresql: server not reachable, case skipped", file=sys.stderr)
            else:
                results.append(_run_postgresql(corpus, args.batch_size, args.timeout))
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)

    report, failures = _report(facts, manifest, results, args.batch_size)
    print(report)
    base = OUT / f"ingest-{playlists}-{stamp}"
    base.with_suffix(".md").write_text(report + "\n", encoding="utf-8")
    base.with_suffix(".json").write_text(
        json.dumps(
            {
                "machine": facts,
                "corpus": manifest,
                "batch_size": args.batch_size,
                "results": results,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nsaved {base}.md and .json", file=sys.stderr)
    return 1 if failures else 0


def _run_postgresql(corpus: Path, batch_size: int, timeout: float) -> dict[str, Any]:
    from sqlalchemy import text

    name = f"wavelength_bench_{secrets.token_hex(4)}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        return run_case("postgresql", corpus, url, batch_size, timeout)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
