"""Benchmark: a synthetic province of 10,000 ventures and 1,000,000 holders, one fiscal year.

Measured: compute every plan and write its journal entry, lines, distribution lines and payables
(the same service functions the API uses, chunked), against a raw COPY of the same number of rows
into tables with the same indexes, in the same run. Target: at most 3× the raw COPY, peak RSS
under 1 GiB.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
import uuid

import asyncpg

from db import ledger
from db.pool import init_connection
from service import distributions as dist
from service.demo import demo_id_number
from tests.bench.common import fresh_database, peak_rss_mib, report

VENTURES = int(os.environ.get("BENCH_VENTURES", "10000"))
HOLDERS_PER_VENTURE = int(os.environ.get("BENCH_HOLDERS_PER_VENTURE", "100"))
COUNTIES = 10
CHUNK = 250
YEAR = 2025
CHARTER = {"weighting": "record_date", "reserve_bp": 1000, "discretionary_bp": 500, "patronage_bp": 6000,
           "floor_mode": "minimum", "floor_bp": 500, "poverty_participates": True, "poverty_follows_status": False}


def county(i: int) -> str:
    return f"6212{i:02d}000000"


async def build_province(conn: asyncpg.Connection) -> None:
    """Households, ventures, members and one subscription per holder, written straight with COPY."""
    import random

    rng = random.Random(7)
    regions = [("620000000000", "甘肃省", "province", None, None), ("621200000000", "陇南市", "city", "620000000000", None)]
    for c in range(COUNTIES):
        code = county(c + 1)
        regions += [(code, f"县{c + 1}", "county", "621200000000", code),
                    (code[:6] + "100000", "镇", "township", code, code),
                    (code[:6] + "100201", "村", "village", code[:6] + "100000", code)]
    await conn.executemany("INSERT INTO regions VALUES ($1, $2, $3, $4, $5)", regions)
    # Written in slices so the setup's own lists do not dominate the run's peak memory.
    for first in range(0, VENTURES, 500):
        households, ventures, members, movements = [], [], [], []
        for v in range(first, min(first + 500, VENTURES)):
            c = county(v % COUNTIES + 1)
            village = c[:6] + "100201"
            vid = uuid.uuid4()
            ventures.append((c, vid, f"经营主体{v}", "branch_company", village, 10**9, "12-31", CHARTER))
            for h in range(HOLDERS_PER_VENTURE):
                hid, mid = uuid.uuid4(), uuid.uuid4()
                households.append((c, hid, f"B{v:05d}-{h:03d}", village, "户主", "户*", b"x", os.urandom(16),
                                   demo_id_number(rng)[:6] + "********0000", 3, "信用社", b"x", os.urandom(16),
                                   "6228 **** **** 0000", "poor"))
                members.append((c, mid, vid, h + 1, "household", hid, "户主"))
                poverty = h % 10 == 0
                shares = rng.randrange(10, 1000)
                movements.append((c, uuid.uuid4(), vid, h + 1, "subscribe", None, mid,
                                  "poverty" if poverty else "ordinary", shares, shares * 100,
                                  dt.date(YEAR - 1, 6, 1), "", "bench"))
        await conn.copy_records_to_table("households", records=households, columns=[
            "county_code", "id", "household_no", "village_code", "head_name", "head_name_masked", "head_id_enc",
            "head_id_hash", "head_id_masked", "members", "bank_name", "bank_account_enc", "bank_account_hash",
            "bank_account_masked", "status"])
        await conn.copy_records_to_table("ventures", records=ventures, columns=[
            "county_code", "id", "name", "model", "village_code", "registered_capital_fen", "record_date_mmdd",
            "charter"])
        await conn.copy_records_to_table("venture_members", records=members, columns=[
            "county_code", "id", "venture_id", "member_no", "kind", "household_id", "name"])
        await conn.copy_records_to_table("share_movements", records=movements, columns=[
            "county_code", "id", "venture_id", "register_no", "kind", "from_member_id", "to_member_id",
            "share_class", "shares", "capital_fen", "effective_date", "reason", "recorded_by"])
    await conn.execute("ANALYZE")


async def compute_chunk(conn: asyncpg.Connection, chunk: list, posted_on: dt.date) -> list:
    """Plans of a chunk of ventures, grouped by county, ready to write. Yields to the loop between
    ventures so the writer's COPY of the previous chunk overlaps this one's arithmetic."""
    facts = await dist.load_facts_many(conn, chunk, YEAR)
    by_county: dict[str, list] = {}
    for n, (v, f) in enumerate(zip(chunk, facts, strict=True)):
        if n % 20 == 0:
            await asyncio.sleep(0)
        profit = 5_000_000 + (v["id"].int % 1_000_000)
        by_county.setdefault(v["county_code"], []).append((v, f, profit, dist.compute_plan(f, YEAR, profit)))
    return list(by_county.items())


async def write_chunk(conn: asyncpg.Connection, groups: list, posted_on: dt.date, counts: dict[str, int]) -> None:
    async with conn.transaction():
        for county_code, items in groups:
            specs = {str(v["id"]): dist.account_specs(str(v["id"]), v["model"]) for v, *_ in items}
            ids = await ledger.accounts(conn, county_code, [s for sp in specs.values() for s in sp.values()])
            entries, pending, rows, lines = [], [], [], []
            for v, f, profit, plan in items:
                did = uuid.uuid4()
                accounts = {k: ids[s] for k, s in specs[str(v["id"])].items()}
                entry, payable_lines = dist.posting_for(did, f, YEAR, profit, plan, accounts, posted_on)
                entries.append(entry)
                pending.append((did, f, payable_lines, accounts["bank"]))
                kept = [pl for pl in plan.lines if pl.amount_fen]
                rows.append((county_code, did, v["id"], YEAR, profit, "posted", dist.waterfall_of(plan),
                             dist.carried_json(f.carried), dist.carried_json(plan.carried), len(kept),
                             sum(pl.amount_fen for pl in kept), "bench"))
                lines += [(county_code, did, n, f.uuid(pl.member_id),
                           f.uuid(pl.household_id) if pl.household_id else None, pl.basis, pl.weight,
                           pl.amount_fen, pl.explanation) for n, pl in enumerate(kept, start=1)]
            entry_ids = await ledger.post_entries(conn, county_code, entries)
            payables = []
            for entry_id, (did, f, payable_lines, bank) in zip(entry_ids, pending, strict=True):
                payables += dist.payables_for(did, f, entry_id, payable_lines, bank, {})
            await conn.copy_records_to_table("distributions", records=rows, columns=[
                "county_code", "id", "venture_id", "fiscal_year", "profit_fen", "status", "waterfall", "carried_in",
                "carried_out", "lines_count", "lines_total_fen", "created_by"])
            await conn.copy_records_to_table("distribution_lines", records=lines, columns=dist.LINE_COLUMNS)
            await ledger.create_payables(conn, county_code, payables)
            counts["journal_lines"] += sum(len(e.lines) for e in entries)
            counts["payables"] += len(payables)
            counts["distribution_lines"] += len(lines)


async def run_province(reader: asyncpg.Connection, writer: asyncpg.Connection) -> dict[str, int]:
    """Every venture's plan computed and posted (the path of write_draft + post_distribution), chunked:
    one connection reads and computes the next chunk while the other writes the previous one."""
    counts = {"journal_lines": 0, "payables": 0, "distribution_lines": 0}
    posted_on = dt.date(YEAR + 1, 2, 1)
    ventures = await reader.fetch("SELECT * FROM ventures ORDER BY county_code, id")
    writing: asyncio.Task | None = None
    for start in range(0, len(ventures), CHUNK):
        groups = await compute_chunk(reader, ventures[start:start + CHUNK], posted_on)
        if writing is not None:
            await writing
        writing = asyncio.create_task(write_chunk(writer, groups, posted_on, counts))
    if writing is not None:
        await writing
    return counts


async def raw_copy(conn: asyncpg.Connection, counts: dict[str, int]) -> float:
    """The same number of rows, COPYed into bare copies of the three tables (same indexes, no triggers)."""
    for table in ("journal_lines", "payables", "distribution_lines"):
        await conn.execute(f"CREATE TABLE raw_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)")
    account, entry = uuid.uuid4(), uuid.uuid4()
    start = time.perf_counter()
    async with conn.transaction():
        await conn.copy_records_to_table("raw_journal_lines", columns=[
            "county_code", "entry_id", "line_no", "account_id", "amount_fen", "party_id"],
            records=((county(1), entry, n, account, 100, uuid.uuid4()) for n in range(counts["journal_lines"])))
        await conn.copy_records_to_table("raw_payables", columns=ledger.PAYABLE_COLUMNS, records=(
            (county(1), uuid.uuid4(), uuid.uuid4(), "distribution", "d", str(n), 100, "说明", entry, account, account,
             None, None, None) for n in range(counts["payables"])))
        await conn.copy_records_to_table("raw_distribution_lines", columns=dist.LINE_COLUMNS, records=(
            (county(1), entry, n, account, account, "shares", 100, 100, "按持股 120 股占 12.00%，分得 1.00 元")
            for n in range(counts["distribution_lines"])))
    return time.perf_counter() - start


async def main() -> None:
    async with fresh_database() as url:
        conn = await asyncpg.connect(url)
        await init_connection(conn)
        try:
            t0 = time.perf_counter()
            await build_province(conn)
            setup = time.perf_counter() - t0
            writer = await asyncpg.connect(url)
            await init_connection(writer)
            t0 = time.perf_counter()
            try:
                counts = await run_province(conn, writer)
            finally:
                await writer.close()
            run = time.perf_counter() - t0
            verify_ok = await conn.fetchval("SELECT sum(amount_fen) = 0 FROM journal_lines")
            raw = await raw_copy(conn, counts)
        finally:
            await conn.close()
    rows = sum(counts.values())
    report("Distributions: a province in one run", [
        ("ventures / holders", f"{VENTURES:,} / {VENTURES * HOLDERS_PER_VENTURE:,}"),
        ("setup (not measured)", f"{setup:.1f} s"),
        ("compute + post", f"{run:.1f} s"),
        ("rows written", f"{rows:,} ({counts['journal_lines']:,} journal lines, {counts['payables']:,} payables, "
                         f"{counts['distribution_lines']:,} distribution lines)"),
        ("rows/s", f"{rows / run:,.0f}"),
        ("raw COPY of the same rows", f"{raw:.1f} s"),
        ("ratio to raw COPY", f"{run / raw:.2f}× (target ≤ 3×)"),
        ("peak RSS", f"{peak_rss_mib()} MiB (target < 1024)"),
        ("ledger sums to zero", str(verify_ok)),
    ])


if __name__ == "__main__":
    asyncio.run(main())
