"""The demo county's year worked through, in the order it happened, on the base of base.py."""

from __future__ import annotations

import asyncpg

from service.core.crypto import DataCipher
from service.core.settings import Settings
from service.demo import awards, company, cooperative, herbs, payments
from service.demo.actors import SYSTEM
from service.demo.people import FENGHUANGGU
from service.ventures.workflow import list_ventures


async def has_year(conn: asyncpg.Connection) -> bool:
    page = await list_ventures(
        conn, SYSTEM.principal, village_code=FENGHUANGGU, model="branch_company", limit=1, cursor=None
    )
    return bool(page.items)


async def seed_demo_year(conn: asyncpg.Connection, cipher: DataCipher, settings: Settings) -> bool:
    """Work the demo county's year through once, in one transaction, on the base (seed_demo);
    False when it was already there."""
    if await has_year(conn):
        return False
    async with conn.transaction():
        tourism = await company.found(conn)
        for year in (2023, 2024):
            await company.close(conn, settings, tourism.id, year)
        await payments.pay_2024_dividends(conn, cipher)
        chickens = await cooperative.found(conn)
        await cooperative.trade_year(conn, chickens.id)
        herb = await herbs.found(conn)
        await herbs.season(conn, herb.id)
        await awards.exit_award(conn, settings, cipher)
        await company.close(conn, settings, tourism.id, 2025)
        await cooperative.close(conn, settings, chickens.id)
        await payments.pay_2025(conn, cipher)
    return True
