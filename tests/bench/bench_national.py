"""A national registry on one box (issue 20): N households over M counties written by COPY, one
exit-award programme per county applied, reviewed, noticed and granted, and one year's
distribution over H holders; each stage's time, rows/s, the database's size, and what each stage
would take per county shard on a 32-node Citus cluster.

Sizes (environment): BENCH_NATIONAL_SCALE (default 1) multiplies the national figures of 2020,
29,000,000 households in 830 counties and 1,000,000 holders; BENCH_NATIONAL_HOUSEHOLDS,
BENCH_NATIONAL_COUNTIES and BENCH_NATIONAL_HOLDERS set one directly. BENCH_NATIONAL_AWARD_SHARE
(default 0.05) is the share of each county's households that exited this year and apply. Scaling
counties with households keeps a county at its national size (about 35,000 households), so the
figures per county are measured, not extrapolated.

Projection: every stage works county by county, and on the cluster every statement of a county
goes to the node holding its shard (docs/scale-out.md). A stage's time per county, measured here
and scaled linearly to the national rows per county, times the counties of a shard (830 / 128
shards) is its time per shard; a node works its four shards one after another on one stream as this
box does, the 32 nodes at once, so the cluster's wall time is the time per county times the
counties of a node (830 / 32). Assumed: a node as fast as this box, the coordinator's routing
and two-phase commits not counted (one per transaction, a millisecond or two), the national
COPY fed by one loader per node.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
import uuid

import asyncpg

from db import awards as awards_q
from db import registry as registry_q
from db.pool import init_connection
from schemas.awards import CostShares, ProgramCreate
from service.awards.workflow import create_program, grant_program, publish_notice, record_reviews, submit_applications
from service.core.audit import Actor
from service.core.principal import Principal
from service.core.settings import Settings
from service.ledger.workflow import verify_ledger
from service.registry.workflow import STORED_COLUMNS
from tests.bench.bench_distributions import CHARTER, YEAR, run_province
from tests.bench.common import copy_register, fresh_database, peak_rss_mib, report

# An hour at national size: `make bench` alone skips it, `make bench ONLY=national` runs it.
ONLY_WHEN_NAMED = True
NATIONAL_HOUSEHOLDS, NATIONAL_COUNTIES, NATIONAL_HOLDERS = 29_000_000, 830, 1_000_000
SCALE = float(os.environ.get("BENCH_NATIONAL_SCALE", "1"))
HOUSEHOLDS = int(os.environ.get("BENCH_NATIONAL_HOUSEHOLDS", round(NATIONAL_HOUSEHOLDS * SCALE)))
COUNTIES = int(os.environ.get("BENCH_NATIONAL_COUNTIES", max(1, round(NATIONAL_COUNTIES * SCALE))))
HOLDERS = int(os.environ.get("BENCH_NATIONAL_HOLDERS", round(NATIONAL_HOLDERS * SCALE)))
AWARD_SHARE = float(os.environ.get("BENCH_NATIONAL_AWARD_SHARE", "0.05"))
CLUSTER_NODES, CLUSTER_SHARDS = 32, 128
TOWNSHIPS, VILLAGES_PER_TOWNSHIP = 10, 10
HOLDERS_PER_VENTURE = 100
COPY_CHUNK = 100_000
AWARD_FEN = 30_000

# The registry's stored columns without the optional ones, and the status the run starts from.
UNUSED = ("phone_enc", "phone_masked", "pin_hash", "split_from")
HOUSEHOLD_COLUMNS = [*(c for c in STORED_COLUMNS if c not in UNUSED), "status"]


def county_code(i: int) -> str:
    """The i-th county: 28 provinces of 3 cities of 10 counties (codes as GB/T 2260 shapes them)."""
    return f"{10 + i // 30:02d}{(i % 30) // 10 + 1:02d}{i % 10 + 1:02d}000000"


def villages_of(county: str) -> list[str]:
    return [f"{county[:6]}{t + 1:03d}{200 + v:03d}" for t in range(TOWNSHIPS) for v in range(VILLAGES_PER_TOWNSHIP)]


class Stages:
    """Each stage's seconds, rows written and the figure it is measured in."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, int, str]] = []

    def add(self, name: str, seconds: float, rows: int, unit: str = "rows") -> None:
        self.rows.append((name, seconds, rows, unit))


