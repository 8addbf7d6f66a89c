"""Readers for foreign file formats (MPD slices, track CSVs, listening histories) and the
batched, idempotent pipeline that writes what they read into storage."""
