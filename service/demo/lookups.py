"""What the demo's later steps need to know of the base: households by number, heads' names."""

from __future__ import annotations

import asyncpg

from schemas.registry import HouseholdOut
from service.demo.actors import SYSTEM
from service.demo.people import demo_households
from service.registry.workflow import list_households


async def households_of(conn: asyncpg.Connection, village_code: str) -> dict[str, HouseholdOut]:
    """A village's households by household number, as the registry lists them."""
    found: dict[str, HouseholdOut] = {}
    cursor = None
    while True:
        page = await list_households(
            conn, SYSTEM.principal, village_code=village_code, status=None, limit=500, cursor=cursor
        )
        found.update((h.household_no, h) for h in page.items)
        if not (cursor := page.next_cursor):
            return found


def head_names() -> dict[str, str]:
    """Heads' names by household number (the registry shows them masked; the demo made them)."""
    return {h.household_no: h.head_name for h in demo_households()}


def head_id_number(number: str) -> str:
    """A head's full ID number, as a cross-check list from another office would carry it."""
    return next(h.head_id_number for h in demo_households() if h.household_no == number)
