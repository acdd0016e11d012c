"""A payment batch of 100,000 payables: build, export (each bank profile), import of its return file.

Runs the use cases the API runs (service.payments.workflow), on a fresh database with the demo
county; the payables are spread over its households. BENCH_PAYABLES sets another size
(`BENCH_PAYABLES=500 python -m tests.bench payments` proves it runs).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os

import asyncpg

from db.pool import init_connection
from schemas.payments import BatchCreate
from service.core.audit import Actor
from service.core.crypto import DataCipher
from service.core.principal import Principal
from service.demo import COUNTY, seed_demo
from service.payments.workflow import approve_batch, build_batch, export_bank_file, import_return, prepare_return
from tests.bench.common import fresh_database, peak_rss_mib, report, timed
from tests.payables_factory import make_payables

PAYABLES = int(os.environ.get("BENCH_PAYABLES", "100000"))
AMOUNT_FEN = 30_000
TODAY = dt.date(2026, 1, 20)


def bank_answer(bank_file: bytes) -> bytes:
    """The bank's return file: every line of the pipe file with 成功, one line in fifty failed."""
    out = []
    for line in bank_file.decode("gb18030").splitlines():
        if line and not line.startswith(("HEAD|", "TAIL|")):
            out.append(line + ("失败|户名不符|" if int(line.split("|")[0]) % 50 == 0 else "成功||"))
    return ("\r\n".join(out) + "\r\n").encode("gb18030")


async def run() -> None:
    figures: dict[str, float] = {}
    cipher = DataCipher(b"d" * 32)
    maker = Principal(kind="user", id="bench-maker", name="bench-maker", role="finance_officer", region_code=COUNTY)
    checker = Principal(
        kind="user", id="bench-checker", name="bench-checker", role="finance_approver", region_code=COUNTY
    )
    async with fresh_database() as url:
        conn = await asyncpg.connect(url)
        await init_connection(conn)
        try:
            await seed_demo(conn, cipher)
            households = [r["id"] for r in await conn.fetch("SELECT id FROM households ORDER BY household_no")]
            with timed(figures, "payables"):
                await make_payables(
                    conn, COUNTY, [households[n % len(households)] for n in range(PAYABLES)], AMOUNT_FEN
                )
            with timed(figures, "build"):
                async with conn.transaction():
                    batch = await build_batch(
                        conn,
                        Actor("finance_officer:bench-maker", None),
                        maker,
                        BatchCreate(county_code=COUNTY, source="award"),
                    )
            assert batch.count == PAYABLES and batch.total_fen == PAYABLES * AMOUNT_FEN
            async with conn.transaction():
                await approve_batch(conn, Actor("finance_approver:bench-checker", None), checker, batch.id)
            files = {}
            for profile in ("pipe", "csv", "xlsx"):
                with timed(figures, f"export {profile}"):
                    async with conn.transaction():
                        exported = await export_bank_file(
                            conn, Actor("finance_officer:bench-maker", None), maker, cipher, batch.id, profile
                        )
                files[profile] = exported.content
            answer = bank_answer(files["pipe"])
            with timed(figures, "import return"):
                upload = await prepare_return(conn, maker, batch.id, answer, "huipan.txt")
                async with conn.transaction():
                    result = await import_return(
                        conn, Actor("finance_officer:bench-maker", None), maker, upload, today=TODAY
                    )
            assert (result.paid, result.failed) == (PAYABLES - PAYABLES // 50, PAYABLES // 50)
            assert result.batch_status == "closed"
            with timed(figures, "import again (no change)"):
                async with conn.transaction():
                    again = await import_return(
                        conn, Actor("finance_officer:bench-maker", None), maker, upload, today=TODAY
                    )
            assert again.paid == 0 and again.already_paid == result.paid
        finally:
            await conn.close()
    sizes = {p: f"{len(c) / 2**20:.1f} MiB" for p, c in files.items()}
    report(
        f"payments: a batch of {PAYABLES:,} payables",
        [
            ("make payables (COPY, setup)", f"{figures['payables']:.2f} s"),
            ("build batch", f"{figures['build']:.2f} s"),
            *[(f"export {p} ({sizes[p]})", f"{figures[f'export {p}']:.2f} s") for p in ("pipe", "csv", "xlsx")],
            (f"import return ({result.paid:,} paid, {result.failed:,} failed)", f"{figures['import return']:.2f} s"),
            ("import the same file again", f"{figures['import again (no change)']:.2f} s"),
            ("peak RSS", f"{peak_rss_mib()} MiB"),
        ],
    )


def main() -> None:
    asyncio.run(run())
