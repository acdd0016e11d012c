"""A county's order-farming season (宕昌 herbs): 14,500 contracts, 200,000 weighed purchase lines.

Measures the weighing-station import (the same workflow as POST /ventures/{id}/purchases/import:
sheet parsing, row checks and COPY) and the year-end settlement (the same settle_season as
POST /ventures/{id}/settlements: pricing, journal entries, settlement lines, payables).

Sizes: BENCH_CONTRACTS, BENCH_PURCHASES and BENCH_ADVANCES in the environment, e.g.
`BENCH_CONTRACTS=200 BENCH_PURCHASES=2000 BENCH_ADVANCES=50 python -m tests.bench order_farming`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random

import asyncpg

from db.pool import init_connection
from schemas.order_farming import AdvanceCreate
from service.core.audit import Actor
from service.core.crypto import DataCipher
from service.core.principal import Principal
from service.demo import COUNTY, seed_demo
from service.ledger.workflow import verify_ledger
from service.order_farming.workflow import import_purchases, record_advance, settle_season
from tests.bench.common import fresh_database, peak_rss_mib, report, timed

CONTRACTS = int(os.environ.get("BENCH_CONTRACTS", "14500"))
PURCHASES = int(os.environ.get("BENCH_PURCHASES", "200000"))
ADVANCES = int(os.environ.get("BENCH_ADVANCES", "3000"))
SEASON = 2025
TODAY = dt.date(2025, 12, 20)
VILLAGES = ["621223100201", "621223100202", "621223100203", "621223100204"]


async def _households(conn: asyncpg.Connection) -> list:
    """Stand-in households, written directly (the registry's import is another benchmark), with
    their numbers in household_numbers as the registry writes them."""
    await conn.execute(
        """WITH written AS (
           INSERT INTO households (county_code, household_no, village_code, head_name, head_name_masked, head_id_enc,
               head_id_hash, head_id_masked, members, bank_name, bank_account_enc, bank_account_hash,
               bank_account_masked, status)
           SELECT $1, 'B' || lpad(n::text, 6, '0'), ($2::text[])[1 + n % 4], '农户' || n, '农*' || n, '\\x00',
                  sha256(('bench-id-' || n)::bytea), '620102********0000', 1 + n % 6, '农村信用社', '\\x00',
                  sha256(('bench-card-' || n)::bytea), '6228***********0000', 'poor'
           FROM generate_series(1, $3) AS n
           RETURNING household_no, county_code, id)
           INSERT INTO household_numbers (household_no, county_code, household_id) SELECT * FROM written""",
        COUNTY,
        VILLAGES,
        CONTRACTS,
    )
    return [
        r["id"]
        for r in await conn.fetch("SELECT id FROM households WHERE household_no LIKE 'B%' ORDER BY household_no")
    ]


def _sheet(contract_ids: list, rng: random.Random) -> bytes:
    out = io.StringIO()
    out.write("contract_id,bought_on,grade,weight_g,market_price_fen_per_kg\n")
    for i in range(PURCHASES):
        cid = contract_ids[i % len(contract_ids)]
        day = dt.date(SEASON, 9, 1) + dt.timedelta(days=rng.randrange(90))
        out.write(
            f"{cid},{day.isoformat()},{rng.choice(('一等', '二等', '统货'))},{rng.randrange(500, 60_000)},"
            f"{rng.randrange(900, 1600)}\n"
        )
    return out.getvalue().encode()


async def main() -> None:
    rng = random.Random(2025)
    figures: dict[str, float] = {}
    async with fresh_database() as url:
        conn = await asyncpg.connect(url)
        await init_connection(conn)
        try:
            await seed_demo(conn, DataCipher(b"b" * 32))
            households = await _households(conn)
            v = await conn.fetchrow(
                """INSERT INTO ventures (county_code, name, model, village_code, registered_capital_fen, record_date_mmdd,
                       charter) VALUES ($1, '宕昌中药材有限公司', 'enterprise', $2, 5000000000, '12-31', '{}') RETURNING *""",
                COUNTY,
                VILLAGES[0],
            )
            await conn.copy_records_to_table(
                "farming_contracts",
                records=[
                    (
                        COUNTY,
                        v["id"],
                        h,
                        "当归",
                        SEASON,
                        rng.randrange(20, 200) * 1000,
                        rng.choice((1100, 1200, 1300)),
                        rng.choice((0, 300, 500)),
                        "bench",
                    )
                    for h in households
                ],
                columns=[
                    "county_code",
                    "venture_id",
                    "household_id",
                    "crop",
                    "season_year",
                    "contracted_g",
                    "floor_price_fen_per_kg",
                    "premium_bp",
                    "created_by",
                ],
            )
            contract_ids = [
                r["id"]
                for r in await conn.fetch("SELECT id FROM farming_contracts WHERE venture_id = $1 ORDER BY id", v["id"])
            ]
            # Advances through the same path as POST /contracts/{id}/advances.
            await _advances(conn, contract_ids[:ADVANCES], rng)

            data = _sheet(contract_ids, rng)
            actor, principal = Actor.system("bench"), Principal.system("cli")
            with timed(figures, "import"):
                async with conn.transaction():
                    created = await import_purchases(conn, actor, principal, str(v["id"]), data, "sheet.csv", TODAY)
            assert created.created == PURCHASES
            del data
            with timed(figures, "settle"):
                async with conn.transaction():
                    run = await settle_season(conn, actor, principal, str(v["id"]), SEASON, TODAY)
            lines = await conn.fetchval("SELECT count(*) FROM farming_settlement_lines")
            payables = await conn.fetchval("SELECT count(*) FROM payables WHERE source = 'settlement'")
            with timed(figures, "verify"):
                verification = await verify_ledger(conn)
        finally:
            await conn.close()
    gross = sum(i.gross_fen for i in run.items)
    assert gross == sum(i.advances_deducted_fen + i.payable_fen for i in run.items)
    assert verification.ok, verification
    report(
        "order farming: a county season",
        [
            ("contracts", f"{CONTRACTS:,}"),
            ("purchase rows", f"{PURCHASES:,} ({len(households):,} households, {ADVANCES:,} with advances)"),
            (
                "parse + check + COPY import",
                f"{figures['import']:.2f} s, {PURCHASES / figures['import']:,.0f} rows/s",
            ),
            (
                "settle season",
                f"{figures['settle']:.2f} s, {len(run.items):,} settlements, {lines:,} priced lines, "
                f"{payables:,} payables",
            ),
            (
                "settlement rate",
                f"{lines / figures['settle']:,.0f} lines/s, {len(run.items) / figures['settle']:,.0f} contracts/s",
            ),
            ("gross / payable", f"{gross:,} fen / {sum(i.payable_fen for i in run.items):,} fen"),
            ("verify ledger", f"{figures['verify']:.2f} s, ok"),
            ("peak RSS", f"{peak_rss_mib()} MiB"),
        ],
    )


async def _advances(conn: asyncpg.Connection, contract_ids: list, rng: random.Random) -> None:
    actor, principal = Actor.system("bench"), Principal.system("cli")
    async with conn.transaction():
        for cid in contract_ids:
            data = AdvanceCreate(
                amount_fen=rng.randrange(5_000, 80_000), given_on=dt.date(SEASON, 3, 1), item="当归种苗"
            )
            await record_advance(conn, actor, principal, str(cid), data, TODAY)
