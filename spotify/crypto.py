"""Tokens at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from the secret key.

A copied database file alone gives away no Spotify access: the token JSON is only ever
stored encrypted, and the key lives in the environment (``WAVELENGTH_SECRET_KEY``) or, in
development, in a 0600 file in the data home.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from pathlib import Path

MIN_SECRET_CHARS = 32
_SALT = b"wavelength/spotify-tokens/v1"


class UnreadableToken(Exception):
    """The ciphertext was not made with this key (the secret key changed) or is damaged."""


class TokenBox:
    """Encrypts token dicts to text and back."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"the secret key needs at least {MIN_SECRET_CHARS} characters")
        # HKDF turns any long random string into the 32-byte key Fernet wants, and the salt
        # keeps this key apart from anything else the same secret may protect later.
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=b"fernet").derive(
            secret.encode("utf-8")
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, token: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(token, sort_keys=True).encode("utf-8")).decode(
            "ascii"
        )

    def open(self, sealed: str) -> dict[str, Any]:
        try:
            value = json.loads(self._fernet.decrypt(sealed.encode("ascii")))
        except (InvalidToken, ValueError) as exc:
            raise UnreadableToken("the stored Spotify token can't be decrypted") from exc
        if not isinstance(value, dict):
            raise UnreadableToken("the stored Spotify token is not a token")
        return value


def new_secret() -> str:
    """A fresh secret key (what the README tells self-hosters to generate)."""
    return secrets.token_urlsafe(48)


def development_secret(path: Path) -> str:
    """The secret kept in ``path`` (created 0600 on first use) for development installs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once can't both write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)  # readable by others: tighten rather than refuse in development
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        secret = new_secret()
        out.write(secret + "\n")
    return secret
