"""Upload bombs and large sheets (issue 13, "Uploads that exhaust the server").

Through the HTTP API of an in-process app on a fresh database (the demo county loaded), as the
admin: each bomb of tests/upload_bombs.py posted to POST /ventures/{id}/transactions/import, with
the time to its answer and the process's peak RSS above where it stood before (sampled every
2 ms by a thread); then a legitimate sheet of 250,000 rows (xlsx and CSV, every row naming an
unknown member, so the figures are parsing and checking, not COPY), with /health asked every
50 ms meanwhile and its slowest answer reported.

`python -m tests.bench uploads`
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import psutil
import xlsxwriter

from db.pool import init_connection
from service.app import create_app
from service.core.crypto import DataCipher
from service.core.settings import Settings
from service.demo import seed_demo
from tests.bench.common import fresh_database, report
from tests.upload_bombs import csv_rows, lying_bomb, rows_bomb, string_bomb

ADMIN_PASSWORD = "bench-admin-password"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS = 250_000


class PeakRss:
    """The process's largest RSS while the block runs, sampled by a thread."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.before = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self.before = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def above_mib(self) -> float:
        return (self.peak - self.before) / 2**20


def big_xlsx(rows: int) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["成员编号", "交易日期", "品名", "数量（克）", "金额（分）"])
    for r in range(1, rows + 1):
        sheet.write_row(r, 0, ["9999", "2025-03-01", "鸡蛋", 500, 600])
    book.close()
    return out.getvalue()


async def timed_post(post: Callable[[], Awaitable[httpx.Response]]) -> tuple[httpx.Response, float, float]:
    with PeakRss() as rss:
        start = time.perf_counter()
        r = await post()
        elapsed = time.perf_counter() - start
    return r, elapsed, rss.above_mib


async def health_during(client: httpx.AsyncClient, work: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    """The answer to `work`, and the slowest /health answer while it ran."""
    task = asyncio.ensure_future(work)
    slowest = 0.0
    while not task.done():
        start = time.perf_counter()
        await client.get("/health")
        slowest = max(slowest, time.perf_counter() - start)
        await asyncio.sleep(0.05)
    return await task, slowest


async def _setup(url: str) -> None:
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        await seed_demo(conn, DataCipher(b"b" * 32))
    finally:
        await conn.close()


async def main() -> None:
    async with fresh_database() as url:
        await _setup(url)
        settings = Settings(database_url=url, secret_key=b"s" * 32, data_key=b"b" * 32, admin_password=ADMIN_PASSWORD)
        app = create_app(settings)
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:
                rows = await _run(client)
    report("uploads: bombs refused, large sheets parsed off the event loop", rows)


async def _run(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    r = await client.post("/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD})
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    venture = {
        "name": "压测合作社",
        "model": "cooperative",
        "village_code": "621223100201",
        "registered_capital_fen": 100_000_000,
        "charter": {},
    }
    r = await client.post("/ventures", json=venture, headers=auth)
    assert r.status_code == 201, r.text
    url = f"/ventures/{r.json()['id']}/transactions/import"

    def post(name: str, content: bytes) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: client.post(url, headers=auth, files={"file": (name, content, XLSX_TYPE)})

    rows: list[tuple[str, str]] = []
    for label, name, build in (
        ("xlsx of 2,000,000 rows", "rows.xlsx", rows_bomb),
        ("xlsx with a 200 MB shared string", "string.xlsx", string_bomb),
        ("xlsx whose ZIP understates a 200 MB part", "lying.xlsx", lying_bomb),
        ("CSV of 1,500,000 rows", "rows.csv", csv_rows),
    ):
        content = build()
        r, seconds, mib = await timed_post(post(name, content))
        rows.append(
            (label, f"{len(content) / 2**10:,.0f} KiB → {r.status_code} in {seconds:.3f} s, peak RSS +{mib:.0f} MiB")
        )
        del content
    for label, name, content in (
        (f"xlsx of {ROWS:,} rows (all refused)", "big.xlsx", big_xlsx(ROWS)),
        (f"CSV of {ROWS:,} rows (all refused)", "big.csv", csv_rows(ROWS).replace(b"\n1,", b"\n9,")),
    ):
        with PeakRss() as rss:
            start = time.perf_counter()
            r, slowest = await health_during(client, post(name, content)())
            seconds = time.perf_counter() - start
        assert r.status_code == 422, r.text[:300]
        rows.append(
            (
                label,
                f"{len(content) / 2**20:.1f} MiB → {r.status_code} in {seconds:.2f} s, peak RSS +{rss.above_mib:.0f} MiB, "
                f"slowest /health meanwhile {slowest * 1000:.0f} ms",
            )
        )
    rows.append(("process RSS at the end", f"{psutil.Process().memory_info().rss / 2**20:.0f} MiB"))
    return rows
