"""Thin Telegram handlers: an update becomes one ChatEngine call, its replies messages.

Failures of the platform never end a handler badly: a chat that blocked the bot is marked
unreachable (no more messages are tried), any other Bot API error is logged and the rest of
the reply still goes out.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    MessageReactionUpdated,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    MessageReactionHandler,
    filters,
)

from bot.chat import Where, Who, reaction_of
from bot.telegram import _render as tr
from wavelength.domain import Reaction

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Sequence

    from telegram import Bot
    from telegram.ext import Application

    from bot.chat import ChatEngine
    from bot.conversation import Reply
    from bot.gate import SendGate

log = logging.getLogger(__name__)
PLATFORM = "telegram"
GONE = "That card isn't playing any more; say /next for fresh ones."
OLD_BUTTON = "That button is from an older version of me; say /next for fresh cards."
TEXT_ONLY = 'I read text: describe a mood ("rainy sunday jazz") or type /help.'
Context = ContextTypes.DEFAULT_TYPE


class Unreachable(Exception):
    """The chat can't be written to (blocked, kicked); stop sending there."""


def who_of(user: User) -> Who:
    return Who(PLATFORM, str(user.id), user.full_name or user.username)


def where_of(message: MaybeInaccessibleMessage | MessageReactionUpdated) -> Where:
    return Where(PLATFORM, str(message.chat.id), str(message.message_id))


class Sender:
    """Sends replies into one chat.

    Answering someone, a refused message is logged and skipped so the rest of the reply
    still goes out, and a private chat that blocked the bot is marked unreachable. Writing
    first (``strict``: the outbox's scheduled messages) every refusal ends the send and is
    raised, for the caller to report; a blocked or unknown chat as ``Unreachable``. A
    ``gate`` goes with every request to the rate limiter, which opens it as the request
    leaves (``bot.gate``).
    """

    def __init__(
        self,
        bot: Bot,
        engine: ChatEngine,
        who: Who,
        chat: Chat,
        *,
        strict: bool = False,
        gate: SendGate | None = None,
    ) -> None:
        self._bot, self._engine, self._who, self._chat = bot, engine, who, chat
        self._strict = strict
        # PTB's per-call argument for the rate limiter (an ExtBot with ours takes it).
        self._limiter_args: dict[str, Any] = {} if gate is None else {"rate_limit_args": gate}
        self.sent = 0  # messages that went out

    async def typing(self) -> None:
        """Best effort: "typing…" while the engine works; a refusal shows with the reply."""
        try:
            await self._bot.send_chat_action(chat_id=self._chat.id, action=ChatAction.TYPING)
        except TelegramError as exc:
            log.debug("no typing indicator in chat %s: %s", self._chat.id, exc)

    async def replies(self, replies: Sequence[Reply], *, reply_to: int | None = None) -> None:
        for reply in replies:
            if reply.image is not None:
                # With cards the text is the batch's header, which goes above them instead.
                await self.photo(reply.image, "" if reply.batch else reply.text, reply_to=reply_to)
                reply_to = None
            if reply.batch is not None:
                await self.batch(reply, reply_to=reply_to)
            elif reply.image is None:
                await self.text(reply.text, reply_to=reply_to)
            reply_to = None  # only the first message answers the trigger

    async def photo(self, png: bytes, text: str, *, reply_to: int | None = None) -> None:
        """A picture with ``text`` as its caption; what the caption can't hold follows as
        text. A refused picture (answering someone) still leaves them the text."""
        caption, rest = tr.caption(text)
        sent = await self._send(
            self._bot.send_photo,
            photo=png,
            filename="wavelength.png",
            caption=caption or None,
            reply_parameters=_reply(reply_to),
        )
        if sent is None:
            rest = text
        if rest.strip():
            await self.text(rest, reply_to=reply_to if sent is None else None)

    async def text(
        self, text: str, *, reply_to: int | None = None, markup: InlineKeyboardMarkup | None = None
    ) -> Message | None:
        """``text`` in as many messages as it takes; the buttons go under the last one."""
        pieces = tr.chunks(text) or ["…"]
        sent = None
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            sent = await self._send(
                self._bot.send_message,
                text=piece,
                reply_markup=markup if last else None,
                reply_parameters=_reply(reply_to),
            )
            reply_to = None
        return sent

    async def batch(self, reply: Reply, *, reply_to: int | None = None) -> None:
        """A header, one message per card with its buttons, then the engine learns where
        each card is (so reactions to it find the track, after a restart too)."""
        assert reply.batch is not None
        await self.text(tr.batch_header(reply), reply_to=reply_to)
        posted = []
        try:
            for card in reply.batch.cards:
                message = await self.text(tr.card_message(card), markup=tr.keyboard())
                if message is not None:
                    posted.append((where_of(message), card))
        finally:
            # Also when a later card failed: the cards that did go out take reactions.
            if posted:
                await self._engine.posted(self._who, reply.batch, posted)

    async def _send(
        self, method: Callable[..., Awaitable[Message]], **kwargs: Any
    ) -> Message | None:
        try:
            message = await method(chat_id=self._chat.id, **kwargs, **self._limiter_args)
        except Forbidden as exc:
            log.info("chat %s can't be written to: %s", self._chat.id, exc)
            if self._chat.type == ChatType.PRIVATE and not self._strict:
                await self._engine.unreachable(self._who)
            raise Unreachable from exc
        except TelegramError as exc:
            if self._strict:
                if isinstance(exc, BadRequest) and _no_such_chat(exc):
                    raise Unreachable from exc
                raise
            log.warning("Telegram refused a message to chat %s: %s", self._chat.id, exc)
            return None
        self.sent += 1
        return message


