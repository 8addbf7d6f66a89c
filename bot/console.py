"""The console chat: the first frontend of the conversation engine, for a terminal."""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from bot.conversation import Conversation
    from wavelength.domain import UserId

QUIT = frozenset({"/quit", "/exit", "/q"})


def _save_image(png: bytes) -> str:
    """A terminal can't show the taste map; it goes to a file the user can open."""
    with tempfile.NamedTemporaryFile(prefix="wavelength-taste-", suffix=".png", delete=False) as f:
        f.write(png)
    return f.name


def run_console(conversation: Conversation, stdin: TextIO, stdout: TextIO, *, user: UserId) -> None:
    """Read lines until EOF or /quit, printing the engine's replies to each."""
    interactive = stdin.isatty()
    stdout.write("Wavelength console. Type /help for commands, /quit to leave.\n")
    while True:
        if interactive:
            stdout.write("you> ")
        stdout.flush()
        try:
            line = stdin.readline()
        except UnicodeDecodeError:
            stdout.write(
                "wavelength> I couldn't read that line (it isn't valid text). Try again.\n"
            )
            continue
        if not line:
            break
        if line.strip().lower() in QUIT:
            break
        for reply in conversation.handle(user, line.rstrip("\n")):
            text = reply.text
            if reply.image is not None:
                text += f"\n(the picture is in {_save_image(reply.image)})"
            stdout.write(f"wavelength> {text}\n\n")
    stdout.write("Bye.\n")
    stdout.flush()
