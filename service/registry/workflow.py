"""Use cases of the household registry (建档立卡户档案): regions, households, status events, poverty lines."""

from __future__ import annotations

import asyncpg

from schemas.registry import HouseholdOut


def household_out(row: asyncpg.Record) -> HouseholdOut:
    return HouseholdOut(
        id=str(row["id"]),
        household_no=row["household_no"],
        county_code=row["county_code"],
        village_code=row["village_code"],
        head_name=row["head_name_masked"],
        head_id_number=row["head_id_masked"],
        members=row["members"],
        bank_name=row["bank_name"],
        bank_account=row["bank_account_masked"],
        phone=row["phone_masked"],
        status=row["status"],
        split_from=str(row["split_from"]) if row["split_from"] else None,
        created_at=row["created_at"],
    )