async def seed_regions(conn: asyncpg.Connection) -> list[str]:
    counties = [county_code(i) for i in range(COUNTIES)]
    regions: dict[str, tuple] = {}
    for c in counties:
        province, city = c[:2] + "0" * 10, c[:4] + "0" * 8
        regions.setdefault(province, (province, f"省{c[:2]}", "province", None, None))
        regions.setdefault(city, (city, f"市{c[:4]}", "city", province, None))
        regions[c] = (c, f"县{c[:6]}", "county", city, c)
        for t in range(TOWNSHIPS):
            township = f"{c[:6]}{t + 1:03d}000"
            regions[township] = (township, f"第{t + 1}镇", "township", c, c)
        for v in villages_of(c):
            regions[v] = (v, f"村{v[-6:]}", "village", v[:9] + "000", c)
    await conn.copy_records_to_table(
        "regions", records=list(regions.values()), columns=["code", "name", "level", "parent_code", "county_code"]
    )
    await conn.execute("INSERT INTO poverty_lines VALUES (2025, 400000, 1000000)")
    return counties


def household_rows(counties: list[str], first: int, last: int) -> list[tuple]:
    """Households first..last-1, spread over the counties in turn and over each county's villages."""
    rows = []
    for n in range(first, last):
        county = counties[n % len(counties)]
        within = n // len(counties)
        village = f"{county[:6]}{within % TOWNSHIPS + 1:03d}{200 + (within // TOWNSHIPS) % VILLAGES_PER_TOWNSHIP:03d}"
        rows.append(
            (
                county,
                uuid.uuid4(),
                f"{village}{within:06d}",
                village,
                "户主",
                "户*",
                b"x",
                os.urandom(16),
                "620102********0000",
                3,
                "信用社",
                b"x",
                os.urandom(16),
                "6228 **** **** 0000",
                "poor",
            )
        )
    return rows


async def registry(conn: asyncpg.Connection, counties: list[str], stages: Stages) -> None:
    """The registry by COPY (the registry's own path: households and their numbers), every household
    registered poor in 2016, and this year's exits for the share that applies."""
    made = copied = 0.0
    for first in range(0, HOUSEHOLDS, COPY_CHUNK):
        start = time.perf_counter()
        rows = household_rows(counties, first, min(first + COPY_CHUNK, HOUSEHOLDS))
        made += time.perf_counter() - start
        start = time.perf_counter()
        async with conn.transaction():
            await registry_q.copy_households(conn, HOUSEHOLD_COLUMNS, rows)
        copied += time.perf_counter() - start
    stages.add("make household rows (Python, not the database)", made, HOUSEHOLDS)
    stages.add("COPY households + household_numbers", copied, 2 * HOUSEHOLDS)
    start = time.perf_counter()
    for county in counties:
        await conn.execute(
            """INSERT INTO household_status_events (county_code, household_id, kind, year, effective_date, recorded_by)
               SELECT county_code, id, 'registered', 2016, DATE '2016-03-01', 'bench' FROM households
               WHERE county_code = $1""",
            county,
        )
    stages.add("status events: registered 2016, per county", time.perf_counter() - start, HOUSEHOLDS)
    start = time.perf_counter()
    every = max(1, round(1 / AWARD_SHARE))
    exits = 0
    for county in counties:
        status = await conn.execute(
            """WITH chosen AS (
                   SELECT county_code, id FROM (
                       SELECT county_code, id, row_number() OVER (ORDER BY household_no) AS n
                       FROM households WHERE county_code = $1) h WHERE n % $2 = 0),
               events AS (
                   INSERT INTO household_status_events
                       (county_code, household_id, kind, year, effective_date, recorded_by)
                   SELECT county_code, id, 'exited', 2025, DATE '2025-09-30', 'bench' FROM chosen)
               UPDATE households h SET status = 'exited' FROM chosen c
               WHERE h.county_code = c.county_code AND h.id = c.id""",
            county,
            every,
        )
        exits += int(status.split()[-1])
    stages.add("status events: this year's exits, per county", time.perf_counter() - start, 2 * exits)
    start = time.perf_counter()
    await conn.execute("ANALYZE")
    stages.add("ANALYZE", time.perf_counter() - start, 0, "-")


