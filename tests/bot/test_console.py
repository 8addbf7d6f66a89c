from __future__ import annotations

import io

from bot.console import run_console
from bot.conversation import Conversation
from tests.support.fakes import FakeCatalogStats
from wavelength.domain import CatalogCounts


def _run(lines: str) -> str:
    out = io.StringIO()
    conversation = Conversation(catalog=FakeCatalogStats(CatalogCounts(5, 4, 3, 2, 1, 1, 0)))
    run_console(conversation, io.StringIO(lines), out)
    return out.getvalue()


def test_console_answers_until_quit() -> None:
    text = _run("/stats\n/quit\n/help\n")
    assert "tracks" in text
    assert "Commands:" not in text  # nothing after /quit is read
    assert text.rstrip().endswith("Bye.")


def test_console_ends_cleanly_at_end_of_input() -> None:
    text = _run("/help\n")
    assert "Commands:" in text
    assert text.rstrip().endswith("Bye.")
