"""The FastAPI app: stations and recommendations for API-key holders, health, metrics and
the operators' dashboard. Interactive docs at ``/docs``.

The keyed routes live on one router whose responses include the 401 (with the bearer scheme
FastAPI derives from ``HTTPBearer``), so the OpenAPI document, ``/docs`` and generated
clients know a key is needed and what a refusal looks like.

Every keyed handler runs its database and engine work on the API's own threads (the *lane*,
``threads`` of them; ``Settings.api_lane_threads``), health, metrics and the dashboard theirs
in Starlette's thread pool: the event loop it shares with the bots only parses, checks and
answers.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from recommender.station.compose import NotTrainedError
from storage import api_keys
from wavelength.domain import StationId, TrackId, UserId
from wavelength.stations import NoStation, NotFound, ReadOnly, StationError
from web import schemas as s
from web.dashboard import PAGE
from web.metrics import Metrics, TimingMiddleware
from web.recommend import Recommender
from web.stations import StationsApi
from web.stats import dashboard

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from recommender.mood import NameIndex
    from recommender.station import StationComposer
    from wavelength.stations import Batch, StationService

T = TypeVar("T")
# auto_error=False: a missing key is our 401 (with WWW-Authenticate), not FastAPI's 403.
_BEARER = HTTPBearer(
    auto_error=False,
    bearerFormat="API key",
    description=(
        "An API key from `wavelength api-key create --user NAME`, sent as "
        "`Authorization: Bearer <key>`; the dashboard's data takes the admin key instead."
    ),
)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
Responses = dict[int | str, dict[str, Any]]
# The refusals a keyed route may answer besides its own, each with a ``Problem`` body.
_REFUSALS = {
    400: "The body is not JSON.",
    404: "No such station among yours.",
    409: "Refused; the detail says why (a name taken or unclear, nothing played yet, ...).",
    503: "The database or the catalog's vectors are unavailable for a moment; try again.",
}


def _refusals(*codes: int) -> Responses:
    return {code: {"model": s.Problem, "description": _REFUSALS[code]} for code in codes}


def _unauthorized(description: str) -> Responses:
    """The documented 401: a ``Problem`` body and the challenge header every 401 carries."""
    return {
        401: {
            "model": s.Problem,
            "description": description,
            "headers": {
                "WWW-Authenticate": {
                    "description": "Always `Bearer`: send a key in the Authorization header.",
                    "required": True,
                    "schema": {"type": "string"},
                }
            },
        }
    }


# A station id the database can hold (BIGINT): larger ones are a 422, not an overflow (500).
StationPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


class Unauthorized(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Deps:
    database: Engine
    stations: StationsApi
    recommender: Recommender
    metrics: Metrics
    admin_key: str | None
    lane: ThreadPoolExecutor

    def user(self, bearer: HTTPAuthorizationCredentials | None) -> UserId:
        if bearer is None:
            raise Unauthorized("Send an API key: Authorization: Bearer <key>.")
        with self.database.connect() as conn:
            user = api_keys.user_for_key(conn=conn, key=bearer.credentials)
        if user is None:
            raise Unauthorized("That API key is unknown or revoked.")
        return user

    async def as_user(
        self, bearer: HTTPAuthorizationCredentials | None, act: Callable[[UserId], T]
    ) -> T:
        """The key's user, then ``act`` for them: one trip to the lane."""
        call = functools.partial(contextvars.copy_context().run, lambda: act(self.user(bearer)))
        return await asyncio.get_running_loop().run_in_executor(self.lane, call)


