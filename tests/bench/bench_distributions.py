"""Benchmark: a synthetic province of 10,000 ventures and 1,000,000 holders, one fiscal year.

Measured: compute every plan and write its journal entry, lines, distribution lines and payables
(the workflow's bulk steps, the same functions the API's draft and post use, chunked), against a raw COPY of the same number of rows
into tables with the same indexes, in the same run, with the time of each stage (the workers'
compute, each table's COPY, the commit's checks) and rich progress through setup and run.
Target: at most 1.5× the raw COPY (issue 19), peak RSS under 1 GiB.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

import asyncpg
from rich.progress import Progress, TextColumn

from db import distributions as distributions_q
from db import ledger
from db import registry as registry_q
from db.pool import init_connection
from service.core.principal import Principal
from service.demo import demo_id_number
from service.distributions import rules, workflow
from service.registry.workflow import STORED_COLUMNS
from tests.bench.common import copy_register, fresh_database, peak_child_rss_mib, peak_rss_mib, report

VENTURES = int(os.environ.get("BENCH_VENTURES", "10000"))
HOLDERS_PER_VENTURE = int(os.environ.get("BENCH_HOLDERS_PER_VENTURE", "100"))
COUNTIES = 10
CHUNK = 250
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
YEAR = 2025
CHARTER = {
    "weighting": "record_date",
    "reserve_bp": 1000,
    "discretionary_bp": 500,
    "patronage_bp": 6000,
    "floor_mode": "minimum",
    "floor_bp": 500,
    "poverty_participates": True,
    "poverty_follows_status": False,
}


# The registry's stored columns without the optional ones (phone, PIN, split), and the status:
# written by the registry's path, households and household_numbers.
HOUSEHOLD_COLUMNS = [*STORED_COLUMNS[: STORED_COLUMNS.index("phone_enc")], "status"]


def county(i: int) -> str:
    return f"6212{i:02d}000000"


async def build_province(conn: asyncpg.Connection, progress: Progress) -> None:
    """Households, ventures, members and one subscription per holder, written straight with COPY."""
    import random

    task = progress.add_task("setup: households, ventures, register", total=VENTURES)
    rng = random.Random(7)
    regions = [
        ("620000000000", "甘肃省", "province", None, None),
        ("621200000000", "陇南市", "city", "620000000000", None),
    ]
    for c in range(COUNTIES):
        code = county(c + 1)
        regions += [
            (code, f"县{c + 1}", "county", "621200000000", code),
            (code[:6] + "100000", "镇", "township", code, code),
            (code[:6] + "100201", "村", "village", code[:6] + "100000", code),
        ]
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
                households.append(
                    (
                        c,
                        hid,
                        f"B{v:05d}-{h:03d}",
                        village,
                        "户主",
                        "户*",
                        b"x",
                        os.urandom(16),
                        demo_id_number(rng)[:6] + "********0000",
                        3,
                        "信用社",
                        b"x",
                        os.urandom(16),
                        "6228 **** **** 0000",
                        "poor",
                    )
                )
                members.append((c, mid, vid, h + 1, "household", hid, "户主"))
                poverty = h % 10 == 0
                shares = rng.randrange(10, 1000)
                movements.append(
                    (
                        c,
                        uuid.uuid4(),
                        vid,
                        h + 1,
                        "subscribe",
                        None,
                        mid,
                        "poverty" if poverty else "ordinary",
                        shares,
                        shares * 100,
                        dt.date(YEAR - 1, 6, 1),
                        "",
                        "bench",
                    )
                )
        await registry_q.copy_households(conn, HOUSEHOLD_COLUMNS, households)
        await copy_register(conn, ventures, members, movements)
        progress.advance(task, len(ventures))
    await conn.execute("ANALYZE")


async def prepare_chunk(conn: asyncpg.Connection, venture_ids: list[uuid.UUID], posted_on: dt.date) -> list[tuple]:
    """Plans of a chunk of ventures turned into the rows a draft and its posting write
    (distributions, their lines, the journal entry and lines, the payables), per county: the plans
    and postings come from the workflow's bulk steps (plan_many, postings_for), which the API's
    draft and post use for one venture."""
    profits = {vid: 5_000_000 + (vid.int % 1_000_000) for vid in venture_ids}
    planned = await workflow.plan_many(conn, Principal.system("bench"), venture_ids, YEAR, profits)
    by_county: dict[str, list[workflow.Planned]] = {}
    for p in planned:
        by_county.setdefault(p.facts.county_code, []).append(p)
    out = []
    for county_code, items in by_county.items():
        postings = await workflow.postings_for(conn, county_code, items, posted_on)
        rows, lines = [], []
        for p in items:
            kept = [pl for pl in p.plan.lines if pl.amount_fen]
            rows.append(
                (
                    county_code,
                    p.distribution_id,
                    p.facts.uuid(p.facts.venture_id),
                    YEAR,
                    p.profit_fen,
                    "posted",
                    rules.waterfall_of(p.plan),
                    rules.carried_json(p.facts.carried),
                    rules.carried_json(p.plan.carried),
                    len(kept),
                    sum(pl.amount_fen for pl in kept),
                    "bench",
                )
            )
            lines += distributions_q.line_records(county_code, p.distribution_id, p.facts, kept)
        entry_ids, entries, entry_lines = ledger.entry_records(county_code, [posting.entry for posting in postings])
        payables = []
        for entry_id, posting in zip(entry_ids, postings, strict=True):
            payables += posting.payables(entry_id, {})
        _, payable_rows = ledger.payable_records(county_code, payables)
        out.append((entries, entry_lines, rows, lines, payable_rows))
    return out


DISTRIBUTION_COLUMNS = [
    "county_code",
    "id",
    "venture_id",
    "fiscal_year",
    "profit_fen",
    "status",
    "waterfall",
    "carried_in",
    "carried_out",
    "lines_count",
    "lines_total_fen",
    "created_by",
]
# What a chunk's transaction writes besides the journal, in order, each timed. The journal is
# written as ledger.copy_entries does: lines (each checked against its header and its account),
# headers (each checked to balance), then one balance upsert per account.
WRITES = (
    ("distributions", DISTRIBUTION_COLUMNS),
    ("distribution_lines", distributions_q.LINE_COLUMNS),
    ("payables", ledger.PAYABLE_COLUMNS),
)


def _add(stages: dict[str, float], name: str, start: float) -> None:
    stages[name] = stages.get(name, 0.0) + time.perf_counter() - start


async def write_prepared(
    conn: asyncpg.Connection, prepared: list[tuple], counts: dict[str, int], stages: dict[str, float]
) -> None:
    """One chunk in one transaction: the same writes as ledger.copy_entries and the workflow's bulk
    writes, each table's time kept apart, and the commit. The balances of the whole chunk are moved
    last, just before the commit, so that another worker, posting to the same county's accounts,
    waits for their row locks only that long."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        chunk_lines: list[tuple] = []
        for entries, entry_lines, *tables in prepared:
            start = time.perf_counter()
            await ledger.copy_lines(conn, entry_lines)
            _add(stages, "COPY journal_lines", start)
            start = time.perf_counter()
            await ledger.copy_headers(conn, entries)
            _add(stages, "COPY journal_entries", start)
            chunk_lines += entry_lines
            counts["journal_lines"] = counts.get("journal_lines", 0) + len(entry_lines)
            counts["journal_entries"] = counts.get("journal_entries", 0) + len(entries)
            for (table, columns), records in zip(WRITES, tables, strict=True):
                start = time.perf_counter()
                await conn.copy_records_to_table(table, records=records, columns=columns)
                _add(stages, f"COPY {table}", start)
                counts[table] = counts.get(table, 0) + len(records)
        start = time.perf_counter()
        await ledger.add_to_balances(conn, chunk_lines)
        _add(stages, "account balances", start)
    except BaseException:
        await transaction.rollback()
        raise
    start = time.perf_counter()
    await transaction.commit()
    _add(stages, "commit", start)


