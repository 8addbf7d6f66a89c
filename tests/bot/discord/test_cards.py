"""The pure parts: message splitting and the command text built from options."""

from __future__ import annotations

from bot.discord._cards import MESSAGE_LIMIT, chunks
from bot.discord._commands import settings_text, tune_text


def test_long_text_is_split_at_line_ends_within_discords_limit() -> None:
    lines = [f"line {i:04d} " + "x" * 90 for i in range(60)]
    pieces = chunks("\n".join(lines))
    assert len(pieces) == 4 and all(len(p) <= MESSAGE_LIMIT for p in pieces)
    assert "\n".join(pieces) == "\n".join(lines)
    assert all(p.startswith("line ") for p in pieces)  # no line was cut in two


def test_a_line_longer_than_a_message_is_cut_and_nothing_is_lost() -> None:
    text = "a" * 4500
    pieces = chunks(text)
    assert [len(p) for p in pieces] == [2000, 2000, 500] and "".join(pieces) == text
    assert chunks("") == ["…"]


def test_options_become_command_text() -> None:
    assert tune_text(1.5, None, 0.0, "surprise") == "/tune style=1.5 dislike=0 discovery=surprise"
    assert tune_text(None, None, None, None) == "/tune"
    assert (
        settings_text("Europe/ Berlin", "8:30", False)
        == "/settings tz=Europe/Berlin time=8:30 daily=off"
    )
    assert settings_text(None, None, None) == "/settings"
