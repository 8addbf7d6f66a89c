"""Scheduled work: daily picks and nostalgia mixes delivered once per user and day."""
