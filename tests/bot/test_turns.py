"""``bot.turns.Turns``: one task at a time per key, a holder goes on, idle keys forgotten."""

from __future__ import annotations

import asyncio

from bot.turns import Turns


def test_one_task_per_key_in_arrival_order_and_the_holder_goes_on() -> None:
    turns = Turns()
    log: list[str] = []

    async def send(key: str, name: str) -> None:
        async with turns.turn(key):
            log.append(f"{name} start")
            async with turns.turn(key):  # the holder messages its own chat: no self-wait
                await asyncio.sleep(0.01)
            log.append(f"{name} end")

    async def main() -> None:
        await asyncio.wait_for(
            asyncio.gather(send("ana", "picks"), send("ana", "mix"), send("bo", "other")), 5
        )

    asyncio.run(main())
    ana = [e for e in log if not e.startswith("other")]
    assert ana == ["picks start", "picks end", "mix start", "mix end"]
    assert log.index("other start") < log.index("picks end")  # other keys go side by side
    assert turns._locks == {} and not turns._users  # nobody holds or waits: forgotten
