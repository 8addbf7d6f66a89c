"""Replies as Telegram messages: plain text (no parse mode, so nothing needs escaping), cards
with an inline keyboard, and the small callback data the buttons carry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import render
from wavelength.domain import Reaction

if TYPE_CHECKING:
    from bot.chat import Who
    from bot.conversation import Reply
    from wavelength.stations import Card

# Telegram counts lengths in UTF-16 code units: an emoji outside the BMP counts twice.
MAX_TEXT = 4096  # Telegram's limit for one message
MAX_CAPTION = 1024  # and for a photo's caption
MAX_TOAST = 200  # and for a callback query answer
WHY = "why"
# Callback data names the reaction only: the card is found by the message it sits under.
BUTTONS: tuple[tuple[str, str], ...] = (
    ("👍", "r:like"),
    ("👎", "r:dislike"),
    ("⏭", "r:skip"),
    ("❤️", "r:love"),
    ("❓", WHY),
)
_REACTION_OF_DATA = {
    "r:like": Reaction.LIKE,
    "r:dislike": Reaction.DISLIKE,
    "r:skip": Reaction.SKIP,
    "r:love": Reaction.LOVE,
}
_DATA_OF_REACTION = {reaction: data for data, reaction in _REACTION_OF_DATA.items()}
CHOSEN = " ✓"
TAP_TO_REACT = (
    "Tap 👍 👎 ⏭ ❤️ under a card (or react to it: 🥱 is skip), ❓ says why. "
    'Say "next" for more, or steer it: "more upbeat", "surprise me".'
)


def reaction_of_data(data: str | None) -> Reaction | None:
    return _REACTION_OF_DATA.get(data or "")


def keyboard(chosen: Reaction | None = None) -> InlineKeyboardMarkup:
    """The card's buttons; the reaction it got is ticked."""
    mark = _DATA_OF_REACTION.get(chosen) if chosen else None
    row = [
        InlineKeyboardButton(label + (CHOSEN if data == mark else ""), callback_data=data)
        for label, data in BUTTONS
    ]
    return InlineKeyboardMarkup([row])


def card_message(card: Card) -> str:
    return "\n".join(line.strip() for line in render.card_text(card).splitlines())


def batch_header(reply: Reply) -> str:
    """The reply's text without the cards (they follow as messages of their own)."""
    assert reply.batch is not None
    text = reply.text
    for card in reply.batch.cards:
        text = text.replace(render.card_text(card) + "\n", "").replace(render.card_text(card), "")
    return text.replace(render.HOW_TO_REACT, TAP_TO_REACT).strip() or render.batch_text(reply.batch)


def toast(text: str) -> str:
    return text if len(text) <= MAX_TOAST else text[: MAX_TOAST - 1].rstrip() + "…"


def units(text: str) -> int:
    """``text``'s length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def chunks(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces Telegram accepts, split at line ends where possible."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        piece, rest = _first_piece(rest, limit)
        pieces.append(piece)
    return pieces


def caption(text: str) -> tuple[str, str]:
    """A photo's caption from ``text``, and what doesn't fit (for a message after it)."""
    return _first_piece(text.strip(), MAX_CAPTION)


def _first_piece(text: str, limit: int) -> tuple[str, str]:
    """The longest start of ``text`` within ``limit`` units, cut at a line end, else at a
    space, else anywhere (never inside a surrogate pair); and the rest, both stripped."""
    if units(text) <= limit:
        return text, ""
    fits, used = 0, 0
    for c in text:
        used += 2 if ord(c) > 0xFFFF else 1
        if used > limit:
            break
        fits += 1
    cut = text.rfind("\n", 0, fits)
    if cut <= 0:
        cut = text.rfind(" ", 0, fits)
    if cut <= 0:
        cut = max(fits, 1)
    return text[:cut].rstrip(), text[cut:].strip()


def ticked(markup: InlineKeyboardMarkup | None) -> Reaction | None:
    """The reaction a card's keyboard shows as chosen."""
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.text.endswith(CHOSEN) and isinstance(button.callback_data, str):
                return reaction_of_data(button.callback_data)
    return None


# In a group the card lists who reacted how, under a blank line:  "👍 Ana · 👎 Bo"
_LINE_PREFIX = "Reactions: "
_REACTION_OF_EMOJI = {emoji: reaction for reaction, emoji in render.EMOJI.items()}


def display_name(who: Who) -> str:
    # "·" separates the entries, so a name can't contain it
    return (who.name or "someone").replace("·", "-").strip() or "someone"


def reactions_line(text: str) -> dict[str, Reaction]:
    _, found, line = text.rpartition("\n\n" + _LINE_PREFIX)
    shown: dict[str, Reaction] = {}
    for entry in line.split(" · ") if found else ():
        emoji, _, name = entry.partition(" ")
        if emoji in _REACTION_OF_EMOJI and name:
            shown[name] = _REACTION_OF_EMOJI[emoji]
    return shown


def with_reaction(text: str, name: str, reaction: Reaction | None) -> str:
    """The card's text with ``name``'s reaction set (None: removed)."""
    body, found, _ = text.rpartition("\n\n" + _LINE_PREFIX)
    shown = reactions_line(text)
    if not found:
        body = text
    shown.pop(name, None)
    if reaction is not None:
        shown[name] = reaction
    line = " · ".join(f"{render.EMOJI[r]} {n}" for n, r in shown.items())
    return body + (f"\n\n{_LINE_PREFIX}{line}" if line else "")
