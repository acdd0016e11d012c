"""Migration 0018 on a database the demo has populated: the demo's rows (copied, as stored, into a
database migrated up to 0017) come through unchanged, the deferred triggers and the journal's old
statement trigger are gone, only the listed single-server triggers are left, the ledger and the
audit chain verify, and postings and audit rows written afterwards keep every invariant."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from db import ledger
from db.distribution import SINGLE_SERVER_TRIGGERS
from db.migrate import migrate
from service.core.audit import verify_chain
from service.ledger.rules import AccountSpec, Line
from service.ledger.workflow import verify_ledger
from tests.api.test_county_keys import TRIGGERS, cluster_kind
from tests.api.test_county_keys_migration import TABLES, _digests, _sign_in_and_write, demo_below
from tests.api.test_ledger import HEADER, post_manual

GONE = {"journal_entry_balanced", "journal_lines_inserted", "audit_head_at_commit"}
COUNTY = "621223000000"


async def _post_after(conn: asyncpg.Connection) -> None:
    """A balanced entry posts (lines, header, balances); an unbalanced one and a late line do not."""
    specs = [AccountSpec("county", COUNTY, "treasury", "县财政专户"), AccountSpec("county", COUNTY, "bank", "银行存款")]
    a, b = (await ledger.accounts(conn, COUNTY, specs)).values()
    kept = await conn.fetchval(
        "SELECT balance_fen FROM account_balances WHERE county_code = $1 AND account_id = $2", COUNTY, a
    )
    async with conn.transaction():
        entry = await post_manual(conn, "after-0018", [Line(a, 12_345), Line(b, -12_345)])
    balance = await conn.fetchval(
        "SELECT balance_fen FROM account_balances WHERE county_code = $1 AND account_id = $2", COUNTY, a
    )
    assert balance == (kept or 0) + 12_345
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("INSERT INTO journal_lines VALUES ($1, $2, 3, $3, 1, NULL)", COUNTY, entry, a)
    with pytest.raises(asyncpg.CheckViolationError):
        async with conn.transaction():
            single = uuid.uuid4()
            await conn.execute("INSERT INTO journal_lines VALUES ($1, $2, 1, $3, 1, NULL)", COUNTY, single, a)
            await conn.execute(HEADER, COUNTY, single, "one-line")
    assert (await verify_ledger(conn)).ok


async def test_0018_keeps_the_demo_and_its_invariants(demo_db, tmp_path):
    async with demo_below(demo_db, tmp_path, 18) as (url, conn, tables):
        demo = await _digests(conn, tables)
        # Emptied at every commit, so the demo had none to copy.
        assert await conn.fetchval("SELECT count(*) FROM audit_commit_marks") == 0
        assert GONE <= {r["tgname"] for r in await conn.fetch(TRIGGERS)}

        # 0018 first, then any later migration (0019 and 0020 add indexes, no rows).
        assert (await migrate(conn))[0] == "0018_invariants_per_shard.sql"

        assert "audit_commit_marks" not in {r["relname"] for r in await conn.fetch(TABLES)}
        assert await _digests(conn, tables) == demo
        triggers = await conn.fetch(TRIGGERS)
        assert {r["tgname"] for r in triggers} & GONE == set()
        assert {r["tgname"] for r in triggers if cluster_kind(r) == "single server"} == set(SINGLE_SERVER_TRIGGERS)
        assert (await verify_ledger(conn)).ok
        assert await verify_chain(conn) == []
        await _post_after(conn)
        await _sign_in_and_write(url)
