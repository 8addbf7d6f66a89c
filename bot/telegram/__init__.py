"""The Telegram frontend: python-telegram-bot over the shared ChatEngine."""

from bot.telegram._app import ALLOWED_UPDATES, TelegramFrontend, Webhook, run_telegram
from bot.telegram._limiter import ChatRateLimiter, RateLimits
from bot.telegram._order import PerChatOrder
from bot.telegram._outbox import TelegramOutbox
from bot.telegram._sender import TelegramSender, run_telegram_sender

__all__ = [
    "ALLOWED_UPDATES",
    "ChatRateLimiter",
    "PerChatOrder",
    "RateLimits",
    "TelegramFrontend",
    "TelegramOutbox",
    "TelegramSender",
    "Webhook",
    "run_telegram",
    "run_telegram_sender",
]
