"""Prometheus metrics: request latencies and counters kept here, and totals read from the
database at scrape time (reactions and deliveries happen in every process, not just this one)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, values
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from storage.models import DeliveryRow, FeedbackRow
from wavelength.telemetry import ENCODER_BUCKETS, TELEMETRY

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Station batches answer in milliseconds; a slow encoder or store shows in the top buckets.
_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


# prometheus_client's own switch for its multiprocess mode: where every process's files go.
_SHARED = "PROMETHEUS_MULTIPROC_DIR"


def share_between_processes(folder: Path) -> None:
    """Keep this process's request metrics in files under ``folder``, where every API process
    serving the same port keeps its own (``WAVELENGTH_API_PROCESSES``), so that a scrape,
    whichever process answers it, reports all of theirs (prometheus_client's multiprocess
    mode). Call it before any ``Metrics`` is made; processes started after inherit it."""
    os.environ[_SHARED] = str(folder)
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


class Metrics:
    """One registry per app (tests build many apps in one process), except where processes
    share their metrics (``share_between_processes``): then the registry reads everyone's."""

    def __init__(self, database: Engine) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        shared = os.environ.get(_SHARED)
        # Shared: the metrics themselves are written to files, and the registry reads them
        # all back (registered with it too, this process's would count twice).
        own = None if shared else self.registry
        self.latency = Histogram(
            "wavelength_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            buckets=_BUCKETS,
            registry=own,
        )
        self.recommendations = Counter(
            "wavelength_recommendations_served",
            "Tracks handed out by the API, by endpoint",
            ["endpoint"],
            registry=own,
        )
        if shared:
            MultiProcessCollector(self.registry, path=shared)  # type: ignore[no-untyped-call]
        self.registry.register(_DatabaseTotals(database))
        self.registry.register(_ProcessTotals())


class _ProcessTotals(Collector):
    """This process's Spotify 429s and encoder batch latencies (wavelength.telemetry)."""

    def collect(self) -> Iterator[Metric]:
        limited, counts, total = TELEMETRY.snapshot()
        spotify = CounterMetricFamily(
            "wavelength_spotify_rate_limited", "Spotify 429 answers received by this process"
        )
        spotify.add_metric([], limited)
        yield spotify
        buckets, running = [], 0
        for bound, n in zip((*ENCODER_BUCKETS, float("inf")), counts, strict=True):
            running += n
            buckets.append(("+Inf" if bound == float("inf") else str(bound), running))
        encoder = HistogramMetricFamily(
            "wavelength_encoder_batch_seconds", "Text encoder batch latency in this process"
        )
        encoder.add_metric([], buckets, sum_value=total)
        yield encoder

    def describe(self) -> Iterator[Metric]:
        return iter(())


class _DatabaseTotals(Collector):
    def __init__(self, database: Engine) -> None:
        self._database = database

    def collect(self) -> Iterator[Metric]:
        reactions = CounterMetricFamily(
            "wavelength_reactions", "Reactions ever recorded, by kind", labels=["kind"]
        )
        deliveries = GaugeMetricFamily(
            "wavelength_deliveries",
            "Scheduled deliveries by kind and outcome (status)",
            labels=["kind", "outcome"],
        )
        with self._database.connect() as conn:
            for kind, n in conn.execute(
                select(FeedbackRow.reaction, func.count()).group_by(FeedbackRow.reaction)
            ):
                reactions.add_metric([kind], n)
            for kind, status, n in conn.execute(
                select(DeliveryRow.kind, DeliveryRow.status, func.count()).group_by(
                    DeliveryRow.kind, DeliveryRow.status
                )
            ):
                deliveries.add_metric([kind, status], n)
        yield reactions
        yield deliveries

    def describe(self) -> Iterator[Metric]:
        return iter(())  # collected live; nothing to check at registration


class TimingMiddleware:
    """Times every request by its route template (``/stations/{station_id}/next``), never by
    its raw path, so ids don't explode the label set. Plain ASGI: no per-request task."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self._metrics.latency.labels(scope["method"], path, str(status)).observe(
                time.perf_counter() - start
            )