class Handlers:
    """The Application's handlers over one ChatEngine."""

    def __init__(self, engine: ChatEngine) -> None:
        self._engine = engine

    def install(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        new = filters.UpdateType.MESSAGE
        application.add_handler(MessageHandler(new & filters.TEXT, self.on_text))
        application.add_handler(
            MessageHandler(new & filters.ChatType.PRIVATE & ~filters.TEXT, self.on_other)
        )
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageReactionHandler(self.on_reaction))
        application.add_error_handler(self.on_error)

    async def on_text(self, update: Update, context: Context) -> None:
        """Anything typed (commands included; the engine parses "/radio@bot") → replies."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None or user.is_bot:
            return
        who = who_of(user)
        out = Sender(context.bot, self._engine, who, message.chat)
        try:
            await out.typing()
            replies = await self._engine.handle(who, message.text)
            group = message.chat.type != ChatType.PRIVATE
            await out.replies(replies, reply_to=message.message_id if group else None)
        except Unreachable:
            return

    async def on_other(self, update: Update, context: Context) -> None:
        """A sticker, photo or voice note in a private chat: say what works."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or user.is_bot:
            return
        out = Sender(context.bot, self._engine, who_of(user), message.chat)
        try:
            await out.text(TEXT_ONLY)
        except Unreachable:
            return

    async def on_button(self, update: Update, context: Context) -> None:
        """A card's button: a reaction (pressed again: taken back) or "why"."""
        query = update.callback_query
        if query is None:
            return
        message = query.message
        if message is None:  # inline-mode messages are not ours
            await _answer(query, OLD_BUTTON)
            return
        who = who_of(query.from_user)
        where = where_of(message)
        out = Sender(context.bot, self._engine, who, message.chat)
        try:
            if query.data == tr.WHY:
                await self._why(query, out, where, message.message_id)
                return
            reaction = tr.reaction_of_data(query.data)
            if reaction is None:
                await _answer(query, OLD_BUTTON)
                return
            await self._button_reaction(query, out, who, where, reaction)
        except Unreachable:
            return

    async def _why(self, query: CallbackQuery, out: Sender, where: Where, card: int) -> None:
        reply = await self._engine.why(who_of(query.from_user), where)
        await _answer(query, "❓ Here's why, below the card." if reply else GONE)
        if reply is not None:
            await out.text(reply.text, reply_to=card)

    async def _button_reaction(
        self, query: CallbackQuery, out: Sender, who: Who, where: Where, reaction: Reaction
    ) -> None:
        message = query.message
        assert message is not None
        shown = _shown(message, who)
        taking_back = shown is reaction
        if taking_back:
            reply = await self._engine.unreact(who, where, reaction)
        else:
            reply = await self._engine.react(who, where, reaction)
        if reply is None:
            await _answer(query, GONE)
            return
        await _answer(query, reply.text)
        await _show(query, who, None if taking_back else reaction)
        if reply.batch is not None:
            await out.batch(reply)

    async def on_reaction(self, update: Update, context: Context) -> None:
        """A native reaction changed on a message: new ones teach, removed ones are undone."""
        change = update.message_reaction
        if change is None or change.user is None:  # anonymous admins react as the chat
            return
        who = who_of(change.user)
        where = where_of(change)
        old, new = _reactions(change.old_reaction), _reactions(change.new_reaction)
        last: Reply | None = None
        for reaction in old - new:
            last = await self._engine.unreact(who, where, reaction) or last
        for reaction in new - old:
            last = await self._engine.react(who, where, reaction) or last
        # The reaction itself shows under the card; in a private chat say what it did, in a
        # group that would be a message per reaction for everyone.
        if last is not None and change.chat.type == ChatType.PRIVATE:
            try:
                await Sender(context.bot, self._engine, who, change.chat).text(
                    last.text, reply_to=change.message_id
                )
            except Unreachable:
                return

    async def on_error(self, update: object, context: Context) -> None:
        """The last resort: whatever escaped a handler is logged, and polling goes on."""
        error = context.error
        if isinstance(error, TelegramError):
            log.warning("Telegram error outside a handler: %s", error)
        else:
            log.error("handler failed", exc_info=error)


