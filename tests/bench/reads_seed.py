"""The county behind bench_reads: households, an exit award to each, a branch company per village
posted through the distribution workflow (bench_reports' seeding), and one order-farming
settlement per household; then a staff user of each role and a token for everyone."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from schemas.auth import UserCreate
from service.core.audit import Actor
from service.core.credentials import issue_token
from service.core.crypto import DataCipher
from service.core.principal import Principal
from service.core.settings import Settings
from service.order_farming.workflow import import_purchases, settle_season
from service.users.workflow import create_user
from tests.bench import bench_awards, bench_reports

SEASON = 2025
TOKEN_TTL = 4 * 3600


async def settle_everyone(conn: asyncpg.Connection, village: str) -> None:
    """An enterprise buys 当归 from every household of the county under contract, one purchase each,
    and settles the season (the same use cases as the weighing-sheet import and POST …/settlements)."""
    actor, principal = Actor.system("bench"), Principal.system("cli")
    venture = await conn.fetchrow(
        """INSERT INTO ventures (county_code, name, model, village_code, registered_capital_fen, record_date_mmdd,
               charter) VALUES ($1, '测试中药材有限公司', 'enterprise', $2, 5000000000, '12-31', '{}') RETURNING id""",
        bench_awards.COUNTY,
        village,
    )
    households = [r["id"] for r in await conn.fetch("SELECT id FROM households ORDER BY household_no")]
    await conn.copy_records_to_table(
        "farming_contracts",
        records=[
            (bench_awards.COUNTY, venture["id"], h, "当归", SEASON, 50_000, 1200, 300, "bench") for h in households
        ],
        columns=[
            "county_code",
            "venture_id",
            "household_id",
            "crop",
            "season_year",
            "contracted_g",
            "floor_price_fen_per_kg",
            "premium_bp",
            "created_by",
        ],
    )
    contracts = await conn.fetch("SELECT id FROM farming_contracts WHERE venture_id = $1 ORDER BY id", venture["id"])
    sheet = "contract_id,bought_on,grade,weight_g,market_price_fen_per_kg\n" + "".join(
        f"{c['id']},{SEASON}-10-{1 + n % 28:02d},一等,{20_000 + n % 30_000},{1000 + n % 500}\n"
        for n, c in enumerate(contracts)
    )
    today = dt.date(SEASON, 12, 20)
    async with conn.transaction():
        await import_purchases(conn, actor, principal, str(venture["id"]), sheet.encode(), "sheet.csv", today)
    async with conn.transaction():
        await settle_season(conn, actor, principal, str(venture["id"]), SEASON, today)


STAFF = [
    ("bench_kuaiji", "accountant"),
    ("bench_cunwei", "village_reviewer"),
    ("bench_xiangzhen", "township_approver"),
    ("bench_caizheng", "finance_officer"),
    ("bench_caizheng2", "finance_approver"),
    ("bench_shenji", "auditor"),
]


async def staff_tokens(conn: asyncpg.Connection, settings: Settings, villages: list[str]) -> dict[str, str]:
    """A user of each staff role in its scope (the accountant keeps the first village's company)."""
    first_company = await conn.fetchval(
        "SELECT id FROM ventures WHERE village_code = $1 AND model = 'branch_company'", villages[0]
    )
    scope = {
        "accountant": None,
        "village_reviewer": villages[0],
        "township_approver": bench_awards.TOWNSHIPS[0],
    }
    tokens = {}
    for username, role in STAFF:
        kept = await conn.fetchval("SELECT id FROM users WHERE username = $1", username)  # a kept county's
        if kept is not None:
            tokens[role] = issue_token(settings.secret_key, sub=str(kept), kind="user", ttl_seconds=TOKEN_TTL)
            continue
        data = UserCreate(
            username=username,
            password="bench-password-2026",
            role=role,  # type: ignore[arg-type]
            region_code=scope.get(role, bench_awards.COUNTY),
            venture_ids=[str(first_company)] if role == "accountant" else [],
        )
        async with conn.transaction():
            user = await create_user(conn, Actor.system("bench"), data)
        tokens[role] = issue_token(settings.secret_key, sub=user.id, kind="user", ttl_seconds=TOKEN_TTL)
    return tokens


async def household_tokens(conn: asyncpg.Connection, settings: Settings) -> list[tuple[uuid.UUID, str]]:
    rows = await conn.fetch("SELECT id FROM households ORDER BY household_no")
    return [
        (r["id"], issue_token(settings.secret_key, sub=str(r["id"]), kind="household", ttl_seconds=TOKEN_TTL))
        for r in rows
    ]


async def seed_county(conn: asyncpg.Connection, settings: Settings, households: int) -> list[str]:
    """The whole county; returns its villages."""
    bench_awards.HOUSEHOLDS = bench_reports.HOUSEHOLDS = households
    villages = await bench_awards.seed(conn, DataCipher(settings.data_key))
    await bench_reports.award_everyone(conn, settings, villages)
    await bench_reports.companies(conn, settings, villages)
    await settle_everyone(conn, villages[0])
    await conn.execute("ANALYZE")
    return villages
