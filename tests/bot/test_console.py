from __future__ import annotations

import io

from bot.console import run_console
from bot.conversation import Conversation
from wavelength.domain import UserId


def _run(conversation: Conversation, user: UserId, lines: str) -> str:
    out = io.StringIO()
    run_console(conversation, io.StringIO(lines), out, user=user)
    return out.getvalue()


def test_console_answers_until_quit(conversation: Conversation, user: UserId) -> None:
    text = _run(conversation, user, "/stats\nsleep\n👍 1\n/quit\n/help\n")
    assert "tracks" in text
    assert '📻 "Sleep" · batch 1' in text and "Liked" in text
    assert "Start a station" not in text  # nothing after /quit is read
    assert text.rstrip().endswith("Bye.")


def test_console_ends_cleanly_at_end_of_input(conversation: Conversation, user: UserId) -> None:
    text = _run(conversation, user, "/help\n")
    assert "Start a station" in text
    assert text.rstrip().endswith("Bye.")
