"""The OAuth callback endpoint: one route, ``GET /spotify/callback``, that finishes a link and
tells the chat. Installations without a public address skip it: the user pastes the address
they were sent to instead (``SpotifyService.complete_pasted``).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from spotify.redact import install_redaction

log = logging.getLogger(__name__)
CALLBACK_PATH = "/spotify/callback"


class Finished(Protocol):
    """What finishing a link returns (``wavelength.spotify_service.LinkResult``)."""

    @property
    def linked(self) -> bool: ...

    @property
    def message(self) -> str: ...


R = TypeVar("R", bound=Finished)


def _page(result: Finished) -> str:
    title = "Spotify linked" if result.linked else "Spotify not linked"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body style='font-family:sans-serif;margin:3em'>"
        f"<h1>{title}</h1><p>{html.escape(result.message)}</p>"
        "<p>You can close this tab and go back to the chat.</p></body></html>"
    )


def callback_app(
    *,
    complete: Callable[[str | None, str | None, str | None], R],
    notify: Callable[[R], Awaitable[None]],
    path: str = CALLBACK_PATH,
) -> web.Application:
    """An app whose one route passes (state, code, error) to ``complete`` (sync, run in a
    worker thread) and its result to ``notify`` (say so in chat)."""

    async def callback(request: web.Request) -> web.Response:
        query = request.query
        result = await asyncio.to_thread(
            complete, query.get("state"), query.get("code"), query.get("error")
        )
        try:
            await notify(result)
        except Exception:  # the browser still gets its answer; the chat is told another time
            log.exception("could not confirm the Spotify link in chat")
        return web.Response(
            text=_page(result),
            content_type="text/html",
            status=200 if result.linked else 400,
            # The address carried a code: never cache the page or send it on as a Referer.
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )

    app = web.Application()
    app.router.add_get(path, callback)
    return app


class PathOnlyAccessLog(AbstractAccessLogger):
    """Access lines without query strings (the callback's carries the code and state)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


async def start_callback_server(app: web.Application, *, host: str, port: int) -> web.AppRunner:
    """Serve ``app`` on host:port; ``await runner.cleanup()`` stops it."""
    install_redaction()
    runner = web.AppRunner(app, access_log_class=PathOnlyAccessLog)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
