"""Queries for payables, payment batches, their lines, return imports and reconciliation.

Every function runs in the caller's transaction. Set-wise statements (unnest, COPY) keep a batch
of 100,000 lines to a handful of round trips.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from db.ids import as_uuid, row_for_update


def _one(row: asyncpg.Record | None) -> asyncpg.Record:
    """The one row a statement always answers (an aggregate, a row this transaction holds)."""
    if row is None:
        raise RuntimeError("expected a row, got none")
    return row


async def plan_for_bulk(conn: asyncpg.Connection) -> None:
    """For the rest of this transaction, join big sets by hashing, never by nested loops.

    Payables and batch lines arrive by COPY in the hundred thousands and are often batched before
    autovacuum has analysed them; with stale statistics the planner takes a 100,000-row set for a
    handful of rows and answers with a nested loop that probes the wrong index: quadratic time.
    """
    await conn.execute("SET LOCAL enable_nestloop = off")


async def payables_page(
    conn: asyncpg.Connection,
    county_code: str,
    *,
    status: str | None,
    source: str | None,
    village_code: str | None,
    venture_id: uuid.UUID | None,
    program_id: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[asyncpg.Record]:
    # The cursor always bounds the index range (the nil uuid for the first page): a prepared
    # statement's generic plan cannot use "$7 IS NULL OR id > $7" and read every earlier row.
    # A village's page has its own statement, the village compared as the column's type
    # (char(12)): "village_code = $4::text" casts the column and reads the whole county's payables.
    return await conn.fetch(
        _VILLAGE_PAYABLES if village_code else _PAYABLES,
        county_code,
        status,
        source,
        village_code,
        venture_id,
        program_id,
        after,
        limit,
    )


_PAYABLES_PAGE = """SELECT * FROM payables
           WHERE county_code = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR source = $3)
             AND {village} AND ($5::uuid IS NULL OR venture_id = $5)
             AND ($6::uuid IS NULL OR program_id = $6)
             AND id > coalesce($7::uuid, '00000000-0000-0000-0000-000000000000')
           ORDER BY id LIMIT $8"""
_PAYABLES = _PAYABLES_PAGE.format(village="($4::text IS NULL OR village_code = $4)")  # $4 is NULL here
_VILLAGE_PAYABLES = _PAYABLES_PAGE.format(village="village_code = $4")  # payables_village (migration 0017)


async def take_payables(
    conn: asyncpg.Connection,
    county_code: str,
    batch_id: uuid.UUID,
    *,
    payable_ids: Sequence[uuid.UUID] | None,
    source: str | None,
    village_code: str | None,
    venture_id: uuid.UUID | None,
    program_id: uuid.UUID | None,
) -> asyncpg.Record:
    """Move the selected unpaid payables into the batch and write its lines, in one statement.

    Rows are locked in id order (so two officers never deadlock) and the status is re-checked
    under the lock: a payable another batch took first is skipped, never taken twice.
    """
    # The lines of the new batch: payee, bank and encrypted numbers copied from the registry as
    # they are now, numbered in the order a village clerk reads them (village, household number).
    # Every table is pinned by county_code = $1, not only joined on it: on a cluster the statement
    # then runs on the county's shard alone, so its writes stay on the transaction's one connection.
    return _one(
        await conn.fetchrow(
            """WITH picked AS (
                SELECT county_code, id FROM payables
                WHERE county_code = $1 AND status = 'unpaid'
                  AND ($3::uuid[] IS NULL OR id = ANY($3::uuid[]))
                  AND ($4::text IS NULL OR source = $4) AND ($5::text IS NULL OR village_code = $5)
                  AND ($6::uuid IS NULL OR venture_id = $6) AND ($7::uuid IS NULL OR program_id = $7)
                ORDER BY id FOR UPDATE),
            taken AS (
                UPDATE payables p SET status = 'in_batch', batch_id = $2
                FROM picked WHERE p.county_code = $1 AND p.county_code = picked.county_code AND p.id = picked.id
                  AND p.status = 'unpaid'
                RETURNING p.county_code, p.id, p.household_id, p.amount_fen),
            lines AS (
                INSERT INTO payment_batch_lines (county_code, batch_id, seq, payable_id, household_id, amount_fen,
                    payee_name, payee_name_masked, bank_name, bank_account_enc, bank_account_masked, id_number_enc)
                SELECT t.county_code, $2, row_number() OVER (ORDER BY h.village_code, h.household_no, t.id)::int,
                       t.id, t.household_id, t.amount_fen, h.head_name, h.head_name_masked, h.bank_name,
                       h.bank_account_enc, h.bank_account_masked, h.head_id_enc
                FROM taken t JOIN households h ON h.county_code = $1 AND h.county_code = t.county_code AND h.id = t.household_id
                RETURNING amount_fen)
            SELECT count(*) AS count, coalesce(sum(amount_fen), 0)::bigint AS total_fen,
                   coalesce(max(amount_fen), 0) AS largest
            FROM lines""",
            county_code,
            batch_id,
            list(payable_ids) if payable_ids is not None else None,
            source,
            village_code,
            venture_id,
            program_id,
        )
    )


async def not_taken(
    conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID, payable_ids: Sequence[uuid.UUID]
) -> list[dict[str, Any]]:
    """Which of the requested payables did not go into the batch, and why."""
    rows = await conn.fetch(
        """SELECT u.id, p.status, p.batch_id FROM unnest($2::uuid[]) AS u(id)
           LEFT JOIN payables p ON p.county_code = $1 AND p.id = u.id
           WHERE p.id IS NULL OR p.batch_id IS DISTINCT FROM $3""",
        county_code,
        list(payable_ids),
        batch_id,
    )
    return [
        {"payable_id": str(r["id"]), "status": r["status"], "batch_id": str(r["batch_id"]) if r["batch_id"] else None}
        for r in rows
    ]


async def insert_batch(
    conn: asyncpg.Connection,
    county_code: str,
    batch_id: uuid.UUID,
    selection: dict,
    created_by: str,
    created_by_id: str,
) -> None:
    await conn.execute(
        """INSERT INTO payment_batches (county_code, id, selection, created_by, created_by_id)
           VALUES ($1, $2, $3, $4, $5)""",
        county_code,
        batch_id,
        selection,
        created_by,
        created_by_id,
    )


async def set_batch_totals(
    conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID, count: int, total_fen: int
) -> None:
    await conn.execute(
        "UPDATE payment_batches SET line_count = $3, total_fen = $4 WHERE county_code = $1 AND id = $2",
        county_code,
        batch_id,
        count,
        total_fen,
    )


async def batch(
    conn: asyncpg.Connection, batch_id: str | uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    """The batch of an id from outside (a malformed one answers like an unknown one), optionally
    under its row lock."""
    key = as_uuid(batch_id)
    if key is None:
        return None
    if for_update:
        return await row_for_update(conn, "payment_batches", key)
    return await conn.fetchrow("SELECT * FROM payment_batches WHERE id = $1", key)


async def batch_row(conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID) -> asyncpg.Record:
    """A batch known to exist (just written or locked in this transaction)."""
    return _one(
        await conn.fetchrow("SELECT * FROM payment_batches WHERE county_code = $1 AND id = $2", county_code, batch_id)
    )


async def batch_figures(conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID) -> asyncpg.Record:
    return _one(
        await conn.fetchrow(
            """SELECT coalesce(max(amount_fen), 0) AS largest,
                      count(*) FILTER (WHERE status = 'paid') AS paid_count,
                      coalesce(sum(amount_fen) FILTER (WHERE status = 'paid'), 0)::bigint AS paid_fen,
                      count(*) FILTER (WHERE status = 'failed') AS failed_count,
                      coalesce(sum(amount_fen) FILTER (WHERE status = 'failed'), 0)::bigint AS failed_fen,
                      count(*) FILTER (WHERE status = 'pending') AS pending_count,
                      coalesce(sum(amount_fen) FILTER (WHERE status = 'pending'), 0)::bigint AS pending_fen
               FROM payment_batch_lines WHERE county_code = $1 AND batch_id = $2""",
            county_code,
            batch_id,
        )
    )


async def batches_page(
    conn: asyncpg.Connection,
    county_code: str,
    status: str | None,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT * FROM payment_batches WHERE county_code = $1 AND ($2::text IS NULL OR status = $2)
             AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
           ORDER BY created_at DESC, id DESC LIMIT $5""",
        county_code,
        status,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


