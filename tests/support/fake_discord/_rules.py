"""Discord's answers and validation rules: the parts a bot can trip over."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tests.support.fake_discord._wire import Json

_NAME = re.compile(r"^[-_\w]{1,32}$")


def respond(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response with Discord's exact content type (discord.py compares it verbatim;
    aiohttp's json_response would add "; charset=utf-8")."""
    body = json.dumps(data).encode()
    return web.Response(
        body=body, status=status, headers={**(headers or {}), "Content-Type": "application/json"}
    )


def error(status: int, code: int, message: str) -> web.Response:
    return respond({"message": message, "code": code}, status=status)


def too_many(retry_after: float, *, is_global: bool) -> web.Response:
    headers = {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Scope": "global" if is_global else "user",
        "Via": "1.1 google",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    body = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }
    return respond(body, status=429, headers=headers)


def message_problem(body: Json, *, edit: bool = False, files: int = 0) -> str | None:
    """What Discord finds wrong with a message body carrying ``files`` uploads."""
    content = body.get("content") or ""
    embeds = body.get("embeds") or []
    if not edit and not content and not embeds and not files:
        return "Cannot send an empty message (50006)"
    if len(content) > 2000:
        return "content: Must be 2000 or fewer in length."
    if len(embeds) > 10:
        return "embeds: Must be 10 or fewer in length."
    total = 0
    for embed in embeds:
        title, description = embed.get("title") or "", embed.get("description") or ""
        fields = embed.get("fields") or []
        footer = (embed.get("footer") or {}).get("text") or ""
        if len(title) > 256 or len(description) > 4096 or len(fields) > 25 or len(footer) > 2048:
            return "embeds: a title, description, footer or field list is too long"
        for f in fields:
            if not f.get("name") or not f.get("value"):
                return "embeds.fields: name and value are required"
            if len(f["name"]) > 256 or len(f["value"]) > 1024:
                return "embeds.fields: name or value too long"
            total += len(f["name"]) + len(f["value"])
        total += len(title) + len(description) + len(footer)
    if total > 6000:
        return "embeds: Embed size exceeds maximum size of 6000"
    return None


def command_problem(commands: Any) -> str | None:
    if not isinstance(commands, list) or len(commands) > 100:
        return "a list of at most 100 commands"
    seen = set()
    for command in commands:
        name, kind = command.get("name", ""), command.get("type", 1)
        if (name, kind) in seen:
            return f"duplicate command {name}"
        seen.add((name, kind))
        if kind == 1:
            if not _NAME.match(name) or name != name.lower():
                return f"command name {name!r}"
            if not 1 <= len(command.get("description", "")) <= 100:
                return f"description of /{name} must be 1-100 characters"
        elif not 1 <= len(name) <= 32:
            return f"context menu name {name!r}"
        options = command.get("options") or []
        if len(options) > 25:
            return f"/{name} has more than 25 options"
        optional_seen = False
        for option in options:
            oname = option.get("name", "")
            if not _NAME.match(oname) or oname != oname.lower():
                return f"option name {oname!r} of /{name}"
            if not 1 <= len(option.get("description", "")) <= 100:
                return f"description of option {oname} of /{name}"
            if option.get("required"):
                if optional_seen:
                    return f"required option {oname} of /{name} after an optional one"
            else:
                optional_seen = True
            if option.get("choices") and option.get("autocomplete"):
                return f"option {oname} of /{name} has both choices and autocomplete"
            if problem := choices_problem(option.get("choices") or []):
                return problem
    return None


def refused_by_client(command: Json, options: Mapping[str, object]) -> None:
    """Discord's own app checks options against the registered command before anything is
    sent: a test that asks for what no person could send is a mistake in the test."""
    schema = {o["name"]: o for o in command.get("options", [])}
    for name, spec in schema.items():
        if spec.get("required") and name not in options:
            raise ValueError(f"/{command['name']}: {name} is required")
    for name, value in options.items():
        spec = schema.get(name)
        if spec is None:
            raise ValueError(f"/{command['name']} has no option {name}")
        wanted = {3: str, 4: int, 5: bool, 10: (int, float)}[spec["type"]]
        if not isinstance(value, wanted) or (spec["type"] != 5 and isinstance(value, bool)):
            raise ValueError(f"/{command['name']} {name}: {value!r} is not of type {spec['type']}")
        if isinstance(value, str):
            if not spec.get("min_length", 0) <= len(value) <= spec.get("max_length", 6000):
                raise ValueError(f"/{command['name']} {name}: length {len(value)} out of range")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            low, high = spec.get("min_value", -math.inf), spec.get("max_value", math.inf)
            if not low <= value <= high:
                raise ValueError(f"/{command['name']} {name}: {value} out of range")
        if spec.get("choices") and value not in [c["value"] for c in spec["choices"]]:
            raise ValueError(f"/{command['name']} {name}: {value!r} is not a choice")


def choices_problem(choices: Any) -> str | None:
    if not isinstance(choices, list) or len(choices) > 25:
        return "choices: Must be 25 or fewer in length."
    for choice in choices:
        if not 1 <= len(str(choice.get("name", ""))) <= 100:
            return "choices.name: Must be between 1 and 100 in length."
        if isinstance(choice.get("value"), str) and len(choice["value"]) > 100:
            return "choices.value: Must be 100 or fewer in length."
    return None
