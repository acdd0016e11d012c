"""Shared by the benchmarks: a fresh database, the machine's description, figures printed as a table."""

from __future__ import annotations

import os
import platform
import resource
import time
import uuid
from contextlib import asynccontextmanager, contextmanager

import asyncpg

from db.migrate import migrate
from db.pool import init_connection
from tests.database import server_url, with_database


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem_gib} GiB, Python {platform.python_version()}, {platform.system()}"


def peak_rss_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def peak_child_rss_mib() -> int:
    """The largest peak of any finished child process (the kernel reports no sum)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


@asynccontextmanager
async def fresh_database():
    """A migrated, empty database for one benchmark, dropped afterwards. Yields its URL."""
    base = server_url("pg-bench")
    name = f"huinong_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(with_database(base, "postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = with_database(base, name)
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    await migrate(conn)
    await conn.close()
    try:
        yield url
    finally:
        admin = await asyncpg.connect(with_database(base, "postgres"))
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextmanager
def timed(figures: dict, name: str):
    start = time.perf_counter()
    yield
    figures[name] = time.perf_counter() - start


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n## {title}")
    print(f"machine: {machine()}")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


VENTURE_COLUMNS = [
    "county_code",
    "id",
    "name",
    "model",
    "village_code",
    "registered_capital_fen",
    "record_date_mmdd",
    "charter",
]
MEMBER_COLUMNS = ["county_code", "id", "venture_id", "member_no", "kind", "household_id", "name"]
MOVEMENT_COLUMNS = [
    "county_code",
    "id",
    "venture_id",
    "register_no",
    "kind",
    "from_member_id",
    "to_member_id",
    "share_class",
    "shares",
    "capital_fen",
    "effective_date",
    "reason",
    "recorded_by",
]


async def copy_register(conn: asyncpg.Connection, ventures: list, members: list, movements: list) -> None:
    """Ventures, their members and share movements written straight with COPY (rows in the column
    orders above), for benchmarks that need a register without replaying it movement by movement."""
    await conn.copy_records_to_table("ventures", records=ventures, columns=VENTURE_COLUMNS)
    await conn.copy_records_to_table("venture_members", records=members, columns=MEMBER_COLUMNS)
    await conn.copy_records_to_table("share_movements", records=movements, columns=MOVEMENT_COLUMNS)
