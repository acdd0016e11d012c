"""The few statements `python -m service seed-demo --reset` needs beyond the use cases: what the
database holds besides the demo, and dropping the service's schema to build it again."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg


async def public_relations(conn: asyncpg.Connection) -> list[str]:
    """Tables, views and foreign tables of the public schema (indexes and sequences go with them)."""
    rows = await conn.fetch(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname"""
    )
    return [r["relname"] for r in rows]


async def regions_outside(conn: asyncpg.Connection, codes: Sequence[str]) -> list[str]:
    """Up to five regions that are not among `codes`."""
    rows = await conn.fetch("SELECT code FROM regions WHERE NOT code = ANY($1::text[]) ORDER BY code LIMIT 5", codes)
    return [r["code"] for r in rows]


async def drop_public_schema(conn: asyncpg.Connection) -> None:
    """Everything the migrations made goes (the append-only tables refuse DELETE and TRUNCATE)."""
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
