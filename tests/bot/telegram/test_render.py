"""Telegram's shapes for replies: pieces under the length limit, buttons that show the
reaction, and the reactions line group cards carry."""

from __future__ import annotations

from bot.chat import Who
from bot.telegram import _render as tr
from wavelength.domain import Reaction


def test_long_text_is_split_at_line_ends_under_the_limit() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(120)]  # ~12k characters
    pieces = tr.chunks("\n".join(lines))
    assert len(pieces) == 3 and all(len(p) <= tr.MAX_TEXT for p in pieces)
    assert "\n".join(pieces).splitlines() == lines  # nothing lost, no line cut
    assert tr.chunks("y" * 5000) == ["y" * 4096, "y" * 904]  # no line end: a hard cut
    assert tr.chunks("  \n ") == []


def test_lengths_count_as_telegram_counts_them_in_utf16_units() -> None:
    assert tr.units("a😀é") == 4  # the emoji is a surrogate pair
    pieces = tr.chunks("😀" * 3000)  # 3000 characters, 6000 units: too long for one
    assert [len(p) for p in pieces] == [2048, 952]
    assert tr.caption("short one ") == ("short one", "")
    caption, rest = tr.caption("🗺 legend " * 150)  # 1500 characters, 1650 units
    assert tr.MAX_CAPTION - 10 < tr.units(caption) <= tr.MAX_CAPTION
    assert f"{caption} {rest}" == ("🗺 legend " * 150).strip()  # cut at a space, nothing lost
    assert tr.caption("") == ("", "")


def test_toasts_fit_the_callback_answer_limit() -> None:
    assert tr.toast("short") == "short"
    long = tr.toast("word " * 100)
    assert len(long) <= tr.MAX_TOAST and long.endswith("…")


def test_the_keyboard_ticks_the_chosen_reaction_and_reads_it_back() -> None:
    plain = tr.keyboard()
    assert [b.text for b in plain.inline_keyboard[0]] == ["👍", "👎", "⏭", "❤️", "❓"]
    assert all(len(b.callback_data.encode()) <= 64 for b in plain.inline_keyboard[0])
    assert tr.ticked(plain) is None
    loved = tr.keyboard(Reaction.LOVE)
    assert [b.text for b in loved.inline_keyboard[0]][3] == "❤️ ✓"
    assert tr.ticked(loved) is Reaction.LOVE
    assert tr.reaction_of_data("r:skip") is Reaction.SKIP
    assert tr.reaction_of_data("r:nonsense") is None and tr.reaction_of_data(None) is None


def test_group_cards_list_who_reacted_how() -> None:
    card = '1. Song — Artist (1999)\nmatches "jazz"'
    one = tr.with_reaction(card, "Ana", Reaction.LIKE)
    assert one == card + "\n\nReactions: 👍 Ana"
    two = tr.with_reaction(one, "Bo Li", Reaction.DISLIKE)
    assert tr.reactions_line(two) == {"Ana": Reaction.LIKE, "Bo Li": Reaction.DISLIKE}
    changed = tr.with_reaction(two, "Ana", Reaction.LOVE)
    assert tr.reactions_line(changed) == {"Bo Li": Reaction.DISLIKE, "Ana": Reaction.LOVE}
    assert tr.with_reaction(tr.with_reaction(changed, "Ana", None), "Bo Li", None) == card
    assert tr.display_name(Who("telegram", "1", "A · B")) == "A - B"
    assert tr.display_name(Who("telegram", "1", None)) == "someone"
