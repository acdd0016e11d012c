"""`python -m service seed-demo --reset`: build the demo again from nothing, but only on a
database that holds the demo and nothing else, since the reset drops every table."""

from __future__ import annotations

import re

import asyncpg

from db import demo as q
from db.migrate import discover, migrate
from service.demo.people import REGIONS, VILLAGES

_TABLE = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)", re.IGNORECASE)


def service_tables() -> set[str]:
    """Every table the migrations create, and the runner's own."""
    return {name.lower() for m in discover() for name in _TABLE.findall(m.sql)} | {"schema_migrations"}


async def refusal(conn: asyncpg.Connection) -> str | None:
    """Why this database may not be reset (in words for the operator), or None when it may."""
    foreign = [name for name in await q.public_relations(conn) if name not in service_tables()]
    if foreign:
        return f"数据库中有不属于惠农的表（{'、'.join(foreign[:5])}），不能重置：请为演示另建一个数据库"
    if "regions" not in await q.public_relations(conn):
        return None  # nothing of the service yet
    demo_regions = [code for code, *_ in REGIONS] + list(VILLAGES)
    others = await q.regions_outside(conn, demo_regions)
    if others:
        return f"数据库中有演示县以外的区域（{'、'.join(others)}），说明它不只是演示数据，不能重置"
    return None


async def reset(conn: asyncpg.Connection) -> None:
    """Drop the service's schema and migrate afresh; the caller loads the demo again."""
    why = await refusal(conn)
    if why:
        raise PermissionError(why)
    await q.drop_public_schema(conn)
    await migrate(conn)
