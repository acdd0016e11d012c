"""The raw side of bench_reads: the queries a read runs, recorded from the service's own pool, and
an asyncpg loop running them with nothing else around them.

Each read is requested once per target in process (Litestar's test client over the same app the
server runs) with a query logger on every pooled connection; what the read ran is kept, except
what only the service needs: the token's principal, BEGIN/COMMIT and the pool's reset, and
asyncpg's one-off type introspection of a connection. The raw loop then runs each recorded set
as it came, target after target, at the same concurrency."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

import service.app
from db.pool import create_pool, init_connection
from service.core.settings import Settings

QuerySet = list[tuple[str, tuple[Any, ...]]]
NOT_THE_READ = re.compile(
    r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET |RESET|SELECT pg_advisory_unlock_all|CLOSE ALL|UNLISTEN)"
    r"|FROM users WHERE id = \$1 AND NOT disabled|SELECT id, household_no, county_code, village_code FROM households"
    r" WHERE id = \$1$"
    # asyncpg's own look-up of a type it meets first on a connection (and its jit switch around it)
    r"|WITH RECURSIVE typeinfo_tree|current_setting\('jit'\)|set_config\('jit'",
    re.IGNORECASE,
)
RECORDED_TARGETS = 64


async def record_queries(settings: Settings, reads: dict[str, list[Any]]) -> dict[str, list[QuerySet]]:
    """For each read, the queries each of (up to RECORDED_TARGETS of) its targets ran."""
    log: QuerySet = []
    original = service.app.create_pool

    def keep(record: Any) -> None:
        if not NOT_THE_READ.search(record.query):
            log.append((record.query, tuple(record.args or ())))

    async def logging_init(conn: asyncpg.Connection) -> None:
        await init_connection(conn)
        conn.add_query_logger(keep)

    async def logging_pool(dsn: str, **kwargs: Any) -> asyncpg.Pool:
        return await asyncpg.create_pool(dsn, min_size=1, max_size=2, init=logging_init)

    service.app.create_pool = logging_pool  # type: ignore[assignment]
    recorded: dict[str, list[QuerySet]] = {}
    try:
        async with AsyncTestClient(service.app.create_app(settings)) as client:
            for name, targets in reads.items():
                recorded[name] = []
                for target in targets[:RECORDED_TARGETS]:
                    log.clear()
                    answer = await client.get(target.path, headers={target.header: target.value})
                    assert answer.status_code == 200, (name, target.path, answer.status_code, answer.text[:300])
                    await asyncio.sleep(0)  # the logger is called soon after each query
                    recorded[name].append(list(log))
                assert all(recorded[name]), f"{name}: no queries recorded"
    finally:
        service.app.create_pool = original
    return recorded


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


async def raw_loop(
    url: str, sets: list[QuerySet], tasks: int, seconds: float, *, connections: int, warm: bool = True
) -> dict[str, float]:
    """The recorded sets run back to back by `tasks` tasks for `seconds`, over a pool of as many
    connections as the service may hold (a shared server has few to spare), reset as the
    service's are (not at all): sets/s, p50, p99."""
    pool = await create_pool(url, min_size=min(tasks, connections), max_size=min(tasks, connections))
    latencies: list[float] = []

    async def task(n: int, until: float, keep: bool) -> None:
        i = n
        while time.perf_counter() < until:
            start = time.perf_counter()
            async with pool.acquire() as conn:
                for query, args in sets[i % len(sets)]:
                    await conn.fetch(query, *args)
            if keep:
                latencies.append(time.perf_counter() - start)
            i += 1

    try:
        warmed = time.perf_counter() + (1 if warm else 0.2)
        await asyncio.gather(*(task(n, warmed, False) for n in range(tasks)))
        start = time.perf_counter()
        await asyncio.gather(*(task(n, start + seconds, True) for n in range(tasks)))
        elapsed = time.perf_counter() - start
    finally:
        await pool.close()
    return {
        "rate": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }
