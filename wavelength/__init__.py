"""Wavelength: a self-hosted conversational radio bot.

This package is the application shell: settings, domain values, the command line and the
composition root. The catalog store lives in ``storage``, file readers in ``ingest``, chat
frontends in ``bot``.
"""

__version__ = "0.1.0"
