"""Cursor pagination: `?limit=` (at most 500) and an opaque `?cursor=` naming the last key seen."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import msgspec

from service.core.errors import invalid_field

MAX_LIMIT = 500
DEFAULT_LIMIT = 100


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None, *kinds: type) -> list[Any] | None:
    """The key a cursor names, each part checked and read as `kinds` says: int (a bigint), Int4,
    str, or dt.date, dt.datetime or uuid.UUID written as text. A cursor is only opaque, not sealed: one
    made by hand answers 422 here rather than reaching the database as a wrong type (a 500)."""
    if not cursor:
        return None
    try:
        key = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, msgspec.DecodeError):
        raise invalid_field("cursor", "分页游标无效") from None
    if not isinstance(key, list) or len(key) != len(kinds):
        raise invalid_field("cursor", "分页游标无效")
    return [_key_part(kind, value) for kind, value in zip(kinds, key, strict=True)]


_BIGINT = range(-(2**63), 2**63)
_PART_CHARACTERS = 200  # the longest key part a page is keyed by (a code, a number, a moment)


class Int4(int):
    """A cursor part keyed by an `integer` column (a line number, a year): within int4, which
    asyncpg refuses to send beyond."""


_INT4 = range(-(2**31), 2**31)
_YEARS = range(1900, 2201)  # a date or moment of the books; year 1 overflows a timestamptz


def _key_part(kind: type, value: Any) -> Any:
    if kind in (int, Int4):
        if isinstance(value, int) and not isinstance(value, bool) and value in (_INT4 if kind is Int4 else _BIGINT):
            return value
    elif isinstance(value, str) and len(value) <= _PART_CHARACTERS and value.isprintable():
        if kind is str:
            return value
        try:
            if kind is uuid.UUID:
                return uuid.UUID(value)
            moment = kind.fromisoformat(value)  # type: ignore[attr-defined]
        except ValueError:
            moment = None
        if moment is not None and moment.year in _YEARS:
            return moment
    raise invalid_field("cursor", "分页游标无效")


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
