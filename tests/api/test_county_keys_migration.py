"""Migration 0016 on a database the demo has populated: the demo's rows (copied, as stored, into a
database migrated up to 0015) come through unchanged, the 14 global unique indexes the issue names
are gone, every household number is in household_numbers, households still sign in, and the ledger
and the audit chain verify, also after rows appended under the new chain lock."""

from __future__ import annotations

import io
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from db.distribution import OWN_KEY_TABLES, REFERENCE_TABLES
from db.migrate import MIGRATIONS_DIR, migrate
from db.pool import Connection, connect
from service.core.audit import verify_chain
from service.ledger.workflow import verify_ledger
from tests.api.test_county_keys import UNIQUE_KEYS
from tests.conftest import SERVER_URL, _admin_conn, _api
from tests.database import with_database

GLOBAL_UNIQUE = {
    "households_household_no",
    "households_id",
    "ventures_id",
    "venture_members_id",
    "venture_members_household",
    "venture_members_collective",
    "farming_contracts_id",
    "farming_settlements_id",
    "award_programs_id",
    "award_applications_id",
    "notices_id",
    "objections_id",
    "payment_batches_id",
    "distributions_id",
}

TABLES = """SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
            AND c.relkind = 'r' AND c.relname <> 'schema_migrations' ORDER BY 1"""


async def _stored_columns(conn: asyncpg.Connection, table: str) -> list[str]:
    """The columns a COPY can write (not the generated ones), in table order."""
    return [
        r["attname"]
        for r in await conn.fetch(
            """SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0
               AND NOT attisdropped AND attgenerated = '' ORDER BY attnum""",
            table,
        )
    ]


async def _copy_demo(source: asyncpg.Connection, target: asyncpg.Connection) -> list[str]:
    """Every table both have (the source is at the latest migration, which may have dropped one),
    row for row as the source stores it, triggers and checks off."""
    kept = {r["relname"] for r in await source.fetch(TABLES)}
    tables = [r["relname"] for r in await target.fetch(TABLES) if r["relname"] in kept]
    await target.execute("SET session_replication_role = replica")
    for table in tables:
        columns = await _stored_columns(target, table)
        data = io.BytesIO()
        await source.copy_from_table(table, columns=columns, output=data, format="binary")
        data.seek(0)
        await target.copy_to_table(table, source=data, columns=columns, format="binary")
    await target.execute("SET session_replication_role = DEFAULT")
    return tables


async def _keys_without_county(conn: asyncpg.Connection) -> set[str]:
    """Unique indexes of county tables that do not lead with county_code."""
    return {
        k["key_name"]
        for k in await conn.fetch(UNIQUE_KEYS)
        if k["table_name"] not in {*REFERENCE_TABLES, *OWN_KEY_TABLES} and k["columns"][0] != "county_code"
    }


async def _digests(conn: asyncpg.Connection, tables: list[str]) -> dict[str, tuple[int, str]]:
    found = {}
    for table in tables:
        row = await conn.fetchrow(
            f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS d FROM {table} t"
        )
        found[table] = (row["n"], row["d"])
    return found


@asynccontextmanager
async def demo_below(demo_db: str, tmp_path: Path, version: int) -> AsyncIterator[tuple[str, Connection, list[str]]]:
    """A new database migrated up to migration `version` (not included), holding the demo's rows as
    stored: yields its URL, a connection to it and the tables copied; dropped afterwards."""
    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(path.name[:4]) < version:
            shutil.copy(path, before / path.name)
    name = f"huinong_t_mig{version}_{uuid.uuid4().hex[:10]}"
    admin = await _admin_conn()
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(SERVER_URL, name)
    try:
        conn = await connect(url)
        try:
            await migrate(conn, before)
            source = await connect(demo_db)
            try:
                tables = await _copy_demo(source, conn)
            finally:
                await source.close()
            yield url, conn, tables
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_0016_keeps_the_demo_and_its_logins(demo_db, tmp_path):
    async with demo_below(demo_db, tmp_path, 16) as (url, conn, tables):
        demo = await _digests(conn, tables)
        assert await _keys_without_county(conn) == GLOBAL_UNIQUE

        assert (await migrate(conn))[0] == "0016_county_keys.sql"  # and any after it

        assert await _digests(conn, tables) == demo
        assert await _keys_without_county(conn) == set()
        numbers = await conn.fetch(
            """SELECT h.household_no FROM households h
               LEFT JOIN household_numbers n ON n.household_no = h.household_no
                   AND n.county_code = h.county_code AND n.household_id = h.id
               WHERE n.household_no IS NULL"""
        )
        assert numbers == [] and demo["households"][0] == await conn.fetchval("SELECT count(*) FROM household_numbers")
        assert (await verify_ledger(conn)).ok
        assert await verify_chain(conn) == []
        await _sign_in_and_write(url)


async def _sign_in_and_write(url: str) -> None:
    """A demo household signs in on the migrated data; a status event written now extends the
    county's chain under the head-row lock, and the chain still verifies with its tail."""
    async for api in _api(url):
        token = await api.household_login("621223100201-001")
        own = await api.household_id("621223100201-001")
        r = await api.client.get(f"/households/{own}/statement?year=2025", headers=token)
        assert r.status_code == 200, r.text
        bad = await api.client.post("/auth/household-token", json={"household_no": "621223100201-001", "pin": "000000"})
        assert bad.status_code == 401
        hid = await api.household_id("621223100201-002")
        r = await api.as_(
            "cunwei",
            "POST",
            f"/households/{hid}/status-events",
            json={"kind": "registered", "year": 2024, "effective_date": "2024-03-01"},
        )
        assert r.status_code == 201, r.text
        conn = await api.connect()
        try:
            assert await verify_chain(conn) == []
            head = await conn.fetchrow("SELECT seq, hash FROM audit_heads WHERE county_code = '621223000000'")
            last = await conn.fetchrow(
                "SELECT seq, hash FROM audit_log WHERE county_code = '621223000000' ORDER BY seq DESC LIMIT 1"
            )
            assert tuple(head) == tuple(last)
        finally:
            await conn.close()
