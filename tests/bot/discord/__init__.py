import warnings

with warnings.catch_warnings():
    # discord.py imports the stdlib's audioop for voice, which warns on Python 3.11-3.12 (and is
    # gone in 3.13, where discord.py does without it). Wavelength has no voice; pytest turns
    # warnings into errors, so the import is made once here, quietly.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401
