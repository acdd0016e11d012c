"""Payables for tests, made directly through db.ledger the way a source (award, distribution,
settlement) makes them: one balanced entry recognising the debt, crediting a household-party
payable account, then one payable per household with create_payables (COPY).

    ids = await make_payables(conn, "621223000000", [hh1, hh2], 30_000)

A household may appear more than once: each occurrence is a separate payable.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import asyncpg

from db import ledger
from service.ledger.rules import AccountSpec, Line, NewPayable


async def make_payables(
    conn: asyncpg.Connection,
    county_code: str,
    household_ids: Sequence[str | uuid.UUID],
    amount_fen: int,
    source: str = "award",
) -> list[str]:
    """One payable of amount_fen per household id; answers the new payables' ids in that order."""
    households = [h if isinstance(h, uuid.UUID) else uuid.UUID(str(h)) for h in household_ids]
    villages = dict(
        await conn.fetch(
            "SELECT id, village_code FROM households WHERE county_code = $1 AND id = ANY($2::uuid[])",
            county_code,
            list(set(households)),
        )
    )
    missing = set(households) - set(villages)
    if missing:
        raise ValueError(f"households not in county {county_code}: {sorted(map(str, missing))[:5]}")
    specs = [
        AccountSpec("county", county_code, "funding.county", "县级奖补资金"),
        AccountSpec("county", county_code, f"{source}_payable", "应付款"),
        AccountSpec("county", county_code, "treasury", "县财政专户"),
    ]
    funding, payable, bank = (await ledger.accounts(conn, county_code, specs)).values()
    source_id = str(uuid.uuid4())
    async with conn.transaction():
        entry = await ledger.post_entry(
            conn,
            county_code=county_code,
            source_type=source,
            source_id=source_id,
            idempotency_key=f"test-payables:{source_id}",
            memo="测试应付款",
            posted_on=dt.date(2025, 12, 31),
            lines=[Line(funding, amount_fen * len(households))] + [Line(payable, -amount_fen, h) for h in households],
        )
        ids = await ledger.create_payables(
            conn,
            county_code,
            [
                NewPayable(
                    household_id=h,
                    source=source,
                    source_id=source_id,
                    source_ref=str(n),
                    amount_fen=amount_fen,
                    explanation="测试应付款",
                    entry_id=entry,
                    payable_account_id=payable,
                    paying_account_id=bank,
                    village_code=villages[h],
                )
                for n, h in enumerate(households)
            ],
        )
    return [str(i) for i in ids]
