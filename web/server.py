"""Serving the app with uvicorn inside the running event loop (beside the bots)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from fastapi import FastAPI

    from wavelength.settings import Settings


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The composition root owns SIGINT/SIGTERM and sets ``stop``; uvicorn's own handlers
        # would replace its handlers and re-raise the signal after shutting down.
        yield


async def run_api(
    settings: Settings,
    app: FastAPI,
    *,
    stop: asyncio.Event,
    bound: Callable[[int], None] | None = None,
    port: int | None = None,
    reuse_port: bool = False,
) -> None:
    """Serve ``app`` on ``settings.api_host``:``settings.api_port`` (or ``port``) until
    ``stop`` is set, then finish the requests in flight and return. ``bound`` hears the port
    (useful with 0). ``reuse_port``: other processes serve the same port, the kernel spreading
    connections among them (``wavelength.api_processes``). A port that can't be bound raises
    OSError (uvicorn would exit the process instead)."""
    address = (settings.api_host, settings.api_port if port is None else port)
    sock = socket.create_server(address, reuse_port=reuse_port)
    # asyncio turns Nagle's algorithm off only for sockets whose proto is IPPROTO_TCP, and
    # create_server's is 0: every answer's body then waited for the client's delayed ACK of
    # its headers, 40 ms per request on Linux (one request at a time: 44 ms -> 1 ms).
    # Accepted connections inherit the option.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]), name="api")
    try:
        while not server.started and not serving.done():
            await asyncio.sleep(0.01)
        if bound is not None and server.started:
            bound(sock.getsockname()[1])
        waiting = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
    finally:
        server.should_exit = True
        await serving
        sock.close()