def build_api(
    *,
    stations: StationService,
    database: Engine,
    composer: StationComposer,
    names: NameIndex,
    store_ready: Callable[[], bool],
    admin_key: str | None = None,
    threads: int = 1,
    nexts: Callable[[UserId, StationId], Batch] | None = None,
) -> FastAPI:
    """The HTTP API over the running services. ``store_ready`` says whether the vector store
    answers (for /readyz); ``admin_key`` opens the dashboard's data (no key: it stays shut);
    ``threads`` run the keyed routes' work; ``nexts`` composes next batches in place of
    ``stations`` (``ComposePool.next``)."""
    if threads < 1:
        raise ValueError(f"the API needs at least one thread, got {threads}")
    metrics = Metrics(database)
    deps = _Deps(
        database=database,
        stations=StationsApi(service=stations, nexts=nexts),
        recommender=Recommender(composer=composer, names=names),
        metrics=metrics,
        admin_key=admin_key,
        lane=ThreadPoolExecutor(threads, thread_name_prefix="api"),
    )
    app = FastAPI(
        title="Wavelength",
        summary="Stations that learn from reactions, over HTTP.",
        version="0.1.0",
    )
    app.add_middleware(TimingMiddleware, metrics=metrics)
    _errors(app)
    _health(app, deps, store_ready)
    _api(app, deps)
    _operators(app, deps)
    return app


def _errors(app: FastAPI) -> None:
    def problem(status: int) -> Callable[[Request, Exception], Any]:
        async def answer(_: Request, exc: Exception) -> JSONResponse:
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)

        return answer

    # Most specific first: Starlette picks the handler by the exception's class hierarchy.
    app.add_exception_handler(Unauthorized, problem(401))
    app.add_exception_handler(NotFound, problem(404))
    app.add_exception_handler(NoStation, problem(404))
    app.add_exception_handler(ReadOnly, problem(403))
    app.add_exception_handler(StationError, problem(409))
    app.add_exception_handler(NotTrainedError, problem(503))

    async def database_down(_: Request, exc: Exception) -> JSONResponse:
        # The driver's message names the statement and the server: never sent to a client.
        return JSONResponse(
            {"detail": "the database is unreachable for a moment; try again shortly"},
            status_code=503,
            headers={"Retry-After": "2"},
        )

    app.add_exception_handler(DBAPIError, database_down)


