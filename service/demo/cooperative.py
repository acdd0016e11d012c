"""宕昌县帽帽鸡养殖专业合作社 of 草滩子村 (合作社 + 贫困户): three large breeders (养殖大户) put in
most of the capital, the village's 18 registered poor households are members (twelve with a small
contribution), a provincial poverty-fund subsidy is quantified equally into every member account,
and the members sell their eggs and chickens through it all year, beside a few non-member trades
kept apart (art. 41). The surplus of 2025 is the worked example of DESIGN.md: 400,000 yuan, 10% to
the reserve fund, 70% of the rest returned by transaction volume, 30% by member account."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

import asyncpg

from schemas.ventures import Charter, MemberCreate, ShareMovementCreate, SubsidyCreate, VentureCreate, VentureOut
from service.core.settings import Settings
from service.demo.actors import Person, staff
from service.demo.books import YearEnd, close_year, set_up
from service.demo.lookups import head_names, households_of
from service.demo.people import CAOTANZI, person_name
from service.ventures import workflow as ventures

NAME = "宕昌县帽帽鸡养殖专业合作社"
YEAR = 2025
JOINED_ON = dt.date(YEAR, 1, 1)
BREEDERS_FEN = [20_000_000, 15_000_000, 10_000_000]  # 200,000 / 150,000 / 100,000 yuan
HOUSEHOLD_CAPITAL_FEN = 200_000  # 2,000 yuan from each of twelve poor households
CONTRIBUTING_HOUSEHOLDS = 12
SUBSIDY = SubsidyCreate(
    amount_fen=30_000_000, source="2025年省级财政专项扶贫资金（帽帽鸡养殖项目）", received_on=dt.date(YEAR, 3, 10)
)
CHARTER = Charter(reserve_bp=1000, patronage_bp=7000)
SURPLUS_FEN = 40_000_000
YEAR_END = YearEnd(approved_on=dt.date(YEAR + 1, 1, 16), posted_on=dt.date(YEAR + 1, 2, 5))
EGG_FEN_PER_KG, CHICKEN_FEN_PER_KG = 2_400, 3_600
TRADE_COLUMNS = ["member_no", "traded_on", "product", "quantity_g", "amount_fen"]


async def found(conn: asyncpg.Connection) -> VentureOut:
    capital = sum(BREEDERS_FEN) + CONTRIBUTING_HOUSEHOLDS * HOUSEHOLD_CAPITAL_FEN
    venture, kuaiji = await set_up(
        conn,
        VentureCreate(
            name=NAME, model="cooperative", village_code=CAOTANZI, registered_capital_fen=capital, charter=CHARTER
        ),
    )
    await _members(conn, kuaiji, venture.id)
    await ventures.receive_subsidy(conn, kuaiji.actor, kuaiji.principal, venture.id, SUBSIDY)
    return venture


async def _members(conn: asyncpg.Connection, kuaiji: Person, venture_id: str) -> None:
    async def join(kind: str, name: str, capital_fen: int, household_id: str | None = None) -> None:
        data = MemberCreate(kind=kind, name=name, household_id=household_id)  # type: ignore[arg-type]
        m = await ventures.add_member(conn, kuaiji.actor, kuaiji.principal, venture_id, data)
        if capital_fen:
            movement = ShareMovementCreate(
                kind="subscribe",
                share_class="ordinary",
                shares=capital_fen // 100,
                capital_fen=capital_fen,
                effective_date=JOINED_ON,
                to_member_id=m.id,
                reason="成员出资入社",
            )
            await ventures.record_share_movement(conn, kuaiji.actor, kuaiji.principal, venture_id, movement)

    rng = random.Random(2024)
    for capital_fen in BREEDERS_FEN:
        await join("person", person_name(rng), capital_fen)
    names = head_names()
    for n, (number, h) in enumerate(sorted((await households_of(conn, CAOTANZI)).items())):
        await join("household", names[number], HOUSEHOLD_CAPITAL_FEN if n < CONTRIBUTING_HOUSEHOLDS else 0, h.id)


def _month_sheet(month: int, members: list[int], rng: random.Random) -> bytes:
    """The month's delivery sheet the cooperative's clerk keeps: eggs every month, chickens in
    the autumn, members named by member number, non-members' trades with none."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TRADE_COLUMNS)
    day = dt.date(YEAR, month, 28).isoformat()
    for number in members:
        big = number <= len(BREEDERS_FEN)  # the breeders joined first
        eggs_kg = rng.randrange(800, 1200) if big else rng.randrange(20, 60)
        writer.writerow([number, day, "鸡蛋", eggs_kg * 1000, eggs_kg * EGG_FEN_PER_KG])
        if month >= 9:
            chicken_kg = rng.randrange(300, 500) if big else rng.randrange(10, 30)
            writer.writerow([number, day, "帽帽鸡（活鸡）", chicken_kg * 1000, chicken_kg * CHICKEN_FEN_PER_KG])
    for _ in range(2):
        eggs_kg = rng.randrange(100, 200)
        writer.writerow(["", day, "鸡蛋（非成员）", eggs_kg * 1000, eggs_kg * EGG_FEN_PER_KG])
    return out.getvalue().encode("utf-8")


async def trade_year(conn: asyncpg.Connection, venture_id: str) -> None:
    """Twelve monthly delivery sheets imported by the accountant."""
    kuaiji = await staff(conn, "kuaiji")
    members = [m.member_no for m in await ventures.list_members(conn, kuaiji.principal, venture_id)]
    rng = random.Random(YEAR)
    for month in range(1, 13):
        await ventures.import_trades(
            conn,
            kuaiji.actor,
            kuaiji.principal,
            venture_id,
            _month_sheet(month, members, rng),
            f"{YEAR}年{month}月交售明细.csv",
        )


async def close(conn: asyncpg.Connection, settings: Settings, venture_id: str) -> None:
    await close_year(conn, settings, venture_id, YEAR, SURPLUS_FEN, YEAR_END)
