"""An herb enterprise's order farming (企业 + 贫困户, 订单农业): 宕昌县岷归中药材开发有限公司 contracts
the 当归 harvest of 24 registered poor households of 南沿沟村 at a floor price of 24 yuan/kg or the
market price plus 5%, whichever is higher; gives seedlings and fertiliser on credit in spring;
weighs the harvest on two market days, one below the floor and one above it; and settles the
season in December. One household lost its crop to hail: its advances exceed its harvest, and what
is left of them carries to its contract of the next season."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

import asyncpg

from schemas.order_farming import AdvanceCreate, ContractCreate, ContractOut, SettlementRunOut
from schemas.ventures import VentureCreate, VentureOut
from service.demo.actors import Person, staff
from service.demo.books import set_up
from service.demo.lookups import households_of
from service.demo.people import NANYANGOU, household_no
from service.order_farming import workflow as farming

NAME = "宕昌县岷归中药材开发有限公司"
SEASON = 2025
CROP = "当归"
CONTRACTED = range(1, 25)  # 南沿沟村 households -001 … -024
HAILED = 13  # the household whose crop the hail took
OVER_CONTRACT = 2  # the household that delivers more than it contracted
FLOOR_FEN_PER_KG, PREMIUM_BP = 2_400, 500
# The two weighing days: (day, market price in fen/kg, share of the contracted quantity delivered).
MARKET_DAYS = [(dt.date(SEASON, 10, 20), 2_200, 60), (dt.date(SEASON, 11, 15), 2_600, 40)]
SETTLED_ON = dt.date(SEASON, 12, 5)
SEEDLINGS_ON, FERTILISER_ON = dt.date(SEASON, 3, 20), dt.date(SEASON, 5, 10)
PURCHASE_COLUMNS = ["contract_id", "bought_on", "grade", "weight_g", "market_price_fen_per_kg"]


async def found(conn: asyncpg.Connection) -> VentureOut:
    venture, _ = await set_up(
        conn, VentureCreate(name=NAME, model="enterprise", village_code=NANYANGOU, registered_capital_fen=200_000_000)
    )
    return venture


async def season(conn: asyncpg.Connection, venture_id: str) -> SettlementRunOut:
    """Contracts, spring advances, the autumn's weighing sheets and the December settlement."""
    kuaiji = await staff(conn, "kuaiji")
    households = await households_of(conn, NANYANGOU)
    rng = random.Random(SEASON)
    contracts: dict[int, ContractOut] = {}
    for n in CONTRACTED:
        contracts[n] = await _contract(conn, kuaiji, venture_id, households[household_no(NANYANGOU, n)].id, SEASON, rng)
        await _advances(conn, kuaiji, contracts[n], n, rng)
    for day, market, percent in MARKET_DAYS:
        sheet = _weighing_sheet(contracts, day, market, percent, rng)
        await farming.import_purchases(
            conn, kuaiji.actor, kuaiji.principal, venture_id, sheet, f"称重单-{day.isoformat()}.csv", day
        )
    run = await farming.settle_season(conn, kuaiji.actor, kuaiji.principal, venture_id, SEASON, SETTLED_ON)
    # The hailed household signs again for next season, where the advance left over is deducted.
    await _contract(conn, kuaiji, venture_id, contracts[HAILED].household_id, SEASON + 1, rng)
    return run


async def _contract(
    conn: asyncpg.Connection, kuaiji: Person, venture_id: str, household_id: str, year: int, rng: random.Random
) -> ContractOut:
    data = ContractCreate(
        household_id=household_id,
        crop=CROP,
        season_year=year,
        contracted_g=rng.randrange(300, 650, 50) * 1000,
        floor_price_fen_per_kg=FLOOR_FEN_PER_KG,
        premium_bp=PREMIUM_BP,
    )
    return await farming.create_contract(conn, kuaiji.actor, kuaiji.principal, venture_id, data)


async def _advances(conn: asyncpg.Connection, kuaiji: Person, c: ContractOut, n: int, rng: random.Random) -> None:
    """Seedlings for everyone in March (the hailed household took more, with mulch film), and
    fertiliser for every other household in May."""
    seedlings = 90_000 if n == HAILED else c.contracted_g // 1000 * 120
    given = [(seedlings, SEEDLINGS_ON, "当归种苗" + ("及地膜" if n == HAILED else ""))]
    if n % 2:
        given.append((rng.randrange(150, 300) * 100, FERTILISER_ON, "复合肥"))
    for amount, day, item in given:
        data = AdvanceCreate(amount_fen=amount, given_on=day, item=item)
        await farming.record_advance(conn, kuaiji.actor, kuaiji.principal, c.id, data, day)


def _weighing_sheet(
    contracts: dict[int, ContractOut], day: dt.date, market: int, percent: int, rng: random.Random
) -> bytes:
    """The weighing station's sheet of one market day."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PURCHASE_COLUMNS)
    for n, c in contracts.items():
        if n == HAILED:
            weight = 15_000 if day == MARKET_DAYS[0][0] else 0
        else:
            weight = c.contracted_g * (percent + (15 if n == OVER_CONTRACT else 0)) // 100 - rng.randrange(0, 5) * 1000
        if weight > 0:
            writer.writerow([c.id, day.isoformat(), "一等" if rng.random() < 0.7 else "二等", weight, market])
    return out.getvalue().encode("utf-8")
