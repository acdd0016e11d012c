"""Registers and the year report of a county of 15,000 households (issue 17).

The county's year is worked through the use cases: an exit award to every household (apply,
two reviews, 公示, grant), one branch company per village whose members are its 500 households
(a plan drafted, noticed and posted per company), and the awards paid through one bank batch with
2% of its lines returned failed. Then the registers of the county (by township), of one township
(by village) and of one village (by household) are made as JSON, xlsx and PDF, and the county's
year report as PDF and HTML with its four charts; each register's checks against the payables and
the ledger must agree. BENCH_REPORT_HOUSEHOLDS sets another size (e.g. 3000 for a quick run).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid

import asyncpg

from db import awards as awards_q
from db.pool import init_connection
from schemas.awards import CostShares, ProgramCreate
from schemas.payments import BatchCreate
from service.awards.workflow import create_program, grant_program, publish_notice, record_reviews, submit_applications
from service.core.audit import Actor
from service.core.crypto import DataCipher
from service.core.principal import Principal
from service.core.settings import Settings
from service.distributions import workflow as distributions
from service.ledger.workflow import verify_ledger
from service.payments.workflow import approve_batch, build_batch, export_bank_file, import_return, prepare_return
from service.reports import renderers
from service.reports import workflow as reports
from tests.bench import bench_awards
from tests.bench.bench_payments import bank_answer
from tests.bench.common import copy_register, fresh_database, peak_rss_mib, report, timed

HOUSEHOLDS = int(os.environ.get("BENCH_REPORT_HOUSEHOLDS", "15000"))
COUNTY, TOWNSHIPS = bench_awards.COUNTY, bench_awards.TOWNSHIPS
YEAR = 2025
CHARTER = {
    "weighting": "record_date",
    "reserve_bp": 1000,
    "discretionary_bp": 0,
    "patronage_bp": 6000,
    "floor_mode": "minimum",
    "floor_bp": 500,
    "poverty_participates": True,
    "poverty_follows_status": False,
}
ADMIN = Principal.system("bench")


async def award_everyone(conn: asyncpg.Connection, settings: Settings, villages: list[str]) -> None:
    actor = Actor.system("bench")
    async with conn.transaction():
        created = await create_program(
            conn,
            actor,
            ADMIN,
            settings,
            ProgramCreate(
                county_code=COUNTY,
                kind="exit",
                year=YEAR,
                amount_fen=30_000,
                budget_fen=30_000 * HOUSEHOLDS,
                cost_shares=CostShares(province_bp=5000, city_bp=3000, county_bp=2000),
                name="测试县2025年度脱贫奖",
            ),
        )
    p = await awards_q.program(conn, created.id)
    households = [r["id"] for r in await conn.fetch("SELECT id FROM households ORDER BY household_no")]
    for start in range(0, len(households), 1000):
        async with conn.transaction():
            await submit_applications(
                conn, actor, p, [(h, 400_000 + h.int % 900_000) for h in households[start : start + 1000]]
            )
    apps = await conn.fetch("SELECT id, village_code FROM award_applications WHERE program_id = $1", p["id"])
    for level, groups in (("village", villages), ("township", TOWNSHIPS)):
        for code in groups:
            width = 12 if level == "village" else 9
            async with conn.transaction():
                await record_reviews(
                    conn,
                    actor,
                    COUNTY,
                    [a["id"] for a in apps if a["village_code"][:width] == code[:width]],
                    level,
                    "approve",
                    "审核通过",
                )
    async with conn.transaction():
        notice, _ = await publish_notice(conn, actor, p, "", dt.date(2026, 1, 5), "测试县")
    async with conn.transaction():
        await grant_program(conn, actor, p["id"], notice["ends_on"] + dt.timedelta(days=1))


async def companies(conn: asyncpg.Connection, settings: Settings, villages: list[str]) -> None:
    """One branch company per village, its households members (every tenth with poverty shares),
    written with COPY, then each company's year through the distribution use cases."""
    ventures, members, movements = [], [], []
    by_village: dict[str, list[uuid.UUID]] = {}
    for r in await conn.fetch("SELECT id, village_code FROM households ORDER BY household_no"):
        by_village.setdefault(r["village_code"], []).append(r["id"])
    for village in villages:
        vid = uuid.uuid4()
        ventures.append(
            (COUNTY, vid, f"{village[-3:]}村股份经济合作公司", "branch_company", village, 10**10, "12-31", CHARTER)
        )
        for n, hid in enumerate(by_village.get(village, []), start=1):
            mid = uuid.uuid4()
            members.append((COUNTY, mid, vid, n, "household", hid, "户主"))
            cls, shares = ("poverty", 20) if n % 10 == 0 else ("ordinary", 10 + n % 90)
            movements.append(
                (
                    COUNTY,
                    uuid.uuid4(),
                    vid,
                    n,
                    "subscribe",
                    None,
                    mid,
                    cls,
                    shares,
                    shares * 10_000,
                    dt.date(YEAR - 1, 6, 1),
                    "",
                    "bench",
                )
            )
    await copy_register(conn, ventures, members, movements)
    await conn.execute("ANALYZE")
    for n, (_, vid, *_) in enumerate(ventures):
        async with conn.transaction():
            plan = await distributions.draft_distribution(
                conn, Actor.system("bench-kuaiji"), ADMIN, str(vid), YEAR, 50_000_000 + n * 1_000_000
            )
            await distributions.submit_distribution(conn, Actor.system("bench-kuaiji"), ADMIN, plan.id)
            approved = await distributions.approve_distribution(
                conn, Actor.system("bench-xiangzhen"), ADMIN, plan.id, None, settings, dt.date(2026, 1, 10)
            )
            assert approved.notice_ends_on is not None
            await distributions.post_distribution(
                conn, Actor.system("bench-kuaiji"), ADMIN, plan.id, approved.notice_ends_on + dt.timedelta(days=1)
            )