_worker: dict = {}


def _worker_start(url: str) -> None:
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(asyncpg.connect(url))
    loop.run_until_complete(init_connection(conn))
    _worker.update(loop=loop, conn=conn)
    gc.freeze()  # what the worker inherited and imported is never garbage: no pass looks at it again


@contextmanager
def collector_paused():
    """The cyclic garbage collector off for one chunk, and one pass after it. A chunk makes a few
    million small acyclic objects (facts, plan lines, rows), which reference counting frees; the
    collector's passes over them while they live found nothing and cost a third of the worker's
    CPU (42 against 62 µs a holder, measured on one chunk after another)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def _worker_run(venture_ids: list[uuid.UUID], posted_on: dt.date) -> tuple[dict[str, int], dict[str, float]]:
    """A chunk computed and written by this worker on its own connection: the rows written per
    table and the seconds per stage, the worker's CPU for the compute and for the writes apart."""
    loop, conn = _worker["loop"], _worker["conn"]
    counts: dict[str, int] = {}
    stages: dict[str, float] = {}
    with collector_paused():
        cpu, wall = time.process_time(), time.perf_counter()
        prepared = loop.run_until_complete(prepare_chunk(conn, venture_ids, posted_on))
        stages[COMPUTE_CPU] = time.process_time() - cpu
        stages[COMPUTE_WALL] = time.perf_counter() - wall
        cpu = time.process_time()
        loop.run_until_complete(write_prepared(conn, prepared, counts, stages))
        del prepared
        stages[WRITE_CPU] = time.process_time() - cpu
    return counts, stages


