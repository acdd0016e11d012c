"""File uploads at the HTTP edge.

Routes that take a file (imports, return files) accept up to Settings.max_upload_bytes; every
other body is held to Settings.max_body_bytes. A route says it takes a file with opt=UPLOAD, and
create_app gives exactly those routes the larger limit, so the limit lives in one setting.

An upload is read once, by read_upload, into an Upload: the file's name and bytes and the form's
other fields. Its digest (what run_idempotent compares under an Idempotency-Key) is made of those,
never of the raw body, since a client retrying the same file picks a new multipart boundary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler

from service.core.errors import invalid_field
from service.core.intake import LINE_CONTROL

MAX_FILENAME = 255


def kept_filename(name: str | None) -> str | None:
    """An uploaded file's name as it is recorded (imports, bank returns): without control
    characters, which PostgreSQL refuses in text (a NUL) and which no real name holds, and at
    most MAX_FILENAME characters."""
    return None if name is None else LINE_CONTROL.sub("", name)[:MAX_FILENAME]


UPLOAD = {"upload": True}
FILE_FIELD = "file"
_YES = frozenset({"true", "1", "yes", "on", "是"})
_NO = frozenset({"false", "0", "no", "off", "否", ""})


@dataclass(frozen=True)
class Upload:
    filename: str | None
    content: bytes | None  # None: the form had no file under `file`
    fields: tuple[tuple[str, str], ...] = ()

    def field(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)

    @property
    def new_batch(self) -> bool:
        """Whether the clerk says the rows are a new batch (form field new_batch), though the same
        rows were imported before."""
        value = (self.field("new_batch") or "").strip().lower()
        if value in _YES:
            return True
        if value in _NO:
            return False
        raise invalid_field("new_batch", "new_batch 应为 true 或 false")

    def digest(self) -> bytes:
        """What the upload asks for: its fields, the file's name and contents."""
        h = hashlib.sha256()
        for name, value in sorted(self.fields):
            h.update(b"field\x00" + name.encode() + b"\x00" + value.encode() + b"\x00")
        if self.content is not None:
            h.update(b"file\x00" + (self.filename or "").encode() + b"\x00")
            h.update(self.content)
        return h.digest()


async def read_upload(request: Request[Any, Any, Any]) -> Upload:
    """The form of a multipart request, read once. A file handed to the handler as `data` may have
    been read already: it is read again from its start."""
    form = await request.form()
    file: UploadFile | None = None
    fields: list[tuple[str, str]] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name == FILE_FIELD and file is None:
                file = value
            else:
                fields.append((name, f"(file {value.filename})"))
        else:
            fields.append((name, str(value)))
    if file is None:
        return Upload(None, None, tuple(fields))
    await file.seek(0)
    return Upload(kept_filename(file.filename), await file.read(), tuple(fields))


def _handlers(route_handlers: Iterable[Any]) -> Iterable[HTTPRouteHandler]:
    for item in route_handlers:
        if isinstance(item, type) and issubclass(item, Controller):
            yield from (v for v in vars(item).values() if isinstance(v, HTTPRouteHandler))
        elif isinstance(item, HTTPRouteHandler):
            yield item


def apply_upload_limit(route_handlers: Iterable[Any], max_upload_bytes: int) -> None:
    for handler in _handlers(route_handlers):
        if handler.opt.get("upload"):
            handler.request_max_body_size = max_upload_bytes
