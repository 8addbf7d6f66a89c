"""Fault injection for Spotify playlist pushes: N pushes against the local fake Spotify
with random 429s (short and long Retry-After), 500/502/503 (before and after Spotify applied
the change), slow answers past the client timeout, and process deaths before or after any
call. Each interrupted push is run again (as the scheduler would after a restart) until it
finishes; then the playlist is compared with what it should hold.

    python benchmarks/fault_spotify_push.py                 # 200 pushes
    python benchmarks/fault_spotify_push.py --pushes 50 --fault-rate 0.2 --seed 3

Prints pushes attempted, completed, duplicated (items or playlists too many) and lost
(items missing); the last two must be 0.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spotify import spotipy_api
from spotify.auth import SpotifyConfig
from spotify.crypto import TokenBox
from spotify.plan import unique
from storage import spotify as repo
from storage import stations as station_repo
from storage.db import make_engine, upgrade
from tests.support.fake_spotify import FakeSpotify, Fault
from wavelength.domain import TrackId, UserId
from wavelength.spotify_service import (
    SpotifyService,
    SpotifyUnavailable,
    TryAgainLater,
)

PURPOSES = ("daily", "station:1", "station:2")


class Crash(BaseException):
    """The process died at this point; nothing after it ran."""


class CrashingApi:
    """A ``SpotifyApi`` whose process may die just before or just after any call:
    ``plan(method)`` says "before", "after" or None."""

    def __init__(self, api: Any, plan: Callable[[str], str | None]) -> None:
        self._api, self._plan = api, plan

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._api, name)
        if name == "close" or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            when = self._plan(name)
            if when == "before":
                raise Crash(name)
            result = attr(*args, **kwargs)
            if when == "after":  # Spotify did it; we never learnt
                raise Crash(name)
            return result

        return call


def chaos(
    rng: random.Random, rate: float, slow: float, seen: Counter[str]
) -> Callable[[str, str], Fault | None]:
    """A random fault for a share ``rate`` of requests (``slow`` of those answer late)."""

    def pick(method: str, path: str) -> Fault | None:
        if rng.random() >= rate:
            return None
        roll = rng.random()
        if roll < slow:
            seen["slow"] += 1
            return Fault(0, delay=0.35)
        kind = rng.choice(("429", "429", "500", "502", "503"))
        seen[kind] += 1
        if kind == "429":
            return Fault(429, retry_after=120 if rng.random() < 0.15 else 1)
        return Fault(int(kind), after_apply=rng.random() < 0.5 and method != "GET")

    return pick


@dataclass
class Figures:
    attempted: int = 0
    completed: int = 0
    duplicated: int = 0
    lost: int = 0
    runs: int = 0
    crashes: int = 0
    try_again_later: int = 0
    unavailable: int = 0
    deleted_by_user: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    http_calls: int = 0
    seconds: float = 0.0

    def table(self) -> str:
        rows = [
            ("pushes attempted", self.attempted),
            ("pushes completed", self.completed),
            ("duplicated", self.duplicated),
            ("lost", self.lost),
            ("push runs (with re-runs)", self.runs),
            ("process deaths", self.crashes),
            ("try-again-later (long 429)", self.try_again_later),
            ("gave up for now (5xx/timeouts)", self.unavailable),
            ("playlists deleted by the user", self.deleted_by_user),
            ("faults injected", sum(self.faults.values())),
            *((f"  {k}", v) for k, v in sorted(self.faults.items())),
            ("HTTP requests", self.http_calls),
            ("wall time (s)", f"{self.seconds:.1f}"),
        ]
        return "\n".join(f"{name:<32}{value:>8}" for name, value in rows)


def _link(service: SpotifyService, fake: FakeSpotify, user: UserId, spotify_id: str) -> None:
    fake.add_user(spotify_id)
    redirect = fake.consent(service.authorize_url(user), spotify_id)
    if not service.complete_pasted(user, redirect).linked:
        raise RuntimeError("link failed")


def run(
    *,
    pushes: int = 200,
    seed: int = 7,
    fault_rate: float = 0.08,
    crash_rate: float = 0.03,
    slow_share: float = 0.1,
    users: int = 3,
    max_runs: int = 40,
) -> Figures:
    rng = random.Random(seed)
    figures = Figures()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder, FakeSpotify() as fake:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        config = SpotifyConfig(
            client_id=fake.client_id, client_secret=fake.client_secret,
            redirect_uri=next(iter(fake.redirect_uris)), api_url=fake.api_url,
            accounts_url=fake.accounts_url, connect_timeout=1.0, read_timeout=0.25,
        )  # fmt: skip

        def plan(_method: str) -> str | None:
            roll = rng.random()
            return "before" if roll < crash_rate / 2 else "after" if roll < crash_rate else None

        service = SpotifyService(
            engine=engine,
            config=config,
            box=TokenBox("benchmark-secret-key-0123456789-abcdef"),
            connect=lambda cfg, cache: CrashingApi(spotipy_api.connect(cfg, cache), plan),
            sleep=lambda _s: None,  # Retry-After and backoff are counted, not waited
        )
        people: dict[UserId, str] = {}
        for n in range(users):
            with engine.begin() as conn:
                user = station_repo.get_or_create_user(
                    conn=conn, provider="bench", external_id=str(n), display_name=None
                )
            _link(service, fake, user, f"listener{n}")
            people[user] = f"listener{n}"
        songs = [TrackId(fake.add_track(f"Song {i}", f"Artist {i % 40}")) for i in range(400)]
        songs += [
            TrackId(fake.add_track(f"Elsewhere {i}", "Far", markets=frozenset({"JP"})))
            for i in range(20)
        ]
        playable = set(songs[:400])
        fake.chaos = chaos(rng, fault_rate, slow_share, figures.faults)
        pushed: dict[UserId, set[str]] = {u: set() for u in people}
        for _ in range(pushes):
            user = rng.choice(list(people))
            purpose = rng.choice(PURPOSES)
            wanted = rng.sample(songs, k=rng.randint(1, 260))
            expected = [u for u in unique(wanted) if u in playable]
            figures.attempted += 1
            done = False
            for _attempt in range(max_runs):
                figures.runs += 1
                try:
                    service.push(user, purpose, f"Wavelength {purpose}", "fault run", wanted)
                    done = True
                    break
                except Crash:
                    figures.crashes += 1
                except TryAgainLater:
                    figures.try_again_later += 1
                except SpotifyUnavailable:
                    figures.unavailable += 1
            pushed[user].add(purpose)
            with engine.connect() as conn:
                record = repo.get_push(conn=conn, user=user, purpose=purpose)
            actual = fake.uris(record.playlist_id) if record and record.playlist_id else []
            figures.completed += done and actual == expected
            figures.duplicated += len(actual) - len(set(actual))
            figures.lost += len(set(expected) - set(actual))
            if done and rng.random() < 0.03 and record and record.playlist_id:
                fake.unfollow(people[user], record.playlist_id)  # the user deletes it
                figures.deleted_by_user += 1
        fake.clear_faults()
        for user, spotify_id in people.items():  # one playlist per purpose, no strays
            figures.duplicated += max(0, len(fake.owned(spotify_id)) - len(pushed[user]))
        figures.http_calls = len(fake.calls)
        engine.dispose()
    figures.seconds = time.perf_counter() - started
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pushes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--fault-rate", type=float, default=0.08, help="share of requests that fail"
    )
    parser.add_argument(
        "--crash-rate", type=float, default=0.03, help="share of calls the process dies at"
    )
    args = parser.parse_args()
    # spotipy logs every 4xx/5xx at ERROR; here they are the point, and counted below.
    logging.getLogger("spotipy.client").setLevel(logging.CRITICAL)
    figures = run(
        pushes=args.pushes, seed=args.seed, fault_rate=args.fault_rate, crash_rate=args.crash_rate
    )
    print(figures.table())
    if figures.duplicated or figures.lost or figures.completed != figures.attempted:
        raise SystemExit("FAILED: a push ended with the wrong contents")


if __name__ == "__main__":
    main()
