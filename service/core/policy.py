"""Object-level scope checks: a household sees itself, a reviewer its region, an accountant its
ventures. Out-of-scope objects answer 404, so ids cannot be probed for existence."""

from __future__ import annotations

import asyncpg

from db.registry import household
from service.core.errors import not_found
from service.core.principal import Principal

HOUSEHOLD_READERS = ("admin", "village_reviewer", "township_approver", "finance_officer",
                     "finance_approver", "auditor")


async def can_read_household(conn: asyncpg.Connection, principal: Principal, household_id: str,
                             village_code: str) -> bool:
    if principal.role == "household":
        return principal.household_id == household_id
    if principal.role in HOUSEHOLD_READERS:
        return principal.covers_region(village_code)
    if principal.role == "accountant" and principal.venture_ids:
        return bool(await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM venture_members WHERE household_id = $1::uuid "
            "AND venture_id = ANY($2::uuid[]))",
            household_id, list(principal.venture_ids),
        ))
    return False


async def household_or_404(conn: asyncpg.Connection, principal: Principal, household_id: str) -> asyncpg.Record:
    row = await household(conn, household_id)
    if row is None or not await can_read_household(conn, principal, str(row["id"]), row["village_code"]):
        raise not_found("农户")
    return row


def can_register_in(principal: Principal, village_code: str) -> bool:
    return principal.role in ("admin", "village_reviewer", "township_approver") and principal.covers_region(village_code)
