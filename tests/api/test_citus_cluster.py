"""Huinong on a real Citus cluster (issue 20, docs/citus-trial.md). Opt-in: skipped unless
HUINONG_CITUS_URL names a Citus coordinator, e.g. postgresql://postgres@citus-coordinator:5432/postgres,
whose database has the citus extension with its workers added (citus_add_node). The module makes a
database of its own on every node, migrates it, runs db/citus.sql, loads the demo county through the
same workflows `seed-demo` calls, and checks what a scale-out must keep: every table placed as
db/distribution.py says, the books and the audit chain verifying, the demo's figures to the fen
(the same as on one server), and a household's statement read on one shard only.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from db.distribution import COLOCATION_ANCHOR, DISTRIBUTION_COLUMN, OWN_KEY_TABLES, REFERENCE_TABLES
from db.migrate import migrate
from db.pool import init_connection
from db.registry import households_page
from service.core.audit import verify_chain
from service.core.crypto import DataCipher
from service.core.principal import Principal
from service.demo import load_demo
from service.demo.people import COUNTY
from service.ledger.workflow import verify_ledger
from service.statements.workflow import read_statement
from tests import conftest
from tests.conftest import DATA_KEY, SERVER_URL, _api, clone, drop
from tests.database import with_database

CITUS_URL = os.environ.get("HUINONG_CITUS_URL")
pytestmark = pytest.mark.skipif(not CITUS_URL, reason="HUINONG_CITUS_URL names no Citus coordinator")

DB_DIR = Path(__file__).resolve().parents[2] / "db"
# The demo's three households of README ("Households to sign in as") and what each was paid in 2025.
STATEMENTS = {
    "621223100201-001": ({"settlement", "award"}, 1_206_240),
    "621223100203-001": ({"dividend"}, 636_000),
    "621223100204-001": ({"patronage"}, 495_778),
}


def citus_script() -> str:
    """db/citus.sql as one script a driver can send: psql's \\ir includes read in, its other
    meta-commands (ON_ERROR_STOP) dropped, as a failing statement stops a script sent whole anyway."""
    lines = []
    for line in (DB_DIR / "citus.sql").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"\\ir\s+(\S+)", line):
            lines.append((DB_DIR / match.group(1)).read_text(encoding="utf-8"))
        elif not line.startswith("\\"):
            lines.append(line)
    return "\n".join(lines)


def node_url(url: str, host: str, port: int, database: str) -> str:
    """The same user and password on another node and database."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{host}:{port}" if credentials else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, "/" + database, parts.query, parts.fragment))


