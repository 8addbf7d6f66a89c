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

MAX_TEXT = 4096  # Telegram's limit for one message
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


def chunks(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces Telegram accepts, split at line ends where possible."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


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
