"""The composition root's frontend runner: side by side, stopped together, cleanly."""

from __future__ import annotations

import asyncio
import os
import signal

from wavelength.app import Frontend, serve


def test_a_signal_stops_every_frontend_cleanly() -> None:
    finished: list[str] = []

    def frontend(name: str) -> Frontend:
        async def run(stop: asyncio.Event) -> None:
            await stop.wait()
            await asyncio.sleep(0.01)  # a frontend flushing what it holds
            finished.append(name)

        return run

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
        await serve({"A": frontend("A"), "B": frontend("B")}, echo=lines.append)

    lines: list[str] = []
    asyncio.run(scenario())
    assert sorted(finished) == ["A", "B"]
    assert "running A and B" in lines[0] and lines[-1] == "Stopped cleanly."


def test_one_failing_frontend_stops_the_others_and_says_why() -> None:
    stopped: list[bool] = []

    async def broken(stop: asyncio.Event) -> None:
        raise ConnectionError("gateway refused the token")

    async def healthy(stop: asyncio.Event) -> None:
        await stop.wait()
        stopped.append(True)

    lines: list[str] = []
    asyncio.run(serve({"Discord": broken, "Telegram": healthy}, echo=lines.append))
    assert stopped == [True]
    assert any("Discord stopped: gateway refused the token" in line for line in lines)