async def _review(conn: asyncpg.Connection, actor: Actor, county: str, apps: list, level: str, width: int) -> None:
    """One review transaction per village (width 12) or township (width 9), as the offices work."""
    by_place: dict[str, list[uuid.UUID]] = {}
    for a in apps:
        by_place.setdefault(a["village_code"][:width], []).append(a["id"])
    reason = "村两委评议通过" if level == "village" else "乡镇党委审核通过"
    for ids in by_place.values():
        async with conn.transaction():
            await record_reviews(conn, actor, county, ids, level, "approve", reason)


async def award_county(conn: asyncpg.Connection, settings: Settings, county: str, took: dict[str, float]) -> int:
    """The county's exit-award programme through every stage; returns the awards granted."""
    actor, today = Actor.system("bench"), dt.date(2026, 1, 10)
    exited = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM households WHERE county_code = $1 AND status = 'exited' ORDER BY household_no", county
        )
    ]
    if not exited:
        return 0
    start = time.perf_counter()
    async with conn.transaction():
        shares = CostShares(province_bp=5000, city_bp=3000, county_bp=2000)
        created = await create_program(
            conn,
            actor,
            Principal.system("bench"),
            settings,
            ProgramCreate(county, "exit", 2025, AWARD_FEN, AWARD_FEN * len(exited), shares, name=f"{county}脱贫奖"),
        )
    p = await awards_q.program(conn, created.id)
    assert p is not None
    took["open the programme"] += (lap := time.perf_counter()) - start
    for first in range(0, len(exited), 1_000):
        async with conn.transaction():
            await submit_applications(conn, actor, p, [(h, 450_000) for h in exited[first : first + 1_000]])
    took["apply (eligibility from the registry)"] += (now := time.perf_counter()) - lap
    apps = await conn.fetch(
        "SELECT id, village_code FROM award_applications WHERE county_code = $1 AND program_id = $2", county, p["id"]
    )
    await _review(conn, actor, county, apps, "village", 12)
    took["village review, one transaction a village"] += (lap := time.perf_counter()) - now
    await _review(conn, actor, county, apps, "township", 9)
    took["township review, one transaction a township"] += (now := time.perf_counter()) - lap
    async with conn.transaction():
        notice, _ = await publish_notice(conn, actor, p, "", today, f"县{county[:6]}")
    took["publish the notice (公示)"] += (lap := time.perf_counter()) - now
    assert notice is not None
    async with conn.transaction():
        result = await grant_program(conn, actor, p["id"], notice["ends_on"] + dt.timedelta(days=1))
    took["grant (ledger, payables, certificates)"] += time.perf_counter() - lap
    assert result.granted == len(exited), (county, result)
    return result.granted


async def awards(conn: asyncpg.Connection, counties: list[str], stages: Stages) -> int:
    settings = Settings(database_url="", secret_key=os.urandom(32), data_key=os.urandom(32))
    took = dict.fromkeys(
        [
            "open the programme",
            "apply (eligibility from the registry)",
            "village review, one transaction a village",
            "township review, one transaction a township",
            "publish the notice (公示)",
            "grant (ledger, payables, certificates)",
        ],
        0.0,
    )
    granted = 0
    for county in counties:
        granted += await award_county(conn, settings, county, took)
    for name, seconds in took.items():
        if name == "open the programme":
            stages.add(f"awards: {name}", seconds, len(counties), "programmes")
        else:
            stages.add(f"awards: {name}", seconds, granted, "awards")
    return granted