async def cluster_nodes(url: str) -> tuple[tuple[str, int], list[tuple[str, int]]]:
    """The coordinator (as the workers reach it) and the workers, from the named database's metadata."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT nodename, nodeport, groupid FROM pg_dist_node WHERE noderole = 'primary'")
    finally:
        await conn.close()
    parts = urlsplit(url)
    coordinator = next(
        ((r["nodename"], r["nodeport"]) for r in rows if r["groupid"] == 0),
        (parts.hostname or "localhost", parts.port or 5432),
    )
    workers = sorted((r["nodename"], r["nodeport"]) for r in rows if r["groupid"] != 0)
    assert workers, "the coordinator's database has no workers: SELECT citus_add_node(host, port) first"
    return coordinator, workers


async def on_each(urls: list[str], *statements: str) -> None:
    for url in urls:
        conn = await asyncpg.connect(url)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()


@pytest.fixture(scope="module")
async def cluster_db() -> AsyncIterator[str]:
    """A database of its own on every node, migrated, distributed by db/citus.sql, holding the demo."""
    assert CITUS_URL
    coordinator, workers = await cluster_nodes(CITUS_URL)
    home = urlsplit(CITUS_URL).path.lstrip("/") or "postgres"
    parts = urlsplit(CITUS_URL)
    admins = [CITUS_URL] + [node_url(CITUS_URL, host, port, home) for host, port in workers]
    name = f"huinong_citus_{uuid.uuid4().hex[:10]}"
    url = node_url(CITUS_URL, parts.hostname or "localhost", parts.port or 5432, name)
    await on_each(admins, f'CREATE DATABASE "{name}"')
    try:
        await on_each([with_database(a, name) for a in admins], "CREATE EXTENSION citus")
        conn = await asyncpg.connect(url)
        try:
            await init_connection(conn)
            await conn.execute("SELECT citus_set_coordinator_host($1, $2)", *coordinator)
            for host, port in workers:
                await conn.execute("SELECT citus_add_node($1, $2)", host, port)
            await migrate(conn)
            await conn.execute(citus_script())
            assert await load_demo(conn, DataCipher(DATA_KEY), conftest.test_settings(url)) is not None
        finally:
            await conn.close()
        yield url
    finally:
        await on_each(admins, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    return conn


async def test_every_table_is_placed_as_the_distribution_list_says(cluster_db):
    conn = await connect(cluster_db)
    try:
        placed = {
            r["table_name"]: r
            for r in await conn.fetch(
                "SELECT table_name::text, citus_table_type, distribution_column, colocation_id FROM citus_tables"
            )
        }
        tables = {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        await conn.close()
    assert tables - placed.keys() == set(), "tables left on the coordinator alone"
    for table in REFERENCE_TABLES:
        assert placed[table]["citus_table_type"] == "reference", table
    for table, column in OWN_KEY_TABLES.items():
        assert (placed[table]["citus_table_type"], placed[table]["distribution_column"]) == ("distributed", column)
    county_tables = tables - REFERENCE_TABLES.keys() - OWN_KEY_TABLES.keys()
    anchor = placed[COLOCATION_ANCHOR]["colocation_id"]
    for table in county_tables:
        row = placed[table]
        assert (row["citus_table_type"], row["distribution_column"], row["colocation_id"]) == (
            "distributed",
            DISTRIBUTION_COLUMN,
            anchor,
        ), table
    assert len(county_tables) > 30


async def test_the_books_and_the_audit_chain_verify_on_the_cluster(cluster_db):
    conn = await connect(cluster_db)
    try:
        ledger = await verify_ledger(conn)
        assert ledger.ok, [(c.name, c.detail) for c in ledger.checks if not c.ok]
        assert len(ledger.checks) >= 8
        assert await verify_chain(conn) == []
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE county_code = $1", COUNTY) > 100
    finally:
        await conn.close()


# Money of the demo year, summed the way an auditor would: the cluster must hold the one server's
# figures, to the fen. Left out: which holder gets a plan's odd fen follows the members' ids
# (service/core/allocation.py breaks ties by key), and ids are drawn anew on each load, so what a
# plan pays households (its payables, the batches, the bank account) may differ by a fen between two
# loads of the demo, on one server as well; the plan's own totals do not.
FIGURES = {
    "ledger lines": """SELECT a.owner_type, coalesce(v.model, '') AS model, a.code, count(*) AS lines
                       FROM journal_lines l
                       JOIN accounts a ON a.county_code = l.county_code AND a.id = l.account_id
                       LEFT JOIN ventures v ON v.county_code = a.county_code AND v.id::text = a.owner_id::text
                       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
    "payables": """SELECT source, status, count(*) AS n,
                          CASE WHEN source = 'distribution' THEN NULL ELSE sum(amount_fen)::bigint END AS fen
                   FROM payables GROUP BY 1, 2 ORDER BY 1, 2""",
    "plans": """SELECT v.model, d.fiscal_year, d.status, d.profit_fen, d.lines_total_fen
                FROM distributions d JOIN ventures v ON v.county_code = d.county_code AND v.id = d.venture_id
                ORDER BY 1, 2, 3""",
    "awards": "SELECT kind, count(*) AS n, sum(amount_fen)::bigint AS fen FROM awards GROUP BY 1 ORDER BY 1",
    "settlements": """SELECT status, count(*) AS n, sum(payable_fen)::bigint AS fen,
                             sum(advance_carried_fen)::bigint AS carried
                      FROM farming_settlements GROUP BY 1 ORDER BY 1""",
    "batches": "SELECT status, count(*) AS n, sum(line_count) AS lines FROM payment_batches GROUP BY 1 ORDER BY 1",
}


async def figures(url: str) -> dict[str, list[tuple]]:
    conn = await connect(url)
    try:
        return {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in FIGURES.items()}
    finally:
        await conn.close()


async def test_the_demo_s_figures_are_one_server_s_to_the_fen(cluster_db, templates):
    single = await clone(templates["empty"])
    single_url = with_database(SERVER_URL, single)
    try:
        conn = await connect(single_url)
        try:
            await load_demo(conn, DataCipher(DATA_KEY), conftest.test_settings(single_url))
        finally:
            await conn.close()
        expected = await figures(single_url)
    finally:
        await drop(single)
    found = await figures(cluster_db)
    for name in FIGURES:
        assert found[name] == expected[name], name
    plans = {(model, year): profit for model, year, status, profit, _ in found["plans"] if status == "posted"}
    # README, "What the demo year holds": the company's 2023 loss of 60,000 yuan and 2025's 500,000
    # yuan, the cooperative's 2025 surplus of 400,000 yuan; the exit award is 300 yuan a household.
    assert plans[("branch_company", 2023)] == -6_000_000
    assert plans[("branch_company", 2025)] == 50_000_000
    assert plans[("cooperative", 2025)] == 40_000_000
    ((kind, granted, fen),) = found["awards"]
    assert kind == "exit" and fen == 30_000 * granted and granted >= 1


