"""Chat frontends and the platform-neutral conversation engine they share."""

from bot.conversation import CatalogStats, Conversation, Reply

__all__ = ["CatalogStats", "Conversation", "Reply"]
