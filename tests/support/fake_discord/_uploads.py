"""Request bodies as Discord reads them: JSON, or multipart/form-data with a ``payload_json``
part and ``files[n]`` parts (https://discord.com/developers/docs/reference#uploading-files);
and the attachments Discord makes of the files."""

from __future__ import annotations

import json
import mimetypes
import re
import struct
from collections.abc import Sequence
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.hdrs import CONTENT_TYPE

from tests.support.fake_discord._wire import (
    ALT_TEXT_LIMIT,
    FILE_SIZE_LIMIT,
    MAX_FILES,
    Json,
    Upload,
)

_FILE_FIELD = re.compile(r"^files\[(\d+)\]$")
_PNG = b"\x89PNG\r\n\x1a\n"


class BadBody(ValueError):
    """A body Discord can't read (400 50109)."""


async def read_body(request: web.Request) -> tuple[Any, list[Upload]]:
    """The JSON payload and the uploaded files of ``request``."""
    if not request.can_read_body:
        return None, []
    if request.content_type != "multipart/form-data":
        try:
            return await request.json(), []
        except ValueError as exc:
            raise BadBody(str(exc)) from exc
    payload: Json = {}
    files: list[Upload] = []
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue  # nested multiparts and nameless parts: Discord ignores them
        if part.filename is not None:
            data = bytes(await part.read(decode=True))
            files.append(Upload(part.name, part.filename, part.headers.get(CONTENT_TYPE), data))
        elif part.name == "payload_json":
            try:
                payload = {**payload, **json.loads(await part.text())}
            except ValueError as exc:
                raise BadBody(str(exc)) from exc
        else:
            payload[part.name] = await part.text()  # JSON params may come as form fields too
    return payload, files


def upload_problem(files: Sequence[Upload]) -> tuple[int, int, str] | None:
    """Status, code and message when Discord refuses the files themselves."""
    if len(files) > MAX_FILES:
        return 400, 50035, f"Invalid Form Body: files: Must be {MAX_FILES} or fewer in length."
    if any(len(f.data) > FILE_SIZE_LIMIT for f in files):
        return 413, 40005, "Request entity too large"
    return None


def attachment_problem(
    body: Json, files: Sequence[Upload], *, existing: Sequence[Json] = ()
) -> str | None:
    """``attachments`` entries must point at an uploaded ``files[n]`` or, in an edit, at an
    attachment the message has; alt text is limited."""
    known = {f"files[{i}]" for i in range(len(files))} | {f.field for f in files}
    kept = {str(a["id"]) for a in existing}
    for i, entry in enumerate(body.get("attachments") or []):
        if not isinstance(entry, dict) or "id" not in entry:
            return f"attachments.{i}.id: This field is required"
        if len(entry.get("description") or "") > ALT_TEXT_LIMIT:
            return f"attachments.{i}.description: Must be {ALT_TEXT_LIMIT} or fewer in length."
        if f"files[{entry['id']}]" not in known and str(entry["id"]) not in kept:
            return f"attachments.{i}.id: Unknown attachment {entry['id']}"
    return None


def describe_files(body: Json, files: Sequence[Upload]) -> list[tuple[Upload, Json]]:
    """Each uploaded file with what the payload says about it (filename, description)."""
    entries = {str(e["id"]): e for e in body.get("attachments") or [] if isinstance(e, dict)}
    described = []
    for n, upload in enumerate(files):
        match = _FILE_FIELD.match(upload.field)
        key = match.group(1) if match else str(n)
        described.append((upload, entries.get(key, {})))
    return described


def attachment(upload: Upload, entry: Json, *, aid: int, url: str, ephemeral: bool) -> Json:
    """The attachment object Discord returns for an upload: the type sniffed from the bytes,
    a PNG's size read from its header."""
    filename = str(entry.get("filename") or upload.filename)
    data: Json = {
        "id": str(aid),
        "filename": filename,
        "size": len(upload.data),
        "url": url,
        "proxy_url": url,
        "content_type": _content_type(upload.data, filename),
    }
    if upload.data.startswith(_PNG) and len(upload.data) >= 24:
        data["width"], data["height"] = struct.unpack(">II", upload.data[16:24])
    if entry.get("description"):
        data["description"] = entry["description"]
    if ephemeral:
        data["ephemeral"] = True
    return data


def _content_type(data: bytes, filename: str) -> str:
    if data.startswith(_PNG):
        return "image/png"
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
