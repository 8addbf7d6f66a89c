"""Fault: one of two API processes SIGKILLed under load (``WAVELENGTH_API_PROCESSES=2`` on the
embedded default, as ``benchmarks/load_api.py --api-processes 2`` serves it).

The users and the ledger are ``fault_api``'s (feedback -> next batch, a /recommend every fifth
round; keep-alive connections, so users whose connection was to the killed process lose it).
The kill strikes a third of the way in, while feedback is on the wire; the fault is over when a
new process answers in its place. Reports requests failed, feedback lost (acknowledged but
missing from the database; must be 0), duplicated rows, and recovery (fault over -> the first
successful request sent after it); the other process answers throughout.

    WAVELENGTH_DATA_HOME=/tmp/wl-demo python benchmarks/fault_api_processes.py --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from fault_api import Ledger, feedback_rows, load, outcome, print_table
from load_api import _keys, _serve, copy_home

from storage.db import make_engine


async def _pids(url: str, tries: int = 20) -> set[int]:
    """The processes that answered ``tries`` new connections (resets skipped)."""
    found: set[int] = set()
    async with httpx.AsyncClient(
        base_url=url, timeout=5.0, limits=httpx.Limits(max_keepalive_connections=0)
    ) as probe:
        for _ in range(tries):
            with contextlib.suppress(httpx.TransportError):
                found.add((await probe.get("/healthz")).json()["process"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    if "WAVELENGTH_DATA_HOME" not in os.environ:
        parser.error("set WAVELENGTH_DATA_HOME to a trained data home (it is copied, not changed)")
    with tempfile.TemporaryDirectory(prefix="wl-fault-procs-") as tmp:
        home = Path(tmp)
        copy_home(Path(os.environ["WAVELENGTH_DATA_HOME"]), home)
        keys = _keys(home, args.users)
        ctx = mp.get_context("spawn")
        port_out, port_in = ctx.Pipe(duplex=False)
        stop_in, stop_out = ctx.Pipe(duplex=False)
        server = ctx.Process(target=_serve, args=(str(home), port_in, stop_in, 0, 2))
        server.start()
        url = f"http://127.0.0.1:{port_out.recv()}"  # once both processes serve
        pids = asyncio.run(_pids(url, 60))
        (child,) = pids - {server.pid}
        print(f"serving from processes {sorted(pids)}; {child} will be killed")
        ledger = Ledger()

        async def fault() -> tuple[float, float]:
            await asyncio.sleep(args.seconds / 3)
            while ledger.feedback_in_flight == 0:  # strike while feedback is on the wire
                await asyncio.sleep(0.001)
            start = time.perf_counter()
            os.kill(child, signal.SIGKILL)
            while not (await _pids(url, 10)) - {server.pid, child}:
                await asyncio.sleep(0.2)
            return start, time.perf_counter()

        window = asyncio.run(load(url, keys, seconds=args.seconds, fault=fault, ledger=ledger))
        stop_out.send(True)
        server.join(60)
        engine = make_engine(f"sqlite:///{home / 'wavelength.db'}")
        rows = feedback_rows(engine, ledger.stations)
        engine.dispose()
        result = outcome("kill 1 of 2", ledger, window, rows)
        print(f"fault lasted {window[1] - window[0]:.1f} s (kill -> a new process answers)")
        print_table([result])
        print("failures by endpoint and status (0: no answer):", result.failures)


if __name__ == "__main__":
    main()
