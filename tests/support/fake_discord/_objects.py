"""Messages, reactions, DMs and the guild as the fake stores them and Discord sends them."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from tests.support.fake_discord._uploads import attachment, describe_files
from tests.support.fake_discord._wire import (
    EPHEMERAL,
    FakeInteraction,
    FakeUser,
    Json,
    Upload,
    now_iso,
)


class ObjectsMixin:
    """FakeDiscord's stored objects and their wire forms."""

    def _message(self, request: web.Request) -> Json | None:
        message = self.messages.get(int(request.match_info["mid"]))
        if message is None or message.get("deleted"):
            return None
        if message["channel_id"] != request.match_info["channel_id"]:
            return None
        return message

    def _store_message(
        self,
        channel_id: int,
        body: Json,
        record: FakeInteraction | None,
        *,
        msg_type: int,
        files: Sequence[Upload] = (),
    ) -> Json:
        message: Json = {
            "id": str(self.snowflake()),
            "channel_id": str(channel_id),
            "author": self.bot.payload(),
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "attachments": [],
            "components": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "type": msg_type,
            "flags": int(body.get("flags", 0)),
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "reactions": [],
        }
        if channel_id == self.channel_id:
            message["guild_id"] = str(self.guild_id)
        if record is not None:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
            message["interaction_metadata"] = {
                "id": str(record.id),
                "type": record.type,
                "user": record.user.payload(),
                "authorizing_integration_owners": {"0": str(self.guild_id)},
                "name": record.name,
                "command_type": 1,
            }
        self._attach(message, body, files)
        self.messages[int(message["id"])] = message
        return message

    def _attach(self, message: Json, body: Json, files: Sequence[Upload]) -> None:
        """Discord's attachments for the uploaded ``files``. In an edit, an ``attachments``
        list says which of the message's attachments stay (the rest are removed)."""
        if "attachments" in body:
            listed = {str(e.get("id")) for e in body["attachments"] or []}
            message["attachments"] = [a for a in message["attachments"] if a["id"] in listed]
        ephemeral = bool(int(message.get("flags", 0)) & EPHEMERAL)
        for upload, entry in describe_files(body, files):
            aid = self.snowflake()
            filename = str(entry.get("filename") or upload.filename)
            url = f"{self.cdn_base}/attachments/{message['channel_id']}/{aid}/{filename}"
            self.uploads[aid] = upload.data
            message["attachments"].append(
                attachment(upload, entry, aid=aid, url=url, ephemeral=ephemeral)
            )

    def wire(self, message: Json) -> Json:
        """``message`` as Discord sends it: reactions as counts seen from the bot's side, and
        none of the fake's own bookkeeping."""
        out = {k: v for k, v in message.items() if k not in ("reactions", "deleted")}
        reactions = [r for r in message["reactions"] if r["users"]]
        if reactions:
            out["reactions"] = [
                {
                    "emoji": r["emoji"],
                    "count": len(r["users"]),
                    "count_details": {"burst": 0, "normal": len(r["users"])},
                    "me": self.bot.id in r["users"],
                    "me_burst": False,
                    "burst_colors": [],
                }
                for r in reactions
            ]
        return out

    def _edit(self, message: Json, body: Json, files: Sequence[Upload] = ()) -> None:
        for key in ("content", "embeds"):
            if key in body:
                message[key] = body[key] or ([] if key == "embeds" else "")
        self._attach(message, body, files)

    def _add_reaction(self, message: Json, emoji: str, user_id: int) -> bool:
        entry = next((r for r in message["reactions"] if r["emoji"]["name"] == emoji), None)
        if entry is None:
            entry = {"emoji": {"id": None, "name": emoji}, "users": []}
            message["reactions"].append(entry)
        if user_id in entry["users"]:
            return False
        entry["users"].append(user_id)
        return True

    def _remove_reaction(self, message: Json, emoji: str, user_id: int) -> bool:
        entry = next((r for r in message["reactions"] if r["emoji"]["name"] == emoji), None)
        if entry is None or user_id not in entry["users"]:
            return False
        entry["users"].remove(user_id)
        return True

    def _open_dm(self, user: FakeUser) -> int:
        self._users.setdefault(user.id, user)
        return self.dm_channels.setdefault(user.id, self.snowflake())

    @staticmethod
    def _dm_payload(user: FakeUser, channel_id: int) -> Json:
        return {
            "id": str(channel_id),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [user.payload()],
        }

    def _member(self, user: FakeUser) -> Json:
        return {
            "user": user.payload(),
            "nick": None,
            "avatar": None,
            "roles": [],
            "joined_at": now_iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
        }

    def _text_channel_payload(self) -> Json:
        return {
            "id": str(self.channel_id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": "radio",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def _guild_payload(self) -> Json:
        everyone = {
            "id": str(self.guild_id),
            "name": "@everyone",
            "permissions": "2248473465835073",
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return {
            "id": str(self.guild_id),
            "name": "Listening Room",
            "icon": None,
            "owner_id": str(self.owner.id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": now_iso(),
            "large": False,
            "unavailable": False,
            "member_count": 2,
            "members": [self._member(self.bot)],
            "voice_states": [],
            "presences": [],
            "channels": [self._text_channel_payload()],
            "threads": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
