"""The base of the demo county (what the test template holds too): regions, the 171 registered
households, their registration on 2016-03-01, the poverty lines 2016–2030 and the demo staff,
each through the use case a person would call."""

from __future__ import annotations

import asyncpg
import msgspec

from schemas.auth import UserCreate
from schemas.registry import PovertyLinePut, RegionPut, StatusEventCreate
from service.app import feature_hooks
from service.core.audit import record
from service.core.crypto import DataCipher
from service.core.errors import NotFound
from service.demo.actors import SYSTEM
from service.demo.people import (
    COUNTY,
    DEMO_PASSWORD,
    DEMO_USERS,
    LINE_YEARS,
    POVERTY_LINE_FEN,
    REGIONS,
    REGISTERED_ON,
    TOWNSHIP,
    VILLAGES,
    XIAOKANG_LINE_FEN,
    demo_households,
    households_sheet,
)
from service.registry import workflow as registry
from service.users.workflow import create_user


async def is_seeded(conn: asyncpg.Connection) -> bool:
    try:
        await registry.get_region(conn, COUNTY)
    except NotFound:
        return False
    return True


async def seed_demo(conn: asyncpg.Connection, cipher: DataCipher) -> bool:
    """Load the base of the demo county once, in one transaction; False when it was already there."""
    if await is_seeded(conn):
        return False
    async with conn.transaction():
        await _regions(conn)
        await registry.import_households(
            conn,
            SYSTEM.actor,
            SYSTEM.principal,
            cipher,
            content=households_sheet(demo_households()),
            filename="宕昌县建档立卡户.csv",
        )
        count = await _register_poor(conn)
        for year in LINE_YEARS:
            await registry.put_poverty_line(
                conn,
                SYSTEM.actor,
                year,
                PovertyLinePut(poverty_line_fen=POVERTY_LINE_FEN, xiaokang_line_fen=XIAOKANG_LINE_FEN),
            )
        for username, role, region in DEMO_USERS:
            await create_user(
                conn,
                SYSTEM.actor,
                msgspec.convert(
                    {"username": username, "password": DEMO_PASSWORD, "role": role, "region_code": region}, UserCreate
                ),
            )
        await record(
            conn,
            SYSTEM.actor,
            county_code=COUNTY,
            action="demo.seed",
            object_type="county",
            object_id=COUNTY,
            detail={"households": count},
        )
    return True


async def _regions(conn: asyncpg.Connection) -> None:
    for code, name, level, parent in REGIONS:
        await registry.put_region(
            conn, SYSTEM.actor, code, msgspec.convert({"name": name, "level": level, "parent_code": parent}, RegionPut)
        )
    for code, (name, _, _) in VILLAGES.items():
        await registry.put_region(conn, SYSTEM.actor, code, RegionPut(name=name, level="village", parent_code=TOWNSHIP))


async def _register_poor(conn: asyncpg.Connection) -> int:
    """Every household registered poor (建档立卡) on 2016-03-01; answers how many."""
    count, cursor = 0, None
    while True:
        page = await registry.list_households(
            conn, SYSTEM.principal, village_code=None, status=None, limit=500, cursor=cursor
        )
        for h in page.items:
            event = StatusEventCreate(kind="registered", year=REGISTERED_ON.year, effective_date=REGISTERED_ON)
            await registry.record_status_event(conn, SYSTEM.actor, SYSTEM.principal, feature_hooks(), h.id, event)
        count += len(page.items)
        if not (cursor := page.next_cursor):
            return count
