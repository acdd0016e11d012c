"""Cursor pagination: `?limit=` (at most 500) and an opaque `?cursor=` naming the last key seen."""

from __future__ import annotations

import base64
from typing import Any

import msgspec

from service.core.errors import invalid_field

MAX_LIMIT = 500
DEFAULT_LIMIT = 100


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        key = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, msgspec.DecodeError):
        raise invalid_field("cursor", "分页游标无效") from None
    if not isinstance(key, list) or len(key) != arity:
        raise invalid_field("cursor", "分页游标无效")
    return key


def page_of(rows: list[Any], limit: int, key_of) -> tuple[list[Any], str | None]:
    """Rows fetched with LIMIT limit+1: the extra row only says whether another page exists."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(key_of(rows[-1]))
    return rows, None


def checked_limit(limit: int) -> int:
    """A page size within 1 to MAX_LIMIT, for callers that do not come through a route's checks."""
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid_field("limit", f"每页条数应在1至{MAX_LIMIT}之间")
    return limit
