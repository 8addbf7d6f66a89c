"""The Telegram frontend: python-telegram-bot over the shared ChatEngine."""

from bot.telegram._app import ALLOWED_UPDATES, PerChatOrder, TelegramFrontend, Webhook, run_telegram
from bot.telegram._limiter import ChatRateLimiter, RateLimits

__all__ = [
    "ALLOWED_UPDATES",
    "ChatRateLimiter",
    "PerChatOrder",
    "RateLimits",
    "TelegramFrontend",
    "Webhook",
    "run_telegram",
]
