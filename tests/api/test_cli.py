"""The command line, run as an operator would: migrate, verify-ledger, verify-audit, distribute."""

import os
import subprocess
import sys

from tests.api.test_ventures import add_member, make_venture, move
from tests.conftest import DATA_KEY, SECRET_KEY, b64key


def run_cli(api, *args: str, data_key: bytes = DATA_KEY) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": api.database_url,
        "HUINONG_SECRET_KEY": b64key(SECRET_KEY),
        "HUINONG_DATA_KEY": b64key(data_key),
        "COLUMNS": "120",
    }
    return subprocess.run(
        [sys.executable, "-m", "service", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_distribute_command_drafts_a_plan(api):
    vid = await make_venture(api, model="branch_company")
    collective = await add_member(api, vid, "collective", "村集体")
    hh = await add_member(api, vid, "household", "农户", "621223100201-001")
    await move(
        api,
        vid,
        kind="subscribe",
        to_member_id=collective,
        shares=900,
        capital_fen=900_000,
        effective_date="2025-01-01",
    )
    await move(
        api, vid, kind="subscribe", to_member_id=hh, shares=100, capital_fen=100_000, effective_date="2025-01-01"
    )
    result = run_cli(api, "distribute", "--venture", vid, "--year", "2025", "--profit", "1000000")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "分配方案" in result.stdout
    conn = await api.connect()
    try:
        row = await conn.fetchrow("SELECT status, lines_total_fen FROM distributions WHERE venture_id = $1::uuid", vid)
    finally:
        await conn.close()
    # 1,000,000 − 10% statutory reserve = 900,000 distributable, all of it in lines
    assert row["status"] == "draft" and row["lines_total_fen"] == 900_000


async def test_verify_commands_and_migrate_are_idempotent(api):
    assert "none pending" in run_cli(api, "migrate").stdout
    ledger = run_cli(api, "verify-ledger")
    assert ledger.returncode == 0 and "entries_balance" in ledger.stdout
    audit = run_cli(api, "verify-audit")
    assert audit.returncode == 0 and "audit chain ok" in audit.stdout
