"""Queries of backup and restore (service/system/backup.py): the tables and sequences of the
schema, their rows by binary COPY, the figures a manifest records, and the sealed identities a
restore opens again."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine
from typing import Any

import asyncpg

# The migration runner's own table: a restore migrates the empty database first, which fills it.
RUNNER_TABLE = "schema_migrations"


async def tables(conn: asyncpg.Connection) -> list[str]:
    """Every table of the schema but the runner's, by name."""
    rows = await conn.fetch(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> $1 ORDER BY c.relname""",
        RUNNER_TABLE,
    )
    return [r[0] for r in rows]


async def holds_anything(conn: asyncpg.Connection) -> bool:
    """Whether the database has any table, view or sequence of its own (a restore wants none)."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S'))"""
        )
    )


async def migrations(conn: asyncpg.Connection) -> list[tuple[int, str, str]]:
    rows = await conn.fetch(f"SELECT version, name, checksum FROM {RUNNER_TABLE} ORDER BY version")
    return [(r["version"], r["name"], r["checksum"]) for r in rows]


async def sequences(conn: asyncpg.Connection) -> list[tuple[str, int, bool]]:
    """Each sequence of the schema with its last value and whether that value was handed out."""
    names = await conn.fetch("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")
    found = []
    for (name,) in names:
        value, is_called = (await conn.fetch(f'SELECT last_value, is_called FROM "{name}"'))[0]
        found.append((name, value, is_called))
    return found


async def set_sequence(conn: asyncpg.Connection, name: str, value: int, is_called: bool) -> None:
    await conn.execute("SELECT setval($1::regclass, $2, $3)", f'"{name}"', value, is_called)


async def row_count(conn: asyncpg.Connection, table: str) -> int:
    return int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))


async def ledger_checksum(conn: asyncpg.Connection) -> str:
    """An md5 of every journal entry and line, in a fixed order: the books a restore must give back."""
    return str(
        await conn.fetchval(
            """SELECT md5(coalesce(string_agg(e.county_code || ':' || e.id || ':' || e.source_type || ':'
                                              || e.posted_on || ':' || coalesce(e.reverses::text, '') || '|' || l.lines,
                                              ',' ORDER BY e.county_code, e.id), ''))
               FROM journal_entries e
               JOIN LATERAL (SELECT string_agg(line_no || '=' || account_id || '=' || amount_fen || '='
                                               || coalesce(party_id::text, ''), ';' ORDER BY line_no) AS lines
                             FROM journal_lines WHERE county_code = e.county_code AND entry_id = e.id) l ON true"""
        )
    )


async def copy_out(conn: asyncpg.Connection, table: str, sink: Callable[[bytes], Coroutine[Any, Any, None]]) -> None:
    await conn.copy_from_table(table, output=sink, format="binary")


async def copy_in(conn: asyncpg.Connection, table: str, source: AsyncIterable[bytes]) -> None:
    await conn.copy_to_table(table, source=source, format="binary")


async def without_triggers(conn: asyncpg.Connection) -> None:
    """Until the transaction ends, triggers and foreign-key checks do not fire: the rows come back as
    they were dumped (balances, audit heads and counters included), not as new postings. Needs a
    superuser, or on PostgreSQL 15+ `GRANT SET ON PARAMETER session_replication_role`."""
    await conn.execute("SET LOCAL session_replication_role = replica")


async def clear(conn: asyncpg.Connection, table: str) -> None:
    """Rows a migration may have put in a table of the fresh schema (the dump brings its own)."""
    await conn.execute(f'DELETE FROM "{table}"')


async def sealed_identities(conn: asyncpg.Connection) -> AsyncIterator[tuple[str, bytes]]:
    """Every encrypted ID, card and phone number with the context it is sealed under."""
    queries = (
        ("id_number", "SELECT head_id_enc FROM households"),
        ("bank_account", "SELECT bank_account_enc FROM households"),
        ("phone", "SELECT phone_enc FROM households WHERE phone_enc IS NOT NULL"),
        ("bank_account", "SELECT bank_account_enc FROM payment_batch_lines"),
        ("id_number", "SELECT id_number_enc FROM payment_batch_lines"),
    )
    for context, sql in queries:
        async for row in conn.cursor(sql, prefetch=2000):
            yield context, bytes(row[0])
