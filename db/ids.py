"""Ids as they arrive from outside (paths, bodies, files): a uuid, or None when it is not one.

A malformed id is answered like an unknown one, so callers need no second error path.
"""

from __future__ import annotations

import uuid

import asyncpg


def as_uuid(value: str | uuid.UUID | None) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


async def county_of(conn: asyncpg.Connection, table: str, key: uuid.UUID) -> str | None:
    """The county of a row known by its id alone (a URL's). Ids carry no county, so on a cluster
    this probe asks every shard (an index lookup each); the statements after it name the county and
    go to one shard (docs/scale-out.md, "Routing"). `table` is one of the service's, never input."""
    county: str | None = await conn.fetchval(f"SELECT county_code FROM {table} WHERE id = $1", key)
    return county


async def row_for_update(conn: asyncpg.Connection, table: str, key: uuid.UUID) -> asyncpg.Record | None:
    """A row known by its id alone, under its row lock. The lock is taken by county and id: a
    cluster locks rows on one shard only."""
    county = await county_of(conn, table, key)
    if county is None:
        return None
    return await conn.fetchrow(f"SELECT * FROM {table} WHERE county_code = $1 AND id = $2 FOR UPDATE", county, key)