# How Telegram says a user id names no chat the bot may open: they never started the bot, or
# the account is gone (a blocked bot or a deactivated account is a 403 instead).
_NO_SUCH_CHAT = ("chat not found", "user not found", "peer_id_invalid", "user_id_invalid")


def _no_such_chat(exc: BadRequest) -> bool:
    return any(phrase in exc.message.lower() for phrase in _NO_SUCH_CHAT)


def _reply(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


def _reactions(types: Iterable[object]) -> set[Reaction]:
    found = (reaction_of(t.emoji) for t in types if isinstance(t, ReactionTypeEmoji))
    return {r for r in found if r is not None}


async def _answer(query: CallbackQuery, text: str) -> None:
    try:
        await query.answer(tr.toast(text))
    except TelegramError as exc:  # too late (Telegram waits ~15 s) or already answered
        log.info("callback answer not delivered: %s", exc)


def _shown(message: object, who: Who) -> Reaction | None:
    """The reaction this card shows for ``who`` (read from the message, no state kept)."""
    if not isinstance(message, Message):
        return None
    if message.chat.type == ChatType.PRIVATE:
        return tr.ticked(message.reply_markup)
    return tr.reactions_line(message.text or "").get(tr.display_name(who))


async def _show(query: CallbackQuery, who: Who, reaction: Reaction | None) -> None:
    """Tick the button (private chat) or list who reacted how (group) under the card."""
    message = query.message
    if not isinstance(message, Message):
        return  # too old to be shown (Telegram gives no content after 48 hours)
    try:
        if message.chat.type == ChatType.PRIVATE:
            await message.edit_reply_markup(tr.keyboard(reaction))
        else:
            text = tr.with_reaction(message.text or "", tr.display_name(who), reaction)
            await message.edit_text(text, reply_markup=message.reply_markup)
    except TelegramError as exc:  # "not modified" and friends: the toast said it already
        log.info("card %s not updated: %s", message.message_id, exc)
