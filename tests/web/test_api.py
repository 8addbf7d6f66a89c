"""The HTTP API over real HTTP: keys, scoping, validation, recommendations, a station's life."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import create_engine

from storage import api_keys
from tests.support.world import World
from tests.web.conftest import Served, app_over, serve
from wavelength.stations import StationService


def _station(client: httpx.Client, text: str = "cool jazz") -> dict:
    answer = client.post("/stations", json={"text": text})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_health_and_docs_need_no_key(api: Served) -> None:
    with api.client() as anon:
        assert anon.get("/healthz").json() == {"status": "ok", "process": os.getpid()}
        assert anon.get("/readyz").json() == {"database": "ok", "vector_store": "ok"}
        assert "swagger" in anon.get("/docs").text.lower()
        paths = anon.get("/openapi.json").json()["paths"]
    assert {"/recommend", "/stations", "/stations/{station_id}/next"} <= set(paths)


def test_answers_are_not_held_back_by_nagles_algorithm(api: Served) -> None:
    """With Nagle's algorithm on, each answer's body waited for the client's delayed ACK of
    its headers: 40 ms or more per request on Linux, whatever the request. Loopback answers
    /healthz in a millisecond or two, so even a busy machine keeps the median far below."""
    with api.client() as anon:
        anon.get("/healthz")  # the connection is open and kept alive from here on
        took = []
        for _ in range(11):
            answer = anon.get("/healthz")
            assert answer.status_code == 200
            took.append(answer.elapsed.total_seconds())
    assert sorted(took)[5] < 0.03, sorted(took)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/recommend", {"text": "jazz", "top_k": 3}),
        ("POST", "/stations", {"text": "jazz"}),
        ("GET", "/stations", None),
        ("POST", "/stations/1/next", None),
        ("POST", "/stations/1/share", None),
    ],
)
def test_every_station_call_needs_a_live_key(
    api: Served, method: str, path: str, body: dict | None
) -> None:
    with api.client() as anon, api.client("wl_not-a-real-key") as wrong:
        for c in (anon, wrong):
            answer = c.request(method, path, json=body)
            assert answer.status_code == 401
            assert answer.headers["www-authenticate"] == "Bearer"


def test_a_revoked_key_stops_working(api: Served) -> None:
    with api.world.engine.begin() as conn:
        user = api_keys.user_named(conn=conn, name="revoked-person")
        new = api_keys.create_key(conn=conn, user=user, label="t", now=datetime.now(UTC))
    with api.client(new.key) as c:
        assert c.get("/stations").status_code == 200
        with api.world.engine.begin() as conn:
            assert api_keys.revoke(conn=conn, key_id=new.id, now=datetime.now(UTC))
        assert c.get("/stations").status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"text": "jazz", "top_k": 0},
        {"text": "jazz", "top_k": 101},
        {"text": "", "top_k": 5},
        {"top_k": 5},
        {"text": "jazz", "top_k": "many"},
        {"text": "jazz", "top_k": 5, "extra": 1},
    ],
)
def test_recommend_validates(client: httpx.Client, body: dict) -> None:
    assert client.post("/recommend", json=body).status_code == 422


def test_recommend_ranks_the_mood_with_reasons(api: Served, client: httpx.Client) -> None:
    answer = client.post("/recommend", json={"text": "cool jazz", "top_k": 8})
    assert answer.status_code == 200, answer.text
    tracks = answer.json()["tracks"]
    assert len(tracks) == 8
    scores = [t["score"] for t in tracks]
    assert scores == sorted(scores, reverse=True)
    assert all(t["reason"] for t in tracks)
    genres = [api.world.tracks[t["track"]["id"]].genre for t in tracks]
    assert genres.count("cool jazz") >= 6, genres


def test_station_lifecycle_feedback_changes_the_next_batch(client: httpx.Client) -> None:
    first = _station(client, "cool jazz")
    sid = first["station"]["id"]
    assert first["number"] == 1 and len(first["cards"]) == 5
    assert all(c["source"] != "liked" for c in first["cards"])
    listed = client.get("/stations").json()
    assert [s["id"] for s in listed["stations"]] == [sid] and listed["active"] == sid

    liked = first["cards"][0]["track"]["id"]
    reacted = client.post(f"/stations/{sid}/feedback", json={"track": liked, "reaction": "like"})
    assert reacted.status_code == 200, reacted.text
    assert reacted.json()["tracks"][0]["id"] == liked
    second = client.post(f"/stations/{sid}/next").json()
    assert second["number"] == 2
    # A station with a like always plays one track from its likes' neighbourhood.
    assert any(c["source"] == "liked" for c in second["cards"])
    shown = {c["track"]["id"] for c in first["cards"]}
    assert not shown & {c["track"]["id"] for c in second["cards"]}

    tuned = client.patch(f"/stations/{sid}/tuning", json={"like": 2.5, "familiarity": "surprise"})
    assert tuned.status_code == 200, tuned.text
    assert tuned.json()["station"]["tuning"] == {
        "style": 1.0,
        "like": 2.5,
        "dislike": 1.0,
        "familiarity": "surprise",
    }
    shared = client.post(f"/stations/{sid}/share").json()
    assert len(shared["code"]) == 8 and shared["station"]["share_code"] == shared["code"]


def test_feedback_only_on_tracks_the_station_played(client: httpx.Client) -> None:
    sid = _station(client)["station"]["id"]
    never = client.post(f"/stations/{sid}/feedback", json={"track": "nope", "reaction": "like"})
    assert never.status_code == 409
    bad = client.post(f"/stations/{sid}/feedback", json={"track": "x", "reaction": "meh"})
    assert bad.status_code == 422
    assert client.patch(f"/stations/{sid}/tuning", json={"style": 4}).status_code == 422


def test_nobody_touches_another_persons_station(api: Served, client: httpx.Client) -> None:
    mine = _station(client)
    sid, track = mine["station"]["id"], mine["cards"][0]["track"]["id"]
    with api.client(api.key()) as stranger:
        for answer in (
            stranger.post(f"/stations/{sid}/next"),
            stranger.post(
                f"/stations/{sid}/feedback", json={"track": track, "reaction": "dislike"}
            ),
            stranger.patch(f"/stations/{sid}/tuning", json={"style": 0}),
            stranger.post(f"/stations/{sid}/share"),
            stranger.post("/stations/999999/next"),
        ):
            assert answer.status_code == 404, answer.text
            assert answer.json() == {"detail": "No such station."}
        assert stranger.get("/stations").json() == {"stations": [], "active": None}
    # ...and the owner's station is untouched: still at batch 1, no reactions.
    assert client.post(f"/stations/{sid}/next").json()["number"] == 2
    assert mine["station"]["tuning"]["style"] == 1.0


def test_metrics_count_requests_recommendations_and_reactions(
    api: Served, client: httpx.Client
) -> None:
    first = _station(client, "heavy metal")
    sid = first["station"]["id"]
    for card in first["cards"][:2]:
        client.post(
            f"/stations/{sid}/feedback", json={"track": card["track"]["id"], "reaction": "love"}
        )
    client.post("/recommend", json={"text": "jazz", "top_k": 4})
    with api.client() as anon:
        text = anon.get("/metrics").text
    assert 'wavelength_recommendations_served_total{endpoint="recommend"}' in text
    assert 'wavelength_recommendations_served_total{endpoint="stations"}' in text
    assert 'wavelength_reactions_total{kind="love"}' in text
    assert (
        'wavelength_http_request_duration_seconds_count{method="POST",'
        'route="/stations/{station_id}/feedback",status="200"}'
    ) in text
    assert "wavelength_deliveries" in text
    assert "wavelength_spotify_rate_limited_total" in text
    assert 'wavelength_encoder_batch_seconds_bucket{le="+Inf"}' in text


def test_readyz_fails_when_the_database_is_gone(
    world: World, service: StationService, tmp_path
) -> None:
    gone = create_engine(f"sqlite:///{tmp_path / 'missing' / 'folder' / 'w.db'}")
    for url in serve(app_over(world, service, database=gone)):
        with httpx.Client(base_url=url, timeout=10) as anon:
            answer = anon.get("/readyz")
            assert anon.get("/healthz").status_code == 200
    gone.dispose()
    assert answer.status_code == 503
    assert answer.json()["database"].startswith("unreachable")
    assert answer.json()["vector_store"] == "ok"


def test_acting_on_a_station_by_id_leaves_the_chat_playing_what_it_played(
    client: httpx.Client,
) -> None:
    older = _station(client, "cool jazz")["station"]["id"]
    newer = _station(client, "heavy metal")["station"]["id"]  # creating one plays it
    assert client.post(f"/stations/{older}/next").json()["station"]["id"] == older
    assert client.patch(f"/stations/{older}/tuning", json={"like": 2}).status_code == 200
    assert client.post(f"/stations/{older}/share").status_code == 200
    assert client.get("/stations").json()["active"] == newer


class _Overlap:
    """The station service, counting how many ``next`` calls run at once (each holds on a
    while, so work that may overlap does)."""

    def __init__(self, inner: StationService) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0

    def next(self, *args: object, **kwargs: object) -> object:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.1)
            return self._inner.next(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with self._lock:
                self.running -= 1

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


@pytest.mark.parametrize("threads", [1, 3])
def test_the_api_runs_station_work_on_as_many_threads_as_it_is_given(
    world: World, service: StationService, threads: int
) -> None:
    """The embedded default gives the API one thread: its work is all CPU under one GIL, and
    concurrent threads only contend (benchmarks/load_api.py, back to back: 38-43 → 50-54
    next batches/s)."""
    overlap = _Overlap(service)
    for url in serve(app_over(world, overlap, threads=threads)):
        served = Served(url, world)
        key = served.key()
        with served.client(key) as c:
            sid = _station(c)["station"]["id"]

        def ask(served: Served, key: str, sid: int) -> int:
            with served.client(key) as c:
                return c.post(f"/stations/{sid}/next").status_code

        with ThreadPoolExecutor(6) as pool:
            asked = [pool.submit(ask, served, key, sid) for _ in range(6)]
            assert [a.result() for a in asked] == [200] * 6
    # Six requests at once: one thread takes them one by one; three let them overlap.
    assert overlap.most == 1 if threads == 1 else 1 < overlap.most <= threads
