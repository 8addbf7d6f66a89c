"""Keep the bot token out of the logs.

The token is part of every Bot API URL, and URLs get logged: httpx logs each request at INFO,
PTB logs its base URL at DEBUG when the bot is built, network errors can carry the URL.
Whoever holds the token controls the bot, so every record from the libraries that see it is
scrubbed before any handler formats it.
"""

from __future__ import annotations

import logging

# Loggers whose records may hold a Bot API URL (children included).
WATCHED = ("telegram", "httpx", "httpcore", "bot.telegram", "aiohttp", "asyncio")
REDACTED = "<telegram-token>"


class RedactSecrets(logging.Filter):
    """Replaces each known secret in a record's message and traceback."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, token: str) -> None:
        # The part after the bot id is the secret; alone it is as good as the whole token.
        self._secrets.update(s for s in (token, token.split(":", 1)[-1]) if len(s) >= 8)

    def _scrub(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self._scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            # Formatter reuses exc_text when set, so the traceback is rendered scrubbed.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
        return True


_SCRUBBER = RedactSecrets()


def guard(token: str) -> None:
    """Scrub ``token`` from every logger that may see it, for the life of the process.
    Logger filters only see records logged on that very logger, hence each one; call this
    before the bot is built (PTB logs the URL then)."""
    _SCRUBBER.add(token)
    names = set(WATCHED) | {
        name
        for name in logging.Logger.manager.loggerDict
        if any(name.startswith(prefix + ".") for prefix in WATCHED)
    }
    for name in sorted(names):
        logging.getLogger(name).addFilter(_SCRUBBER)  # no-op when already there
