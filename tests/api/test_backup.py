"""Backups that restore (issue 13), run as an operator would: `python -m service backup FILE`, then
`restore FILE` into an empty database, which checks every table, the ledger, the audit chain and
every sealed identity, and refuses a database that is not empty or a key that is not the backup's."""

import asyncio
import json
import re
import zipfile

import asyncpg

from service.core.crypto import DataCipher
from tests.api.test_cli import run_cli
from tests.api.test_payments import approved_batch
from tests.conftest import DATA_KEY, SERVER_URL, b64key, clone, drop
from tests.database import with_database
from tests.payables_factory import make_payables

COUNTY = "621223000000"


class Target:
    """A new, empty database to restore into, named like `api` for run_cli."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.database_url = with_database(SERVER_URL, name)


async def new_database() -> Target:
    return Target(await clone("template0"))  # PostgreSQL's pristine template: nothing in it


async def figures(database_url: str) -> dict:
    conn = await asyncpg.connect(database_url)
    try:
        tables = [
            r[0]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            )
        ]
        counts = {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in sorted(tables)}
        balances = await conn.fetch("SELECT account_id, balance_fen FROM account_balances ORDER BY 1")
        audit_head = await conn.fetch("SELECT county_code, seq, hash FROM audit_heads ORDER BY 1")
        return {"counts": counts, "balances": balances, "audit_head": audit_head}
    finally:
        await conn.close()


async def test_backup_restores_into_an_empty_database_and_checks_out(api, tmp_path):
    conn = await api.connect()
    try:
        households = [r[0] for r in await conn.fetch("SELECT id FROM households WHERE county_code = $1", COUNTY)]
        await make_payables(conn, COUNTY, households[:40], 30_000)
    finally:
        await conn.close()
    batch = await approved_batch(api, source="award")
    assert batch["count"] == 40
    file = tmp_path / "huinong.backup"

    made = run_cli(api, "backup", str(file))
    assert made.returncode == 0, made.stderr + made.stdout
    assert "backup written" in made.stdout
    with zipfile.ZipFile(file) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        raw = b"".join(zf.read(n) for n in zf.namelist())
    assert manifest["data_key_fingerprint"] == DataCipher(DATA_KEY).key_check.hex()
    assert b64key(DATA_KEY).encode() not in raw and DATA_KEY not in raw  # a fingerprint, never the key
    assert manifest["migrations"][-1][0] >= 15 and len(manifest["ledger_checksum"]) == 32
    source = await figures(api.database_url)
    assert manifest["rows"] == source["counts"]
    assert manifest["rows"]["payment_batch_lines"] == 40 and manifest["rows"]["journal_lines"] > 40

    target = await new_database()
    try:
        restored = run_cli(target, "restore", str(file))
        assert restored.returncode == 0, restored.stderr + restored.stdout
        assert "verify-ledger ok" in restored.stdout and "verify-audit ok" in restored.stdout
        opened = int(re.search(r"(\d+) sealed ID, card and phone numbers open", restored.stdout).group(1))
        assert opened >= 2 * manifest["rows"]["households"] + 2 * 40  # each household's ID and card, each line's
        assert await figures(target.database_url) == source
        assert run_cli(target, "verify-ledger").returncode == 0
        assert run_cli(target, "verify-audit").returncode == 0
        # Restoring again is refused: the database is no longer empty.
        again = run_cli(target, "restore", str(file))
        assert again.returncode == 2 and "not empty" in again.stderr
    finally:
        await drop(target.name)


async def test_restore_refuses_another_data_key_and_changes_nothing(api, tmp_path):
    file = tmp_path / "huinong.backup"
    assert run_cli(api, "backup", str(file)).returncode == 0
    target = await new_database()
    try:
        refused = run_cli(target, "restore", str(file), data_key=b"x" * 32)
        assert refused.returncode == 2 and "not the key of this backup" in refused.stderr
        conn = await asyncpg.connect(target.database_url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        finally:
            await conn.close()
    finally:
        await drop(target.name)


async def test_a_backup_taken_while_money_moves_restores_whole(api, tmp_path):
    """Entries, their lines, the stored balances and the audit chain are read in one snapshot: a
    backup taken while payables are posted and audited changes are made restores and verifies."""
    stop = asyncio.Event()
    conn = await api.connect()
    households = [r[0] for r in await conn.fetch("SELECT id FROM households WHERE county_code = $1", COUNTY)][:5]

    async def post_payables() -> int:
        posted = 0
        while not stop.is_set():
            await make_payables(conn, COUNTY, households, 1_000)
            posted += 1
        return posted

    async def audited_changes() -> int:
        changes = 0
        while not stop.is_set():
            r = await api.as_("admin", "PUT", "/admin/clock", json={"today": f"2026-01-{changes % 28 + 1:02d}"})
            assert r.status_code == 200
            changes += 1
        return changes

    writers = [asyncio.create_task(post_payables()), asyncio.create_task(audited_changes())]
    try:
        await asyncio.sleep(0.5)
        file = tmp_path / "busy.backup"
        made = await asyncio.to_thread(run_cli, api, "backup", str(file))
        assert made.returncode == 0, made.stderr
    finally:
        stop.set()
        posted, changes = [await w for w in writers]
        await conn.close()
    assert posted > 1 and changes > 1
    target = await new_database()
    try:
        restored = run_cli(target, "restore", str(file))
        assert restored.returncode == 0, restored.stderr + restored.stdout
        assert "verify-ledger ok" in restored.stdout and "verify-audit ok" in restored.stdout
    finally:
        await drop(target.name)
