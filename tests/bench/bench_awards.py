"""A county exit-award programme of 15,000 households through application, review, 公示 and grant.

Each stage calls the use cases of service.awards.workflow that the HTTP handlers call, with the
batch sizes a county office works in: applications in lots of 1,000, reviews per village and per
township, one notice, one grant run. The county needs 4.5 million yuan for 15,000 awards of 300.
BENCH_AWARD_HOUSEHOLDS sets another size (e.g. 300 for a quick run).
"""

from __future__ import annotations

import datetime as dt
import os
import random

import asyncpg

from db import awards as q
from db import registry as registry_q
from db.pool import init_connection
from schemas.awards import CostShares, ProgramCreate
from service.awards.workflow import (
    create_program,
    grant_program,
    publish_notice,
    record_reviews,
    submit_applications,
)
from service.core.audit import Actor
from service.core.crypto import DataCipher
from service.core.principal import Principal
from service.core.settings import Settings
from service.demo import demo_card_number, demo_id_number
from service.ledger.workflow import verify_ledger
from service.registry.rules import check_row
from service.registry.workflow import STORED_COLUMNS, to_record
from tests.bench.common import fresh_database, peak_rss_mib, report, timed

HOUSEHOLDS = int(os.environ.get("BENCH_AWARD_HOUSEHOLDS", "15000"))
VILLAGES = 30
AMOUNT_FEN = 30_000
COUNTY, TOWNSHIPS = "629901000000", ("629901100000", "629901200000", "629901300000")
CHUNK = 1_000


async def seed(conn: asyncpg.Connection, cipher: DataCipher) -> list[str]:
    rng = random.Random(15000)
    regions = [
        ("620000000000", "甘肃省", "province", None, None),
        ("629900000000", "测试市", "city", "620000000000", None),
        (COUNTY, "测试县", "county", "629900000000", COUNTY),
    ]
    regions += [(t, f"第{i + 1}镇", "township", COUNTY, COUNTY) for i, t in enumerate(TOWNSHIPS)]
    villages = [f"{TOWNSHIPS[v % 3][:9]}{200 + v:03d}" for v in range(VILLAGES)]
    regions += [(v, f"第{i + 1}村", "village", v[:9] + "000", COUNTY) for i, v in enumerate(villages)]
    await conn.executemany(
        "INSERT INTO regions (code, name, level, parent_code, county_code) VALUES ($1, $2, $3, $4, $5)", regions
    )
    known = dict.fromkeys(villages, COUNTY)
    records, seen = [], set()
    for n in range(HOUSEHOLDS):
        village = villages[n % VILLAGES]
        id_number = demo_id_number(rng)
        while id_number in seen:
            id_number = demo_id_number(rng)
        seen.add(id_number)
        draft, errors = check_row(
            n,
            {
                "household_no": f"{village}-{n:05d}",
                "village_code": village,
                "head_name": "王建国",
                "head_id_number": id_number,
                "members": "3",
                "bank_name": "农村信用社",
                "bank_account": demo_card_number(rng),
            },
            known,
        )
        assert draft is not None, errors
        records.append(to_record(draft, cipher))
    await registry_q.copy_households(conn, STORED_COLUMNS, records)
    for kind, year, day in (("registered", 2016, dt.date(2016, 3, 1)), ("exited", 2025, dt.date(2025, 9, 30))):
        await conn.execute(
            """INSERT INTO household_status_events (county_code, household_id, kind, year, effective_date, recorded_by)
               SELECT county_code, id, $2, $3, $4, 'bench' FROM households WHERE county_code = $1""",
            COUNTY,
            kind,
            year,
            day,
        )
    await conn.execute("UPDATE households SET status = 'exited' WHERE county_code = $1", COUNTY)
    await conn.execute("INSERT INTO poverty_lines VALUES (2025, 400000, 1000000)")
    return villages


async def main() -> None:
    figures: dict[str, float] = {}
    actor = Actor.system("bench")
    today = dt.date(2026, 1, 10)
    async with fresh_database() as url:
        conn = await asyncpg.connect(url)
        await init_connection(conn)
        settings = Settings(database_url=url, secret_key=os.urandom(32), data_key=os.urandom(32))
        try:
            with timed(figures, f"seed {HOUSEHOLDS:,} households"):
                villages = await seed(conn, DataCipher(settings.data_key))
            async with conn.transaction():
                created = await create_program(
                    conn,
                    actor,
                    Principal.system("bench"),
                    settings,
                    ProgramCreate(
                        county_code=COUNTY,
                        kind="exit",
                        year=2025,
                        amount_fen=AMOUNT_FEN,
                        budget_fen=AMOUNT_FEN * HOUSEHOLDS,
                        cost_shares=CostShares(province_bp=5000, city_bp=3000, county_bp=2000),
                        name="测试县2025年度脱贫奖",
                    ),
                )
            p = await q.program(conn, created.id)
            households = [r["id"] for r in await conn.fetch("SELECT id FROM households ORDER BY household_no")]

            with timed(figures, "apply (eligibility from the registry)"):
                for start in range(0, len(households), CHUNK):
                    async with conn.transaction():
                        await submit_applications(
                            conn, actor, p, [(h, 450_000) for h in households[start : start + CHUNK]]
                        )
            apps = await conn.fetch("SELECT id, village_code FROM award_applications WHERE program_id = $1", p["id"])
            with timed(figures, "village review (30 villages)"):
                for village in villages:
                    async with conn.transaction():
                        await record_reviews(
                            conn,
                            actor,
                            COUNTY,
                            [a["id"] for a in apps if a["village_code"] == village],
                            "village",
                            "approve",
                            "村两委评议通过",
                        )
            with timed(figures, "township review (3 townships)"):
                for township in TOWNSHIPS:
                    async with conn.transaction():
                        await record_reviews(
                            conn,
                            actor,
                            COUNTY,
                            [a["id"] for a in apps if a["village_code"][:9] == township[:9]],
                            "township",
                            "approve",
                            "乡镇党委审核通过",
                        )
            with timed(figures, "publish notice (公示)"):
                async with conn.transaction():
                    notice, published = await publish_notice(conn, actor, p, "", today, "测试县")
            with timed(figures, "grant (ledger, payables, certificates)"):
                async with conn.transaction():
                    result = await grant_program(conn, actor, p["id"], notice["ends_on"] + dt.timedelta(days=1))
            with timed(figures, "verify ledger"):
                verification = await verify_ledger(conn)
            program = await q.program(conn, p["id"])
            counts = await q.program_counts(conn, program)
        finally:
            await conn.close()
    assert published == HOUSEHOLDS and result.granted == HOUSEHOLDS, (published, result.granted)
    assert program["committed_fen"] == AMOUNT_FEN * HOUSEHOLDS and counts == {"granted": HOUSEHOLDS}
    assert verification.ok, verification
    rows = [(name, f"{seconds:.2f} s") for name, seconds in figures.items()]
    rows.append(("granted / committed", f"{result.granted} awards / {program['committed_fen']} fen"))
    rows.append(("peak RSS", f"{peak_rss_mib()} MiB"))
    report(f"awards: a county programme of {HOUSEHOLDS:,} exit awards", rows)