async def holders_register(conn: asyncpg.Connection, counties: list[str], stages: Stages) -> None:
    """Ventures of 100 holders each over each county's registered households, by COPY."""
    rng = random.Random(20)
    per_county = max(1, HOLDERS // len(counties))
    start = time.perf_counter()
    for first in range(0, len(counties), 50):
        ventures, members, movements = [], [], []
        for county in counties[first : first + 50]:
            holders = await conn.fetch(
                "SELECT id FROM households WHERE county_code = $1 ORDER BY household_no LIMIT $2", county, per_county
            )
            for v in range(0, len(holders), HOLDERS_PER_VENTURE):
                vid = uuid.uuid4()
                name = f"经营主体{county[:6]}-{v // HOLDERS_PER_VENTURE}"
                ventures.append((county, vid, name, "branch_company", villages_of(county)[0], 10**9, "12-31", CHARTER))
                for k, h in enumerate(holders[v : v + HOLDERS_PER_VENTURE]):
                    mid, shares = uuid.uuid4(), rng.randrange(10, 1000)
                    members.append((county, mid, vid, k + 1, "household", h["id"], "户主"))
                    share_class = "poverty" if k % 10 == 0 else "ordinary"
                    subscribed = dt.date(YEAR - 1, 6, 1)
                    movements.append(
                        (county, uuid.uuid4(), vid, k + 1, "subscribe", None, mid, share_class, shares, shares * 100)
                        + (subscribed, "", "bench")
                    )
        await copy_register(conn, ventures, members, movements)
    await conn.execute("ANALYZE")
    stages.add("holders' register (ventures, members, shares) by COPY", time.perf_counter() - start, 2 * HOLDERS)


def projected(seconds: float, per_county_rows: float, national_per_county: float) -> tuple[float, float, float]:
    """(per county, per shard, cluster wall) seconds at national size: linear in a county's rows."""
    per_county = seconds / COUNTIES * (national_per_county / per_county_rows)
    return (
        per_county,
        per_county * NATIONAL_COUNTIES / CLUSTER_SHARDS,
        per_county * NATIONAL_COUNTIES / CLUSTER_NODES,
    )


def print_stages(stages: Stages, size: str, granted: int) -> None:
    households_per_county, holders_per_county = HOUSEHOLDS / COUNTIES, HOLDERS / COUNTIES
    rows: list[tuple[str, str]] = [("run", f"{HOUSEHOLDS:,} households, {COUNTIES} counties, {HOLDERS:,} holders")]
    rows.append(("columns", "seconds | rows/s | national: per county / per shard / 32-node cluster"))
    for name, seconds, count, unit in stages.rows:
        is_holders = name.startswith(("holders", "distribution"))
        per_county_rows = holders_per_county if is_holders else households_per_county
        national = (NATIONAL_HOLDERS if is_holders else NATIONAL_HOUSEHOLDS) / NATIONAL_COUNTIES
        county_s, shard_s, cluster_s = projected(seconds, per_county_rows, national)
        rate = f"{count / seconds:,.0f} {unit}/s" if count and seconds else "-"
        rows.append(
            (name, f"{seconds:8.2f} s | {rate} | {county_s:.2f} s / {shard_s:.1f} s / {cluster_s / 60:.1f} min")
        )
    total = sum(s for n, s, _, _ in stages.rows if not n.startswith("make"))
    rows.append(("database stages, in all", f"{total:.1f} s"))
    rows.append(("awards granted", f"{granted:,}"))
    rows.append(("database size", size))
    rows.append(("peak RSS (this process)", f"{peak_rss_mib()} MiB"))
    report("national: a registry of counties, their awards and a distribution", rows)


async def main() -> None:
    stages = Stages()
    async with fresh_database() as url:
        conn = await asyncpg.connect(url)
        await init_connection(conn)
        try:
            counties = await seed_regions(conn)
            await registry(conn, counties, stages)
            granted = await awards(conn, counties, stages)
            await holders_register(conn, counties, stages)
            start = time.perf_counter()
            counts = await run_province(url, conn)
            written = counts["journal_lines"] + counts["payables"] + counts["distribution_lines"]
            stages.add("distribution: every plan computed and posted", time.perf_counter() - start, written)
            start = time.perf_counter()
            verification = await verify_ledger(conn)
            stages.add("verify the ledger (every county: a fan-out)", time.perf_counter() - start, 0, "-")
            assert verification.ok, verification
            size = await conn.fetchval(
                """SELECT pg_size_pretty(pg_database_size(current_database())) || ' (households '
                          || pg_size_pretty(pg_total_relation_size('households')) || ', household_numbers '
                          || pg_size_pretty(pg_total_relation_size('household_numbers')) || ', status events '
                          || pg_size_pretty(pg_total_relation_size('household_status_events')) || ')'"""
            )
        finally:
            await conn.close()
    print_stages(stages, size, granted)
