"""A national registry on one box (issue 20): N households over M counties written by COPY, one
exit-award programme per county applied, reviewed, noticed and granted, and one year's
distribution over H holders; each stage's time, rows/s, its raw baseline, the database's size, and
what each stage would take per county shard on a 32-node Citus cluster.

Sizes (environment): BENCH_NATIONAL_SCALE (default 1) multiplies the national figures of 2020,
29,000,000 households in 830 counties and 1,000,000 holders; BENCH_NATIONAL_HOUSEHOLDS,
BENCH_NATIONAL_COUNTIES and BENCH_NATIONAL_HOLDERS set one directly. BENCH_NATIONAL_AWARD_SHARE
(default 0.05) is the share of each county's households that exited this year and apply. Scaling
counties with households keeps a county at its national size (about 35,000 households), so the
figures per county are measured, not extrapolated.

How it runs: every stage works county by county, BENCH_NATIONAL_STREAMS (default 2, one per core)
worker processes at once, each with its own connection, taking the next county when done. A
county's households are built (numbers sealed with the data key, as the registry's import seals
them) and COPYed in one transaction through the registry's own path, households and
household_numbers; one county at a time keeps each county-first index's insertions in the
county's own, recent pages rather than spread over the whole index.

Raw baseline: for every BENCH_NATIONAL_RAW_EVERY-th county (default 10), the same rows the stage
wrote, written again into bare copies of the tables (same indexes and checks, no foreign keys, no
triggers, no Python): a binary COPY of the households and their numbers, the same INSERT … SELECT
of status events. A stage's rate against its raw rate says what the product's path costs.

Projection: on the cluster every statement of a county goes to the node holding its shard
(docs/scale-out.md). A stage's time per county is the seconds its streams spent on the county
(not the wall time here, where two streams share the box), scaled linearly to the national rows
per county; times the counties of a shard (830 / 128 shards) it is the time per shard; a node
works its four shards one after another on one stream, the 32 nodes at once, so the cluster's wall
time is the time per county times the counties of a node (830 / 32). Assumed: a node as fast as
one stream of this box, the coordinator's routing and two-phase commits not counted (one per
transaction, a millisecond or two), the national COPY fed by one loader per node.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import io
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import asyncpg
from rich.progress import Progress, TextColumn

from db import awards as awards_q
from db import registry as registry_q
from db.pool import init_connection
from schemas.awards import CostShares, ProgramCreate
from service.awards.workflow import create_program, grant_program, publish_notice, record_reviews, submit_applications
from service.core.audit import Actor
from service.core.crypto import DataCipher
from service.core.identity import check_digit
from service.core.principal import Principal
from service.core.settings import Settings
from service.ledger.workflow import verify_ledger
from service.registry.rules import HouseholdDraft
from service.registry.workflow import STORED_COLUMNS, to_record
from tests.bench.bench_distributions import CHARTER, YEAR, raw_copy, run_province
from tests.bench.common import copy_register, fresh_database, peak_child_rss_mib, peak_rss_mib, report

# An hour at national size: `make bench` alone skips it, `make bench ONLY=national` runs it.
ONLY_WHEN_NAMED = True
NATIONAL_HOUSEHOLDS, NATIONAL_COUNTIES, NATIONAL_HOLDERS = 29_000_000, 830, 1_000_000
SCALE = float(os.environ.get("BENCH_NATIONAL_SCALE", "1"))
HOUSEHOLDS = int(os.environ.get("BENCH_NATIONAL_HOUSEHOLDS", round(NATIONAL_HOUSEHOLDS * SCALE)))
COUNTIES = int(os.environ.get("BENCH_NATIONAL_COUNTIES", max(1, round(NATIONAL_COUNTIES * SCALE))))
HOLDERS = int(os.environ.get("BENCH_NATIONAL_HOLDERS", round(NATIONAL_HOLDERS * SCALE)))
AWARD_SHARE = float(os.environ.get("BENCH_NATIONAL_AWARD_SHARE", "0.05"))
STREAMS = int(os.environ.get("BENCH_NATIONAL_STREAMS", "2"))
RAW_EVERY = int(os.environ.get("BENCH_NATIONAL_RAW_EVERY", "10"))
CLUSTER_NODES, CLUSTER_SHARDS = 32, 128
TOWNSHIPS, VILLAGES_PER_TOWNSHIP = 10, 10
HOLDERS_PER_VENTURE = 100
AWARD_FEN = 30_000

# The registry's stored columns (to_record's order) and the status the run starts from.
HOUSEHOLD_COLUMNS = [*STORED_COLUMNS, "status"]
EVENT_COLUMNS = "county_code, household_id, kind, year, effective_date, recorded_by"
# The bare copies the raw baselines write into: same indexes, checks and defaults, nothing else.
RAW_TABLES = ("households", "household_numbers", "household_status_events")


def county_code(i: int) -> str:
    """The i-th county: 28 provinces of 3 cities of 10 counties (codes as GB/T 2260 shapes them)."""
    return f"{10 + i // 30:02d}{(i % 30) // 10 + 1:02d}{i % 10 + 1:02d}000000"


def villages_of(county: str) -> list[str]:
    return [f"{county[:6]}{t + 1:03d}{200 + v:03d}" for t in range(TOWNSHIPS) for v in range(VILLAGES_PER_TOWNSHIP)]


def households_of(index: int) -> int:
    """The households of the index-th county: HOUSEHOLDS spread as evenly as they go."""
    return HOUSEHOLDS // COUNTIES + (1 if index < HOUSEHOLDS % COUNTIES else 0)


class Stage:
    """A stage's wall time here, the seconds its streams spent on counties, and its raw baseline."""

    def __init__(self, name: str, wall: float, stream: float, rows: int, unit: str = "rows") -> None:
        self.name, self.wall, self.stream, self.rows, self.unit = name, wall, stream, rows, unit
        self.raw: tuple[float, int] | None = None  # (stream seconds, rows) over the sampled counties
        self.parts: list[tuple[str, float]] = []  # its steps, in stream seconds


