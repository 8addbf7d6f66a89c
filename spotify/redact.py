"""Keep OAuth secrets out of logs.

spotipy logs every request at DEBUG with its headers (the bearer token) and its body (the
authorization code, the refresh token); urllib3 and aiohttp log request lines with their query
strings (the callback's ``code``). A filter on each of those loggers rewrites the message
before any handler sees it, whatever level a deployment (or a test) turns on.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

_PATTERNS = (
    # Authorization headers: "Bearer <token>", "Basic <base64 client id:secret>".
    re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+"),
    # Secrets as JSON/dict members: 'access_token': '...', "code": "...".
    re.compile(
        r"""(?i)(['"](?:access_token|refresh_token|code|client_secret|state|id_token)['"]\s*:\s*)(['"])[^'"]*"""
    ),
    # ... and as form or query parameters: code=...&state=...
    re.compile(r"(?i)(\b(?:access_token|refresh_token|code|client_secret|state)=)()[^&\s'\"]+"),
)

LOGGERS = (
    "spotipy",
    "spotipy.client",
    "spotipy.oauth2",
    "spotipy.util",
    "urllib3.connectionpool",
    "aiohttp.access",
    "aiohttp.server",
    "aiohttp.web",
    "spotify",
)


def redact(text: str) -> str:
    """``text`` with tokens, codes, states and client secrets replaced by ``[redacted]``."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record's message with ``redact`` (a logger filter, so it runs first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record; leave it to logging's own report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactSecrets()


def install_redaction() -> None:
    """Attach the filter to every logger that could see a secret (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