async def pay_awards(conn: asyncpg.Connection, cipher: DataCipher) -> tuple[int, int]:
    maker = Principal(kind="user", id="bench-maker", name="bench-maker", role="finance_officer", region_code=COUNTY)
    checker = Principal(
        kind="user", id="bench-checker", name="bench-checker", role="finance_approver", region_code=COUNTY
    )
    async with conn.transaction():
        batch = await build_batch(
            conn, Actor("finance_officer:bench-maker", None), maker, BatchCreate(county_code=COUNTY, source="award")
        )
    async with conn.transaction():
        await approve_batch(conn, Actor("finance_approver:bench-checker", None), checker, batch.id)
    async with conn.transaction():
        exported = await export_bank_file(
            conn, Actor("finance_officer:bench-maker", None), maker, cipher, batch.id, "pipe"
        )
    answer = bank_answer(exported.content)
    upload = await prepare_return(conn, maker, batch.id, answer, "huipan.txt")
    async with conn.transaction():
        result = await import_return(
            conn, Actor("finance_officer:bench-maker", None), maker, upload, today=dt.date(2026, 2, 10)
        )
    return result.paid, result.failed


async def main() -> None:
    bench_awards.HOUSEHOLDS = HOUSEHOLDS
    figures: dict[str, float] = {}
    sizes: dict[str, str] = {}
    async with fresh_database() as url:
        conn = await asyncpg.connect(url)
        await init_connection(conn)
        settings = Settings(database_url=url, secret_key=os.urandom(32), data_key=os.urandom(32))
        cipher = DataCipher(settings.data_key)
        try:
            with timed(figures, f"setup: {HOUSEHOLDS:,} households, awards, 30 companies, a paid batch"):
                villages = await bench_awards.seed(conn, cipher)
                await award_everyone(conn, settings, villages)
                await companies(conn, settings, villages)
                paid, failed = await pay_awards(conn, cipher)
                await conn.execute("ANALYZE")
            results = {}
            for label, code in (("county", COUNTY), ("township", TOWNSHIPS[0]), ("village", villages[0])):
                with timed(figures, f"{label} register (JSON)"):
                    async with conn.transaction(isolation="repeatable_read", readonly=True):
                        results[label] = await reports.region_register(conn, ADMIN, code, YEAR)
                for fmt, render in (("xlsx", renderers.register_xlsx), ("pdf", renderers.register_pdf)):
                    with timed(figures, f"{label} register ({fmt})"):
                        content = render(results[label])
                    sizes[f"{label} {fmt}"] = f"{len(content) / 1024:.0f} KiB"
            with timed(figures, "county year report (figures)"):
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    year = await reports.county_year_report(conn, ADMIN, COUNTY, YEAR)
            with timed(figures, "county year report (PDF, 4 charts)"):
                pdf = renderers.year_pdf(year)
            with timed(figures, "county year report (HTML page)"):
                html = renderers.year_html(year)
            sizes["year report pdf"] = f"{len(pdf) / 1024:.0f} KiB"
            sizes["year report html"] = f"{len(html) / 1024:.0f} KiB"
            with timed(figures, "verify ledger"):
                verification = await verify_ledger(conn)
        finally:
            await conn.close()
    county = results["county"]
    assert all(r.agrees_with_ledger for r in results.values()), [r.checks for r in results.values()]
    assert county.total.households == HOUSEHOLDS and verification.ok
    assert county.total.paid_fen + county.total.failed_fen == 30_000 * HOUSEHOLDS
    rows = [(name, f"{seconds:.2f} s") for name, seconds in figures.items()]
    rows += [(f"size {name}", size) for name, size in sizes.items()]
    rows.append(("county total owed", f"{county.total.owed_fen:,} fen over {county.total.households:,} households"))
    rows.append(
        ("payments", f"{paid:,} paid, {failed:,} failed; checks: {json.dumps([c.agrees for c in county.checks])}")
    )
    rows.append(("village register rows", f"{len(results['village'].rows):,}"))
    rows.append(("peak RSS", f"{peak_rss_mib()} MiB"))
    report(f"reports: registers and the year report of a county of {HOUSEHOLDS:,} households", rows)
