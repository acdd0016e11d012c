"""凤凰谷乡村旅游度假有限公司: a branch-held joint-stock company (支部控股 + 群众参股 + 贫困户持股) of
凤凰谷村. The village collective holds the shares its government grants paid for, villagers bought
shares, and every registered poor household of the village was allocated poverty shares out of the
collective's (配股) with an 8% `minimum` floor. Three fiscal years: an opening loss carried
forward, a thin year in which the floors bind, and a good year that fills the statutory reserve
to its cap of half the registered capital."""

from __future__ import annotations

import datetime as dt
import random

import asyncpg

from schemas.ventures import Charter, MemberCreate, ShareMovementCreate, VentureCreate, VentureOut
from service.core.settings import Settings
from service.demo.actors import Person
from service.demo.books import YearEnd, close_year, set_up
from service.demo.lookups import head_names, households_of
from service.demo.people import FENGHUANGGU, person_name
from service.ventures import workflow as ventures

NAME = "凤凰谷乡村旅游度假有限公司"
REGISTERED_CAPITAL_FEN = 50_000_000  # 500,000 yuan, fully paid in: one share per yuan
SHARE_FEN = 100
FOUNDED_ON = dt.date(2023, 1, 1)
COLLECTIVE_SHARES = 300_000
VILLAGER_SHARES = 10_000  # each of ten villagers and ten households
POVERTY_SHARES = 2_000  # allocated to each of the village's 24 registered poor households
# The charter sets half of each year's profit aside until the reserve reaches its cap, so the
# company builds up its resort before it pays out much; poverty shares are guaranteed 8% a year.
CHARTER = Charter(reserve_bp=5000, floor_mode="minimum", floor_bp=800, poverty_participates=True)
LOSS_YEAR = (2023, -6_000_000)  # the opening season: a loss of 60,000 yuan, carried forward
YEARS = [(2024, 9_000_000), (2025, 50_000_000)]  # a thin year, then 500,000 yuan


def _year_end(year: int) -> YearEnd:
    return YearEnd(approved_on=dt.date(year + 1, 1, 20), posted_on=dt.date(year + 1, 2, 5))


async def found(conn: asyncpg.Connection) -> VentureOut:
    """The accountant sets the company up, with its members and the register of 2023-01-01."""
    venture, kuaiji = await set_up(
        conn,
        VentureCreate(
            name=NAME,
            model="branch_company",
            village_code=FENGHUANGGU,
            registered_capital_fen=REGISTERED_CAPITAL_FEN,
            charter=CHARTER,
        ),
    )
    await _register(conn, kuaiji, venture.id)
    return venture


async def _register(conn: asyncpg.Connection, kuaiji: Person, venture_id: str) -> None:
    async def member(kind: str, name: str, household_id: str | None = None) -> str:
        data = MemberCreate(kind=kind, name=name, household_id=household_id)  # type: ignore[arg-type]
        return (await ventures.add_member(conn, kuaiji.actor, kuaiji.principal, venture_id, data)).id

    async def move(kind: str, share_class: str, shares: int, source: str | None, target: str) -> None:
        data = ShareMovementCreate(
            kind=kind,  # type: ignore[arg-type]
            share_class=share_class,  # type: ignore[arg-type]
            shares=shares,
            capital_fen=shares * SHARE_FEN,
            effective_date=FOUNDED_ON,
            from_member_id=source,
            to_member_id=target,
            reason="公司设立" if kind == "subscribe" else "村集体股份配给建档立卡贫困户（配股）",
        )
        await ventures.record_share_movement(conn, kuaiji.actor, kuaiji.principal, venture_id, data)

    collective = await member("collective", "凤凰谷村股份经济合作社")
    await move("subscribe", "ordinary", COLLECTIVE_SHARES, None, collective)
    rng = random.Random(2023)
    for _ in range(10):
        await move("subscribe", "ordinary", VILLAGER_SHARES, None, await member("person", person_name(rng)))
    names = head_names()
    households = await households_of(conn, FENGHUANGGU)
    for n, (number, h) in enumerate(sorted(households.items())):
        holder = await member("household", names[number], h.id)
        if n < 10:
            await move("subscribe", "ordinary", VILLAGER_SHARES, None, holder)
        await move("allocate", "poverty", POVERTY_SHARES, collective, holder)


async def close(conn: asyncpg.Connection, settings: Settings, venture_id: str, year: int) -> None:
    """Post one fiscal year of the company: a loss year goes through the same steps (its notice lists
    no household, and the loss is carried to next year's waterfall)."""
    profit = LOSS_YEAR[1] if year == LOSS_YEAR[0] else dict(YEARS)[year]
    await close_year(conn, settings, venture_id, year, profit, _year_end(year))