def _health(app: FastAPI, deps: _Deps, store_ready: Callable[[], bool]) -> None:
    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str | int]:
        """The process is up (it answers); says nothing about what it depends on. ``process``
        says which one answered, where several serve the port (``WAVELENGTH_API_PROCESSES``)."""
        return {"status": "ok", "process": os.getpid()}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "not ready"}})
    async def readyz(response: Response) -> dict[str, str]:
        """The database and the vector store both answer."""

        def check() -> dict[str, str]:
            found = {"database": "ok", "vector_store": "ok"}
            try:
                with deps.database.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except SQLAlchemyError as exc:
                found["database"] = f"unreachable: {type(exc).__name__}"
            try:
                if not store_ready():
                    found["vector_store"] = "not ready"
            except Exception as exc:  # any failure of the store's client means not ready
                found["vector_store"] = f"unreachable: {type(exc).__name__}"
            return found

        found = await run_in_threadpool(check)
        if any(v != "ok" for v in found.values()):
            response.status_code = 503
        return found

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def metrics() -> Response:
        """Prometheus text format."""
        body = await run_in_threadpool(generate_latest, deps.metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def _api(app: FastAPI, deps: _Deps) -> None:
    served = deps.metrics.recommendations
    keyed = APIRouter(
        responses={
            **_unauthorized("No API key, or one that is unknown or revoked."),
            **_refusals(503),
        }
    )

    @keyed.post("/recommend", tags=["recommend"], responses=_refusals(400))
    async def recommend(body: s.RecommendIn, bearer: Bearer) -> s.RecommendOut:
        """The top ``top_k`` tracks for a mood in words, with scores and reasons."""
        found = await deps.as_user(
            bearer, lambda _: deps.recommender.recommend(body.text, top_k=body.top_k)
        )
        served.labels("recommend").inc(len(found))
        return s.RecommendOut(
            text=body.text,
            tracks=[
                s.Recommendation(
                    track=s.TrackOut(
                        id=r.track.id,
                        name=r.track.name,
                        artist=r.track.artist.name,
                        year=r.track.year,
                    ),
                    score=r.score,
                    reason=r.reason,
                )
                for r in found
            ],
        )

    @keyed.post("/stations", tags=["stations"], status_code=201, responses=_refusals(400, 409))
    async def create(body: s.StationIn, bearer: Bearer) -> s.BatchOut:
        """A new station from a mood; answers its first batch."""
        batch = await deps.as_user(bearer, lambda u: deps.stations.create(u, body.text, body.name))
        served.labels("stations").inc(len(batch.cards))
        return s.batch_out(batch)

    @keyed.get("/stations", tags=["stations"])
    async def list_stations(bearer: Bearer) -> s.StationsOut:
        """Your stations, and which one is playing."""
        found, active = await deps.as_user(bearer, deps.stations.stations)
        return s.StationsOut(stations=[s.station_out(x) for x in found], active=active)

    @keyed.post("/stations/{station_id}/next", tags=["stations"], responses=_refusals(404, 409))
    async def next_batch(station_id: StationPath, bearer: Bearer) -> s.BatchOut:
        """The station's next batch (it becomes the one playing)."""
        batch = await deps.as_user(bearer, lambda u: deps.stations.next(u, StationId(station_id)))
        served.labels("stations").inc(len(batch.cards))
        return s.batch_out(batch)

    @keyed.post(
        "/stations/{station_id}/feedback", tags=["stations"], responses=_refusals(400, 404, 409)
    )
    async def feedback(station_id: StationPath, body: s.FeedbackIn, bearer: Bearer) -> s.ReactedOut:
        """A reaction to a track the station played you; it steers the next batches."""
        reacted = await deps.as_user(
            bearer,
            lambda u: deps.stations.feedback(
                u, StationId(station_id), TrackId(body.track), body.reaction
            ),
        )
        return s.reacted_out(reacted)

    @keyed.patch(
        "/stations/{station_id}/tuning", tags=["stations"], responses=_refusals(400, 404, 409)
    )
    async def tune(station_id: StationPath, body: s.TuningIn, bearer: Bearer) -> s.BatchOut:
        """Weigh the mood, likes and dislikes (0-3, 1 is the default), or set how familiar
        the picks are; answers the next batch as tuned."""
        batch = await deps.as_user(
            bearer,
            lambda u: deps.stations.tune(
                u,
                StationId(station_id),
                style=body.style,
                like=body.like,
                dislike=body.dislike,
                familiarity=body.familiarity,
            ),
        )
        served.labels("stations").inc(len(batch.cards))
        return s.batch_out(batch)

    @keyed.post("/stations/{station_id}/share", tags=["stations"], responses=_refusals(404))
    async def share(station_id: StationPath, bearer: Bearer) -> s.ShareOut:
        """A code others can join the station with (read-only) in chat."""
        station, code = await deps.as_user(
            bearer, lambda u: deps.stations.share(u, StationId(station_id))
        )
        return s.ShareOut(station=s.station_out(station), code=code)

    app.include_router(keyed)


def _operators(app: FastAPI, deps: _Deps) -> None:
    @app.get("/dashboard", tags=["operations"], response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        """The operators' dashboard (its data needs the admin key)."""
        return HTMLResponse(PAGE)

    @app.get(
        "/dashboard/data",
        tags=["operations"],
        responses=_unauthorized("Not the admin key, or the dashboard is off (no admin key set)."),
    )
    async def data(bearer: Bearer) -> dict[str, Any]:
        """What the dashboard shows, as JSON. Admin key only."""
        if deps.admin_key is None:
            raise Unauthorized("The dashboard is off: set WAVELENGTH_API_ADMIN_KEY.")
        given = bearer.credentials if bearer is not None else ""
        if not secrets.compare_digest(given.encode(), deps.admin_key.encode()):
            raise Unauthorized("That is not the admin key.")
        return await run_in_threadpool(dashboard, deps.database)