# ---- worker processes: one connection each, one county at a time ---------------------------------

_worker: dict[str, Any] = {}


def _worker_start(url: str, data_key: bytes) -> None:
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(asyncpg.connect(url))
    loop.run_until_complete(init_connection(conn))
    settings = Settings(database_url="", secret_key=os.urandom(32), data_key=data_key)
    _worker.update(loop=loop, conn=conn, settings=settings, cipher=DataCipher(data_key))


def _in_worker(job: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    return _worker["loop"].run_until_complete(job(_worker["conn"], *args))


async def fan_out(
    pool: ProcessPoolExecutor, progress: Progress, label: str, job: Callable[..., Awaitable[Any]], jobs: list[tuple]
) -> tuple[float, list[Any]]:
    """Each job (a county's arguments) on the next free stream; the wall seconds and the results."""
    task = progress.add_task(label, total=len(jobs))
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    futures = [loop.run_in_executor(pool, _in_worker, job, *args) for args in jobs]
    for done in asyncio.as_completed(futures):
        await done
        progress.advance(task)
    return time.perf_counter() - start, [f.result() for f in futures]


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


# ---- the registry ---------------------------------------------------------------------------------


@functools.cache
def born(days: int) -> str:
    return f"{dt.date(1950, 1, 1) + dt.timedelta(days=days):%Y%m%d}"


def household_drafts(index: int, county: str) -> list[HouseholdDraft]:
    """The county's households as the import's checks leave them: a head's ID number unique in the
    county (with its check digit), a card number, spread over the county's villages."""
    drafts = []
    for n in range(households_of(index)):
        village = f"{county[:6]}{n % TOWNSHIPS + 1:03d}{200 + (n // TOWNSHIPS) % VILLAGES_PER_TOWNSHIP:03d}"
        first17 = f"{county[:6]}{born(n // 1000)}{n % 1000:03d}"
        id_number, card = first17 + check_digit(first17), f"6228{index:05d}{n:010d}"
        drafts.append(
            HouseholdDraft(
                n, f"{village}{n:06d}", village, county, "王建国", id_number, 3, "农村信用社", card, None, None, None
            )
        )
    return drafts


async def load_county(conn: asyncpg.Connection, index: int, county: str) -> tuple[int, float, float]:
    """One county's households sealed (to_record) and COPYed with their numbers in one transaction;
    (rows, seconds building, seconds writing). In id order, so the primary key grows at its end."""
    start = time.perf_counter()
    records = sorted((to_record(d, _worker["cipher"]) + ("poor",) for d in household_drafts(index, county)), key=_id)
    built = time.perf_counter()
    async with conn.transaction():
        await registry_q.copy_households(conn, HOUSEHOLD_COLUMNS, records)
    return 2 * len(records), built - start, time.perf_counter() - built


def _id(record: tuple) -> uuid.UUID:
    return record[1]


async def raw_registry(conn: asyncpg.Connection, county: str) -> tuple[int, float]:
    """The county's households and numbers as stored, COPYed (binary) again into the bare copies."""
    households, numbers = io.BytesIO(), io.BytesIO()
    await conn.copy_from_query(
        "SELECT * FROM households WHERE county_code = $1 ORDER BY id", county, output=households, format="binary"
    )
    await conn.copy_from_query(
        "SELECT * FROM household_numbers WHERE county_code = $1 ORDER BY household_id",
        county,
        output=numbers,
        format="binary",
    )
    households.seek(0)
    numbers.seek(0)
    start = time.perf_counter()
    async with conn.transaction():
        copied = await conn.copy_to_table("raw_households", source=households, format="binary")
        await conn.copy_to_table("raw_household_numbers", source=numbers, format="binary")
    return 2 * int(copied.split()[-1]), time.perf_counter() - start


REGISTERED = """INSERT INTO {events} ({columns})
    SELECT county_code, id, 'registered', 2016, DATE '2016-03-01', 'bench' FROM households
    WHERE county_code = $1 ORDER BY id"""

EXITS = """WITH chosen AS (
        SELECT county_code, id FROM (
            SELECT county_code, id, row_number() OVER (ORDER BY household_no) AS n
            FROM {households} WHERE county_code = $1) h WHERE n % $2 = 0),
    events AS (
        INSERT INTO {events} ({columns})
        SELECT county_code, id, 'exited', 2025, DATE '2025-09-30', 'bench' FROM chosen)
    UPDATE {households} h SET status = 'exited' FROM chosen c WHERE h.county_code = c.county_code AND h.id = c.id
    RETURNING h.id, h.household_no"""


async def register_county(conn: asyncpg.Connection, county: str, prefix: str) -> tuple[int, float]:
    """Every household of the county registered poor in 2016 (in household order: the events'
    household index then grows in one sweep); prefix 'raw_' writes the bare copy instead."""
    start = time.perf_counter()
    status = await conn.execute(
        REGISTERED.format(events=f"{prefix}household_status_events", columns=EVENT_COLUMNS), county
    )
    return int(status.split()[-1]), time.perf_counter() - start


async def exit_county(
    conn: asyncpg.Connection, county: str, every: int, prefix: str
) -> tuple[int, float, list[uuid.UUID]]:
    """This year's exits: every n-th household of the county, an event and its status; (rows,
    seconds, the exited households in household-number order, who apply for the award)."""
    start = time.perf_counter()
    sql = EXITS.format(
        households=f"{prefix}households", events=f"{prefix}household_status_events", columns=EVENT_COLUMNS
    )
    exited = await conn.fetch(sql, county, every)
    seconds = time.perf_counter() - start
    return 2 * len(exited), seconds, [r["id"] for r in sorted(exited, key=_household_no)]


def _household_no(row: asyncpg.Record) -> str:
    return row["household_no"]


# ---- awards ---------------------------------------------------------------------------------------

AWARD_STEPS = (
    "open the programme",
    "apply (eligibility from the registry)",
    "village review, one transaction a village",
    "township review, one transaction a township",
    "publish the notice (公示)",
    "grant (ledger, payables, certificates)",
)


async def _review(conn: asyncpg.Connection, actor: Actor, county: str, apps: list, level: str, width: int) -> None:
    """One review transaction per village (width 12) or township (width 9), as the offices work."""
    by_place: dict[str, list[uuid.UUID]] = {}
    for a in apps:
        by_place.setdefault(a["village_code"][:width], []).append(a["id"])
    reason = "村两委评议通过" if level == "village" else "乡镇党委审核通过"
    for ids in by_place.values():
        async with conn.transaction():
            await record_reviews(conn, actor, county, ids, level, "approve", reason)


async def award_county(conn: asyncpg.Connection, county: str, exited: list[uuid.UUID]) -> tuple[int, dict[str, float]]:
    """The county's exit-award programme through every step, for the households that exited this
    year: (awards granted, seconds per step)."""
    actor, today, took = Actor.system("bench"), dt.date(2026, 1, 10), dict.fromkeys(AWARD_STEPS, 0.0)
    if not exited:
        return 0, took
    start = time.perf_counter()
    async with conn.transaction():
        shares = CostShares(province_bp=5000, city_bp=3000, county_bp=2000)
        data = ProgramCreate(county, "exit", 2025, AWARD_FEN, AWARD_FEN * len(exited), shares, name=f"{county}脱贫奖")
        created = await create_program(conn, actor, Principal.system("bench"), _worker["settings"], data)
    p = await awards_q.program(conn, created.id)
    assert p is not None
    took[AWARD_STEPS[0]] = (lap := time.perf_counter()) - start
    for first in range(0, len(exited), 1_000):
        async with conn.transaction():
            await submit_applications(conn, actor, p, [(h, 450_000) for h in exited[first : first + 1_000]])
    took[AWARD_STEPS[1]] = (now := time.perf_counter()) - lap
    apps = await conn.fetch(
        "SELECT id, village_code FROM award_applications WHERE county_code = $1 AND program_id = $2", county, p["id"]
    )
    await _review(conn, actor, county, apps, "village", 12)
    took[AWARD_STEPS[2]] = (lap := time.perf_counter()) - now
    await _review(conn, actor, county, apps, "township", 9)
    took[AWARD_STEPS[3]] = (now := time.perf_counter()) - lap
    async with conn.transaction():
        notice, _ = await publish_notice(conn, actor, p, "", today, f"县{county[:6]}")
    took[AWARD_STEPS[4]] = (lap := time.perf_counter()) - now
    assert notice is not None
    async with conn.transaction():
        result = await grant_program(conn, actor, p["id"], notice["ends_on"] + dt.timedelta(days=1))
    took[AWARD_STEPS[5]] = time.perf_counter() - lap
    assert result.granted == len(exited), (county, result)
    return result.granted, took


async def holders_register(conn: asyncpg.Connection, counties: list[str]) -> int:
    """Ventures of 100 holders each over each county's registered households, by COPY; rows written."""
    rng = random.Random(20)
    per_county = max(1, HOLDERS // len(counties))
    written = 0
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
        written += len(members) + len(movements)
    await conn.execute("ANALYZE")
    return written


# ---- the run --------------------------------------------------------------------------------------


async def registry(
    pool: ProcessPoolExecutor, progress: Progress, conn: asyncpg.Connection, counties: list[str]
) -> tuple[list[Stage], dict[str, list[uuid.UUID]]]:
    """The registry by COPY, every household registered poor in 2016 and this year's exits, each
    with its raw baseline over the sampled counties; and each county's exited households."""
    sample = counties[::RAW_EVERY]
    wall, loaded = await fan_out(pool, progress, "registry: seal + COPY", load_county, list(enumerate(counties)))
    copy = Stage(
        "COPY households + household_numbers", wall, sum(b + c for _, b, c in loaded), sum(r[0] for r in loaded)
    )
    copy.parts = [("of which sealing and building rows (Python)", sum(b for _, b, _ in loaded))]
    _, raw = await fan_out(pool, progress, "raw: binary COPY", raw_registry, [(c,) for c in sample])
    copy.raw = (sum(s for _, s in raw), sum(n for n, _ in raw))
    # Planned on no statistics, a county's statements below would scan every county's households.
    start = time.perf_counter()
    await conn.execute("ANALYZE households, household_numbers, raw_households")
    analyzed = Stage("ANALYZE the registry", *(2 * [time.perf_counter() - start]), 0, "-")
    wall, done = await fan_out(
        pool, progress, "status events: registered", register_county, [(c, "") for c in counties]
    )
    registered = Stage("status events: registered 2016", wall, sum(s for _, s in done), sum(n for n, _ in done))
    _, raw = await fan_out(pool, progress, "raw: status events", register_county, [(c, "raw_") for c in sample])
    registered.raw = (sum(s for _, s in raw), sum(n for n, _ in raw))
    every = max(1, round(1 / AWARD_SHARE))
    wall, done = await fan_out(pool, progress, "status events: exits", exit_county, [(c, every, "") for c in counties])
    exits = Stage("status events: this year's exits (+ status)", wall, sum(d[1] for d in done), sum(d[0] for d in done))
    _, raw = await fan_out(pool, progress, "raw: exits", exit_county, [(c, every, "raw_") for c in sample])
    exits.raw = (sum(r[1] for r in raw), sum(r[0] for r in raw))
    return [copy, analyzed, registered, exits], {c: d[2] for c, d in zip(counties, done, strict=True)}


async def awards(
    pool: ProcessPoolExecutor, progress: Progress, exited: dict[str, list[uuid.UUID]]
) -> tuple[Stage, int]:
    jobs = list(exited.items())
    wall, done = await fan_out(pool, progress, "awards: a programme a county", award_county, jobs)
    granted = sum(g for g, _ in done)
    steps = {step: sum(took[step] for _, took in done) for step in AWARD_STEPS}
    stage = Stage("awards: a county's programme through every step", wall, sum(steps.values()), granted, "awards")
    stage.parts = list(steps.items())
    return stage, granted


async def distribution(url: str, conn: asyncpg.Connection, progress: Progress) -> Stage:
    """One year's distribution over the holders (bench_distributions' run: its own worker
    processes, each computing and writing its chunks), against its raw COPY of the ledger tables
    it writes."""
    start = time.perf_counter()
    counts, _ = await run_province(url, conn, progress)
    wall = time.perf_counter() - start
    written = counts["journal_lines"] + counts["payables"] + counts["distribution_lines"]
    stage = Stage("distribution: every plan computed and posted", wall, wall, written)
    raw = await raw_copy(conn)
    rows = await conn.fetchval(
        "SELECT (SELECT count(*) FROM journal_lines) + (SELECT count(*) FROM payables)"
        " + (SELECT count(*) FROM distribution_lines)"
    )
    stage.raw = (sum(raw.values()), rows)
    return stage


SIZES = """SELECT pg_database_size(current_database()),
    (SELECT string_agg(relname || ' ' || pg_size_pretty(size) || ' (indexes ' || pg_size_pretty(indexes) || ')', ', '
                       ORDER BY size DESC)
     FROM (SELECT relname, pg_total_relation_size(oid) AS size, pg_indexes_size(oid) AS indexes FROM pg_class
           WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC LIMIT 6) t)"""

# What the rates depend on besides the code: the page cache PostgreSQL keeps and how often a
# checkpoint makes the next change of every page write its whole image to the WAL.
SERVER = """SELECT string_agg(name || ' ' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
    WHERE name IN ('shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'synchronous_commit', 'wal_compression')"""


async def main() -> None:
    stages: list[Stage] = []
    data_key = os.urandom(32)
    async with fresh_database() as url:
        conn = await asyncpg.connect(url)
        await init_connection(conn)
        try:
            counties = await seed_regions(conn)
            for table in RAW_TABLES:
                await conn.execute(f"CREATE TABLE raw_{table} (LIKE {table} INCLUDING ALL)")
            columns = (*Progress.get_default_columns(), TextColumn("{task.completed:,.0f}/{task.total:,.0f}"))
            with (
                Progress(*columns) as progress,
                ProcessPoolExecutor(STREAMS, initializer=_worker_start, initargs=(url, data_key)) as pool,
            ):
                registered, exited = await registry(pool, progress, conn, counties)
                stages += registered
                start = time.perf_counter()
                await conn.execute("ANALYZE")
                stages.append(Stage("ANALYZE", *(2 * [time.perf_counter() - start]), 0, "-"))
                stage, granted = await awards(pool, progress, exited)
                stages.append(stage)
                start = time.perf_counter()
                written = await holders_register(conn, counties)
                wall = time.perf_counter() - start
                stages.append(Stage("holders' register (ventures, members, shares) by COPY", wall, wall, written))
                stages.append(await distribution(url, conn, progress))
            start = time.perf_counter()
            verification = await verify_ledger(conn)
            wall = time.perf_counter() - start
            stages.append(Stage("verify the ledger (every county: a fan-out)", wall, wall, 0, "-"))
            assert verification.ok, verification
            for table in (*RAW_TABLES, "journal_lines", "payables", "distribution_lines"):
                await conn.execute(f"DROP TABLE IF EXISTS raw_{table}")
            await conn.execute("CHECKPOINT")
            size, largest = await conn.fetchrow(SIZES)
            server = await conn.fetchval(SERVER)
        finally:
            await conn.close()
    print_stages(stages, size, largest, granted, server)


# ---- the table ------------------------------------------------------------------------------------


def _is_holders(name: str) -> bool:
    return name.startswith(("holders", "distribution"))


def national_factor(name: str) -> float:
    """How many times the national size is this run's, in the rows the stage works on."""
    return NATIONAL_HOLDERS / HOLDERS if _is_holders(name) else NATIONAL_HOUSEHOLDS / HOUSEHOLDS


def projected(name: str, stream_seconds: float) -> str:
    """Per county, per shard and the cluster's wall time at national size: linear in a county's rows."""
    per_county_rows = (HOLDERS if _is_holders(name) else HOUSEHOLDS) / COUNTIES
    national = (NATIONAL_HOLDERS if _is_holders(name) else NATIONAL_HOUSEHOLDS) / NATIONAL_COUNTIES
    per_county = stream_seconds / COUNTIES * (national / per_county_rows)
    shard, cluster = per_county * NATIONAL_COUNTIES / CLUSTER_SHARDS, per_county * NATIONAL_COUNTIES / CLUSTER_NODES
    return f"{per_county:.2f} s / {shard:.1f} s / {cluster / 60:.1f} min"


def stage_line(s: Stage) -> str:
    here = f"{s.rows / s.wall:,.0f} {s.unit}/s" if s.rows and s.wall else "-"
    stream = f"{s.rows / s.stream:,.0f}" if s.rows and s.stream else "-"
    raw = "-"
    if s.raw and s.raw[0]:
        raw_rate = s.raw[1] / s.raw[0]
        raw = f"{raw_rate:,.0f}" + (f" ({raw_rate / (s.rows / s.stream):.1f}x)" if s.rows and s.stream else "")
    return f"{s.wall:8.1f} s | {here} | {s.stream:.1f} s, {stream}/s, raw {raw} | {projected(s.name, s.stream)}"


def print_stages(stages: list[Stage], size: int, largest: str, granted: int, server: str) -> None:
    rows: list[tuple[str, str]] = [
        ("run", f"{HOUSEHOLDS:,} households, {COUNTIES} counties, {HOLDERS:,} holders, {STREAMS} streams"),
        ("raw baseline", f"every {RAW_EVERY}th county's rows again into bare copies (same indexes, no FKs/triggers)"),
        (
            "columns",
            "wall here | rows/s here | streams' seconds, rows/s a stream, raw rows/s a stream (raw/this) "
            "| national: per county / per shard / 32-node cluster",
        ),
    ]
    for s in stages:
        rows.append((s.name, stage_line(s)))
        rows += [(f"  {part}", f"streams {seconds:.1f} s | {projected(s.name, seconds)}") for part, seconds in s.parts]
    total = sum(s.wall for s in stages)
    national = sum(s.wall * national_factor(s.name) for s in stages)
    rows.append(("database stages, in all", f"{total:.1f} s wall here"))
    rows.append(("this box at national size", f"about {national / 3600:.1f} h (each stage scaled by its rows)"))
    rows.append(("awards granted", f"{granted:,}"))
    projected_size = size * NATIONAL_HOUSEHOLDS / HOUSEHOLDS / 2**30
    rows.append(("database size", f"{size / 2**20:,.0f} MB (national: about {projected_size:.0f} GB)"))
    rows.append(("largest tables", largest))
    rows.append(("server settings", server))
    rows.append(("peak RSS", f"this process {peak_rss_mib()} MiB, a stream <= {peak_child_rss_mib()} MiB"))
    report("national: a registry of counties, their awards and a distribution", rows)
