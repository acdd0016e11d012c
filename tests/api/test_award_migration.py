"""Migration 0012 on a database that already holds programmes and awards: each level's budget is the
largest-remainder split of the budget, what each level committed is summed from the awards, and
certificate numbers go on from the highest one each county, kind and year has used."""

from __future__ import annotations

import shutil
import uuid

import asyncpg

from db.migrate import MIGRATIONS_DIR, migrate
from db.pool import init_connection
from service.awards.rules import level_split
from tests.conftest import SERVER_URL, _admin_conn
from tests.database import with_database

COUNTY = "621223000000"

# (budget_fen, province_bp, city_bp, county_bp): thirds with their leftover fen, a tie, a zero share.
PROGRAMMES = [(1_000, 3333, 3333, 3334), (1_001, 3333, 3333, 3334), (7, 5000, 5000, 0), (10**15, 3333, 3334, 3333)]


async def test_0012_splits_existing_budgets_and_carries_on_the_numbers(tmp_path):
    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if int(path.name[:4]) < 12:
            shutil.copy(path, before / path.name)
    name = f"huinong_t_mig_{uuid.uuid4().hex[:10]}"
    admin = await _admin_conn()
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        conn = await asyncpg.connect(with_database(SERVER_URL, name))
        try:
            await init_connection(conn)
            await migrate(conn, before)
            ids = await _old_rows(conn)
            assert "0012_award_level_budgets.sql" in await migrate(conn)
            for pid, (budget, *bp) in zip(ids, PROGRAMMES, strict=True):
                row = await conn.fetchrow("SELECT * FROM award_programs WHERE id = $1", pid)
                expected = level_split(budget, dict(zip(("province", "city", "county"), bp, strict=True)))
                assert {lv: row[f"{lv}_budget_fen"] for lv in expected} == expected, budget
            first = await conn.fetchrow("SELECT * FROM award_programs WHERE id = $1", ids[0])
            assert (first["province_committed_fen"], first["city_committed_fen"], first["county_committed_fen"]) == (
                66,
                66,
                68,
            )
            last = await conn.fetchval(
                "SELECT last_number FROM award_serial_counters WHERE county_code = $1 AND kind = 'exit' AND year = 2025",
                COUNTY,
            )
            assert last == 2
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _old_rows(conn: asyncpg.Connection) -> list[uuid.UUID]:
    """Programmes as the old schema kept them, and two awards of the first split 33/33/34 each."""
    ids = []
    for budget, province, city, county in PROGRAMMES:
        ids.append(
            await conn.fetchval(
                """INSERT INTO award_programs (county_code, kind, year, name, amount_fen, budget_fen, province_bp,
                       city_bp, county_bp, notice_days, created_by, committed_fen)
                   VALUES ($1, 'exit', 2025, '旧项目', 100, $2, $3, $4, $5, 7, 'test', $6) RETURNING id""",
                COUNTY,
                budget,
                province,
                city,
                county,
                200 if not ids else 0,
            )
        )
    # The awards' other rows (applications, households, payables) do not matter here.
    await conn.execute("SET session_replication_role = replica")
    for n in (1, 2):
        await conn.execute(
            """INSERT INTO awards (county_code, program_id, application_id, household_id, kind, year, amount_fen,
                   province_fen, city_fen, county_fen, serial, entry_id, payable_id, granted_on, granted_by)
               VALUES ($1, $2, gen_random_uuid(), gen_random_uuid(), 'exit', 2025, 100, 33, 33, 34, $3,
                       gen_random_uuid(), gen_random_uuid(), DATE '2026-01-20', 'test')""",
            COUNTY,
            ids[0],
            f"TP-621223-2025-{n:06d}",
        )
    await conn.execute("SET session_replication_role = DEFAULT")
    return ids