COMPUTE_CPU = "compute (workers' CPU)"
COMPUTE_WALL = "compute (workers' wall, reads included)"
WRITE_CPU = "writes (workers' CPU: encoding the COPY rows)"


async def run_province(url: str, conn: asyncpg.Connection, progress: Progress) -> tuple[dict, dict]:
    """Every venture's plan computed and posted, chunked: each worker process reads, computes and
    writes its chunk in a transaction of its own on its own connection, so a chunk's rows never
    cross between processes (pickling them cost as much CPU as computing them), and while one
    worker computes another's COPY keeps the database busy. Answers the rows written per table and
    the seconds per stage (summed over the workers)."""
    counts: dict[str, int] = {}
    stages = {COMPUTE_CPU: 0.0, COMPUTE_WALL: 0.0, WRITE_CPU: 0.0}
    posted_on = dt.date(YEAR + 1, 2, 1)
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM ventures ORDER BY county_code, id")]
    chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
    loop = asyncio.get_running_loop()
    task = progress.add_task("compute + post", total=len(ids))
    with ProcessPoolExecutor(WORKERS, initializer=_worker_start, initargs=(url,)) as pool:
        for done in asyncio.as_completed([loop.run_in_executor(pool, _worker_run, c, posted_on) for c in chunks]):
            chunk_counts, chunk_stages = await done
            for table, n in chunk_counts.items():
                counts[table] = counts.get(table, 0) + n
            for stage, seconds in chunk_stages.items():
                stages[stage] = stages.get(stage, 0.0) + seconds
            progress.advance(task, chunk_counts["distributions"])
    return counts, stages


RAW_TABLES = ("journal_lines", "payables", "distribution_lines")


async def raw_copy(conn: asyncpg.Connection) -> dict[str, float]:
    """The very rows the run wrote, dumped and COPYed back into bare copies of their tables (same
    indexes, no triggers, no checks): the floor any posting path could reach on this machine.
    Seconds per table."""
    seconds = {}
    with tempfile.TemporaryDirectory() as folder:
        for table in RAW_TABLES:
            dump = os.path.join(folder, table)
            await conn.copy_from_table(table, output=dump, format="binary")
            await conn.execute(f"CREATE TABLE raw_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)")
            start = time.perf_counter()
            async with conn.transaction():
                await conn.copy_to_table(f"raw_{table}", source=dump, format="binary")
            seconds[table] = time.perf_counter() - start
    return seconds


def figures(setup: float, run: float, counts: dict, stages: dict, raw: dict[str, float], ok: bool) -> list:
    rows = sum(counts[t] for t in RAW_TABLES)
    raw_total = sum(raw.values())
    out = [
        ("ventures / holders", f"{VENTURES:,} / {VENTURES * HOLDERS_PER_VENTURE:,}"),
        ("setup (not measured)", f"{setup:.1f} s"),
        ("compute + post", f"{run:.1f} s ({WORKERS} worker processes, each computing and writing its chunks)"),
        ("rows written", ", ".join(f"{counts[t]:,} {t.replace('_', ' ')}" for t in counts) + f" ({rows / run:,.0f}/s)"),
    ]
    out += [(f"  {name}", f"{seconds:.1f} s") for name, seconds in stages.items()]
    out += [(f"raw COPY {t}", f"{raw[t]:.1f} s (the run's COPY: {stages[f'COPY {t}']:.1f} s)") for t in RAW_TABLES]
    out += [
        ("raw COPY of the same rows", f"{raw_total:.1f} s"),
        ("ratio to raw COPY", f"{run / raw_total:.2f}x (target <= 1.5x)"),
        (
            "peak RSS",
            f"main {peak_rss_mib()} MiB + {WORKERS} workers <= {peak_child_rss_mib()} MiB each = "
            f"<= {peak_rss_mib() + WORKERS * peak_child_rss_mib()} MiB (target < 1024)",
        ),
        ("ledger sums to zero", str(ok)),
    ]
    return out


async def main() -> None:
    async with fresh_database() as url:
        conn = await asyncpg.connect(url)
        await init_connection(conn)
        try:
            with Progress(*Progress.get_default_columns(), TextColumn("{task.completed:,.0f} ventures")) as progress:
                t0 = time.perf_counter()
                await build_province(conn, progress)
                setup = time.perf_counter() - t0
                t0 = time.perf_counter()
                counts, stages = await run_province(url, conn, progress)
                run = time.perf_counter() - t0
                ok = await conn.fetchval("SELECT sum(amount_fen) = 0 FROM journal_lines")
                raw_task = progress.add_task("raw COPY of the same rows", total=None)
                raw = await raw_copy(conn)
                progress.update(raw_task, total=1, completed=1)
        finally:
            await conn.close()
    report("Distributions: a province in one run", figures(setup, run, counts, stages, raw, ok))


if __name__ == "__main__":
    asyncio.run(main())