_LINE_COLUMNS = """seq, payable_id, household_id, payee_name_masked, bank_name, bank_account_masked, amount_fen,
                  status, failure_reason, settled_on"""


async def lines_page(
    conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID, after_seq: int, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {_LINE_COLUMNS}
           FROM payment_batch_lines WHERE county_code = $1 AND batch_id = $2 AND seq > $3 ORDER BY seq LIMIT $4""",
        county_code,
        batch_id,
        after_seq,
        limit,
    )


async def failed_lines(
    conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID, limit: int
) -> list[asyncpg.Record]:
    """The batch's lines the bank returned as failed, in 序号 order, at most `limit`."""
    return await conn.fetch(
        f"""SELECT {_LINE_COLUMNS}
           FROM payment_batch_lines WHERE county_code = $1 AND batch_id = $2 AND status = 'failed'
           ORDER BY seq LIMIT $3""",
        county_code,
        batch_id,
        limit,
    )


async def bank_lines(conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT seq, payable_id, payee_name, bank_account_enc, id_number_enc, amount_fen
           FROM payment_batch_lines WHERE county_code = $1 AND batch_id = $2 AND status <> 'cancelled'
           ORDER BY seq""",
        county_code,
        batch_id,
    )


async def approve(
    conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID, approved_by: str, approved_by_id: str
) -> None:
    await conn.execute(
        """UPDATE payment_batches SET status = 'approved', approved_by = $3, approved_by_id = $4, approved_at = now()
           WHERE county_code = $1 AND id = $2 AND status = 'draft'""",
        county_code,
        batch_id,
        approved_by,
        approved_by_id,
    )


async def cancel(conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID) -> int:
    """A draft's payables go back to unpaid; its lines stay, marked cancelled, as the record."""
    released = await conn.execute(
        """UPDATE payables SET status = 'unpaid', batch_id = NULL
           WHERE county_code = $1 AND batch_id = $2 AND status = 'in_batch'""",
        county_code,
        batch_id,
    )
    await conn.execute(
        "UPDATE payment_batch_lines SET status = 'cancelled' WHERE county_code = $1 AND batch_id = $2 AND status = 'pending'",
        county_code,
        batch_id,
    )
    await conn.execute(
        "UPDATE payment_batches SET status = 'cancelled', cancelled_at = now() WHERE county_code = $1 AND id = $2",
        county_code,
        batch_id,
    )
    return int(released.split()[-1])


async def settlement_lines(conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID) -> list[asyncpg.Record]:
    """Every line of the batch with what posting a payment needs (the payable's two accounts)."""
    return await conn.fetch(
        """SELECT l.seq, l.payable_id, l.household_id, l.amount_fen, l.status, l.bank_account_masked,
                  p.payable_account_id, p.paying_account_id
           FROM payment_batch_lines l JOIN payables p ON p.county_code = l.county_code AND p.id = l.payable_id
           WHERE l.county_code = $1 AND l.batch_id = $2 AND l.status <> 'cancelled'""",
        county_code,
        batch_id,
    )


async def mark_paid(
    conn: asyncpg.Connection,
    county_code: str,
    batch_id: uuid.UUID,
    return_id: uuid.UUID,
    entry_id: uuid.UUID,
    paid_on: dt.date,
    seqs: Sequence[int],
    payable_ids: Sequence[uuid.UUID],
) -> tuple[int, int]:
    """Lines → paid, payables → paid, one payable_payments row each (its key refuses a second)."""
    lines = await conn.execute(
        """UPDATE payment_batch_lines l SET status = 'paid', entry_id = $4, return_id = $5, settled_on = $6
           FROM unnest($3::int[]) AS u(seq)
           WHERE l.county_code = $1 AND l.batch_id = $2 AND l.seq = u.seq AND l.status = 'pending'""",
        county_code,
        batch_id,
        list(seqs),
        entry_id,
        return_id,
        paid_on,
    )
    payables = await conn.execute(
        """UPDATE payables p SET status = 'paid', batch_id = NULL, paid_on = $4
           FROM unnest($3::uuid[]) AS u(id)
           WHERE p.county_code = $1 AND p.id = u.id AND p.status = 'in_batch' AND p.batch_id = $2""",
        county_code,
        batch_id,
        list(payable_ids),
        paid_on,
    )
    await conn.copy_records_to_table(
        "payable_payments",
        records=[
            (county_code, pid, batch_id, entry_id, paid_on, f"{return_id}:{seq}")
            for seq, pid in zip(seqs, payable_ids, strict=True)
        ],
        columns=["county_code", "payable_id", "batch_id", "entry_id", "paid_on", "bank_ref"],
    )
    return int(lines.split()[-1]), int(payables.split()[-1])


async def mark_failed(
    conn: asyncpg.Connection,
    county_code: str,
    batch_id: uuid.UUID,
    return_id: uuid.UUID,
    settled_on: dt.date,
    seqs: Sequence[int],
    payable_ids: Sequence[uuid.UUID],
    reasons: Sequence[str],
) -> tuple[int, int]:
    """Lines → failed with the bank's reason; their payables back to unpaid, free for a new batch."""
    lines = await conn.execute(
        """UPDATE payment_batch_lines l SET status = 'failed', failure_reason = u.reason, return_id = $5,
               settled_on = $6
           FROM unnest($3::int[], $4::text[]) AS u(seq, reason)
           WHERE l.county_code = $1 AND l.batch_id = $2 AND l.seq = u.seq AND l.status = 'pending'""",
        county_code,
        batch_id,
        list(seqs),
        list(reasons),
        return_id,
        settled_on,
    )
    payables = await conn.execute(
        """UPDATE payables p SET status = 'unpaid', batch_id = NULL, failure_reason = u.reason
           FROM unnest($3::uuid[], $4::text[]) AS u(id, reason)
           WHERE p.county_code = $1 AND p.id = u.id AND p.status = 'in_batch' AND p.batch_id = $2""",
        county_code,
        batch_id,
        list(payable_ids),
        list(reasons),
    )
    return int(lines.split()[-1]), int(payables.split()[-1])


async def close_if_settled(conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID) -> str:
    """An approved batch closes once no line is left pending; answer the batch's status."""
    await conn.execute(
        """UPDATE payment_batches SET status = 'closed', closed_at = now()
           WHERE county_code = $1 AND id = $2 AND status = 'approved' AND NOT EXISTS (
               SELECT 1 FROM payment_batch_lines
               WHERE county_code = $1 AND batch_id = $2 AND status = 'pending')""",
        county_code,
        batch_id,
    )
    return await conn.fetchval(
        "SELECT status FROM payment_batches WHERE county_code = $1 AND id = $2", county_code, batch_id
    )


async def insert_return(
    conn: asyncpg.Connection,
    county_code: str,
    return_id: uuid.UUID,
    batch_id: uuid.UUID,
    *,
    filename: str,
    file_sha256: str,
    entry_id: uuid.UUID | None,
    paid: tuple[int, int],
    failed: tuple[int, int],
    unmatched: int,
    repeated: int,
    imported_by: str,
    imported_on: dt.date,
) -> None:
    await conn.execute(
        """INSERT INTO payment_returns (county_code, id, batch_id, filename, file_sha256, entry_id, paid_count,
               paid_fen, failed_count, failed_fen, unmatched_count, repeated_count, imported_by, imported_on)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)""",
        county_code,
        return_id,
        batch_id,
        filename,
        file_sha256,
        entry_id,
        paid[0],
        paid[1],
        failed[0],
        failed[1],
        unmatched,
        repeated,
        imported_by,
        imported_on,
    )


async def reconciliation(conn: asyncpg.Connection, county_code: str, batch_id: uuid.UUID | None) -> asyncpg.Record:
    """Figures for one batch, or for every batch of the county that went to the bank."""
    return _one(
        await conn.fetchrow(
            """WITH b AS (
                   SELECT id FROM payment_batches WHERE county_code = $1 AND ($2::uuid IS NULL OR id = $2)
                     AND status IN ('approved', 'closed')),
               l AS (
                   SELECT l.status, l.amount_fen FROM payment_batch_lines l JOIN b ON b.id = l.batch_id
                   WHERE l.county_code = $1 AND l.status <> 'cancelled')
               SELECT count(*) AS sent_count, coalesce(sum(amount_fen), 0)::bigint AS sent_fen,
                      count(*) FILTER (WHERE status = 'paid') AS paid_count,
                      coalesce(sum(amount_fen) FILTER (WHERE status = 'paid'), 0)::bigint AS paid_fen,
                      count(*) FILTER (WHERE status = 'failed') AS failed_count,
                      coalesce(sum(amount_fen) FILTER (WHERE status = 'failed'), 0)::bigint AS failed_fen,
                      count(*) FILTER (WHERE status = 'pending') AS pending_count,
                      coalesce(sum(amount_fen) FILTER (WHERE status = 'pending'), 0)::bigint AS pending_fen,
                      (SELECT coalesce(sum(p.amount_fen), 0)::bigint FROM payable_payments pp
                         JOIN payables p ON p.county_code = pp.county_code AND p.id = pp.payable_id
                         WHERE pp.county_code = $1 AND ($2::uuid IS NULL OR pp.batch_id = $2)) AS payments_fen,
                      (SELECT coalesce(sum(j.amount_fen), 0)::bigint FROM journal_lines j
                         JOIN payment_returns r ON r.county_code = j.county_code AND r.entry_id = j.entry_id
                         WHERE r.county_code = $1 AND ($2::uuid IS NULL OR r.batch_id = $2) AND j.amount_fen > 0)
                        AS ledger_fen
               FROM l""",
            county_code,
            batch_id,
        )
    )


async def household_for_update(conn: asyncpg.Connection, county_code: str, household_id: uuid.UUID) -> asyncpg.Record:
    return _one(
        await conn.fetchrow(
            "SELECT bank_name, bank_account_masked FROM households WHERE county_code = $1 AND id = $2 FOR UPDATE",
            county_code,
            household_id,
        )
    )


async def set_bank_account(
    conn: asyncpg.Connection,
    county_code: str,
    household_id: uuid.UUID,
    bank_name: str,
    enc: bytes,
    lookup: bytes,
    masked: str,
) -> None:
    await conn.execute(
        """UPDATE households SET bank_name = $3, bank_account_enc = $4, bank_account_hash = $5,
               bank_account_masked = $6 WHERE county_code = $1 AND id = $2""",
        county_code,
        household_id,
        bank_name,
        enc,
        lookup,
        masked,
    )