class ShardLog:
    """The shard commands the coordinator sends while a connection logs them (citus.log_remote_commands)."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def __call__(self, conn: asyncpg.Connection, message: asyncpg.PostgresLogMessage) -> None:
        if message.message.startswith("issuing "):
            self.commands.append(message.message)

    def shard_ids(self) -> set[int]:
        return {int(s) for c in self.commands for s in re.findall(r"public\.[a-z_]+_(\d+)\b", c)}


async def logged(conn: asyncpg.Connection) -> ShardLog:
    log = ShardLog()
    conn.add_log_listener(log)
    # Local commands too: a reference table's placement may be the coordinator's own.
    await conn.execute("SET citus.log_remote_commands = on; SET client_min_messages = notice")
    return log


async def county_shards(conn: asyncpg.Connection, county: str) -> set[int]:
    """The shard of every county table that holds this county's rows (one per table: co-located)."""
    rows = await conn.fetch(
        """SELECT get_shard_id_for_distribution_column(logicalrelid, $1::text) AS shard FROM pg_dist_partition
           WHERE colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = $2::regclass)""",
        county,
        COLOCATION_ANCHOR,
    )
    return {r["shard"] for r in rows}


async def reference_shards(conn: asyncpg.Connection) -> set[int]:
    rows = await conn.fetch(
        "SELECT s.shardid FROM pg_dist_shard s JOIN pg_dist_partition p USING (logicalrelid) WHERE p.partmethod = 'n'"
    )
    return {r["shardid"] for r in rows}


async def test_a_household_reads_its_statement_on_its_county_s_shard_alone(cluster_db):
    conn = await connect(cluster_db)
    try:
        for number, (kinds, total) in STATEMENTS.items():
            # As a household signs in: its number says the county (household_numbers, by number),
            # then the row is read there.
            county, household_id = await conn.fetchrow(
                "SELECT county_code, household_id FROM household_numbers WHERE household_no = $1", number
            )
            row = await conn.fetchrow(
                "SELECT id, village_code FROM households WHERE county_code = $1 AND id = $2", county, household_id
            )
            assert county == COUNTY
            me = Principal(
                kind="household",
                id=str(row["id"]),
                name=number,
                role="household",
                household_id=str(row["id"]),
                county_code=COUNTY,
                region_code=row["village_code"],
            )
            log = await logged(conn)
            statement = await read_statement(conn, me, str(row["id"]), year=2025, today=dt.date(2026, 1, 31))
            conn.remove_log_listener(log)
            await conn.execute("RESET citus.log_remote_commands")
            assert statement.total_fen == total and kinds <= {line.kind for line in statement.lines}, number
            assert log.commands, "nothing went to a worker: is this a Citus coordinator?"
            assert log.shard_ids() <= await county_shards(conn, COUNTY) | await reference_shards(conn), number
    finally:
        await conn.close()


async def test_a_province_wide_list_asks_every_shard(cluster_db):
    conn = await connect(cluster_db)
    try:
        log = await logged(conn)
        rows = await households_page(
            conn, county_code=None, scope="62", village_code=None, status=None, after_no=None, limit=50
        )
        conn.remove_log_listener(log)
        shards = await conn.fetchval("SELECT shard_count FROM citus_tables WHERE table_name = 'households'::regclass")
    finally:
        await conn.close()
    assert len(rows) == 50
    assert len(log.shard_ids()) == shards > 1


async def test_the_api_serves_the_demo_from_the_cluster(cluster_db):
    async for api in _api(cluster_db):
        for number, (kinds, _) in STATEMENTS.items():
            headers = await api.household_login(number)
            r = await api.client.get(f"/households/{await api.household_id(number)}/statement", headers=headers)
            assert r.status_code == 200, r.text
            statement = r.json()
            assert statement["year"] == 2025 and kinds <= {line["kind"] for line in statement["lines"]}, number
            assert {line["payment_status"] for line in statement["lines"]} == {"paid"}, number
        listed = await api.as_("kuaiji", "GET", "/ventures")
        assert sorted(v["model"] for v in listed.json()["items"]) == ["branch_company", "cooperative", "enterprise"]
        verified = await api.as_("shenji", "GET", "/ledger/verify")
        assert verified.status_code == 200 and verified.json()["ok"]
