"""Posting to the ledger: accounts, balanced entries, reversals, payables.

Every function here runs inside the caller's transaction; the database re-checks what the code
asserts (migration 0002 lists the invariants).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence

import asyncpg

from service.ledger.rules import AccountSpec, AlreadyReversed, EntryDraft, LedgerError, Line, NewPayable, checked_lines


async def accounts(
    conn: asyncpg.Connection, county_code: str, specs: Iterable[AccountSpec]
) -> dict[AccountSpec, uuid.UUID]:
    """Get or create accounts, in one round trip each way."""
    specs = list(dict.fromkeys(specs))
    if not specs:
        return {}
    await conn.execute(
        """INSERT INTO accounts (county_code, owner_type, owner_id, code, name)
           SELECT $1, t, o, c, n FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS s(t, o, c, n)
           ON CONFLICT (county_code, owner_type, owner_id, code) DO NOTHING""",
        county_code,
        [s.owner_type for s in specs],
        [s.owner_id for s in specs],
        [s.code for s in specs],
        [s.name for s in specs],
    )
    rows = await conn.fetch(
        """SELECT a.id, a.owner_type, a.owner_id, a.code FROM accounts a
           JOIN unnest($2::text[], $3::text[], $4::text[]) AS s(t, o, c)
             ON a.owner_type = s.t AND a.owner_id = s.o AND a.code = s.c
           WHERE a.county_code = $1""",
        county_code,
        [s.owner_type for s in specs],
        [s.owner_id for s in specs],
        [s.code for s in specs],
    )
    found = {(r["owner_type"], r["owner_id"], r["code"]): r["id"] for r in rows}
    return {s: found[(s.owner_type, s.owner_id, s.code)] for s in specs}


ENTRY_COLUMNS = ["county_code", "id", "source_type", "source_id", "idempotency_key", "memo", "posted_on", "reverses"]
LINE_COLUMNS = ["county_code", "entry_id", "line_no", "account_id", "amount_fen", "party_id"]


def entry_records(county_code: str, drafts: Sequence[EntryDraft]) -> tuple[list[uuid.UUID], list[tuple], list[tuple]]:
    """The rows of balanced entries, ready for COPY (ENTRY_COLUMNS, LINE_COLUMNS); raises if one does not balance."""
    checked = [checked_lines(d) for d in drafts]
    ids = [uuid.uuid4() for _ in drafts]
    entries = [
        (county_code, eid, d.source_type, d.source_id, d.idempotency_key, d.memo, d.posted_on, d.reverses)
        for eid, d in zip(ids, drafts, strict=True)
    ]
    lines = [
        (county_code, eid, n, line.account_id, line.amount_fen, line.party_id)
        for eid, entry_lines in zip(ids, checked, strict=True)
        for n, line in enumerate(entry_lines, start=1)
    ]
    return ids, entries, lines


async def copy_lines(conn: asyncpg.Connection, lines: list[tuple]) -> None:
    """Every line of the entries about to be sealed; the database refuses a line of an entry whose
    header is already in (L2) and a line naming an account its county does not have."""
    await conn.copy_records_to_table("journal_lines", records=lines, columns=LINE_COLUMNS)


async def copy_headers(conn: asyncpg.Connection, entries: list[tuple]) -> None:
    """The headers, after their lines: each is refused unless its lines balance (L1)."""
    await conn.copy_records_to_table("journal_entries", records=entries, columns=ENTRY_COLUMNS)


async def add_to_balances(conn: asyncpg.Connection, lines: list[tuple]) -> None:
    """L5: each account's kept balance moved by the sum of these lines (LINE_COLUMNS rows), one
    upsert for all the accounts, taken in account order so that concurrent postings to the same
    accounts lock them in the same order."""
    sums: dict[tuple[str, uuid.UUID], int] = {}
    for county_code, _, _, account_id, amount_fen, _ in lines:
        sums[(county_code, account_id)] = sums.get((county_code, account_id), 0) + amount_fen
    keys = sorted(sums)
    await conn.execute(
        """INSERT INTO account_balances AS b (county_code, account_id, balance_fen)
           SELECT * FROM unnest($1::bpchar[], $2::uuid[], $3::bigint[])
           ON CONFLICT (county_code, account_id) DO UPDATE SET balance_fen = b.balance_fen + EXCLUDED.balance_fen""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [sums[k] for k in keys],
    )


async def copy_entries(conn: asyncpg.Connection, entries: list[tuple], lines: list[tuple]) -> None:
    """Lines first, then the headers that seal them, then the balances, in the caller's transaction
    (docs/scale-out.md, "The journal": each check runs on the county's shard)."""
    await copy_lines(conn, lines)
    await copy_headers(conn, entries)
    await add_to_balances(conn, lines)


async def post_entries(conn: asyncpg.Connection, county_code: str, drafts: Sequence[EntryDraft]) -> list[uuid.UUID]:
    """Write balanced entries with COPY. The code checks each entry balances before writing; the
    database checks again as each header is written."""
    ids, entries, lines = entry_records(county_code, drafts)
    await copy_entries(conn, entries, lines)
    return ids


async def post_entry(
    conn: asyncpg.Connection,
    *,
    county_code: str,
    source_type: str,
    source_id: str,
    idempotency_key: str,
    memo: str,
    posted_on: dt.date,
    lines: Sequence[Line],
    reverses: uuid.UUID | None = None,
) -> uuid.UUID:
    """Write one balanced entry. Raises LedgerError if it does not balance."""
    (entry_id,) = await post_entries(
        conn, county_code, [EntryDraft(source_type, source_id, idempotency_key, memo, posted_on, lines, reverses)]
    )
    return entry_id


async def reverse_entry(
    conn: asyncpg.Connection,
    county_code: str,
    entry_id: uuid.UUID,
    *,
    memo: str,
    posted_on: dt.date,
) -> uuid.UUID:
    """A reversing entry with every line negated. An entry is reversed at most once (UNIQUE reverses)."""
    original = await conn.fetchrow(
        "SELECT source_type, source_id, reverses FROM journal_entries WHERE county_code = $1 AND id = $2",
        county_code,
        entry_id,
    )
    if original is None:
        raise LedgerError(f"no entry {entry_id}")
    if original["source_type"] == "reversal":
        raise LedgerError("a reversal is not itself reversed; post a new entry instead")
    lines = await conn.fetch(
        "SELECT account_id, amount_fen, party_id FROM journal_lines WHERE county_code = $1 AND entry_id = $2 ORDER BY line_no",
        county_code,
        entry_id,
    )
    try:
        async with conn.transaction():  # a savepoint, so the caller can report rather than abort
            return await post_entry(
                conn,
                county_code=county_code,
                source_type="reversal",
                source_id=str(entry_id),
                idempotency_key=f"reversal:{entry_id}",
                memo=memo,
                posted_on=posted_on,
                lines=[Line(r["account_id"], -r["amount_fen"], r["party_id"]) for r in lines],
                reverses=entry_id,
            )
    except asyncpg.UniqueViolationError:
        raise AlreadyReversed(f"entry {entry_id} was already reversed") from None


PAYABLE_COLUMNS = [
    "county_code",
    "id",
    "household_id",
    "source",
    "source_id",
    "source_ref",
    "amount_fen",
    "explanation",
    "entry_id",
    "payable_account_id",
    "paying_account_id",
    "village_code",
    "venture_id",
    "program_id",
]


def payable_records(county_code: str, payables: Sequence[NewPayable]) -> tuple[list[uuid.UUID], list[tuple]]:
    ids = [uuid.uuid4() for _ in payables]
    return ids, [
        (
            county_code,
            pid,
            p.household_id,
            p.source,
            p.source_id,
            p.source_ref,
            p.amount_fen,
            p.explanation,
            p.entry_id,
            p.payable_account_id,
            p.paying_account_id,
            p.village_code,
            p.venture_id,
            p.program_id,
        )
        for pid, p in zip(ids, payables, strict=True)
    ]


async def create_payables(
    conn: asyncpg.Connection, county_code: str, payables: Sequence[NewPayable]
) -> list[uuid.UUID]:
    """One payable per household line, with COPY."""
    ids, records = payable_records(county_code, payables)
    await conn.copy_records_to_table("payables", records=records, columns=PAYABLE_COLUMNS)
    return ids


async def cancel_unpaid_payables(conn: asyncpg.Connection, county_code: str, source: str, source_id: str) -> int:
    """Cancel what a reversed source still owes; paid or batched payables are reported by the caller."""
    result = await conn.execute(
        "UPDATE payables SET status = 'cancelled' WHERE county_code = $1 AND source = $2 AND source_id = $3 AND status = 'unpaid'",
        county_code,
        source,
        source_id,
    )
    return int(result.split()[-1])


# ---- verify-ledger: the rows that break an invariant (none when it holds), at most `limit`, in one
# county or (county_code None) in all of them ------------------------------------------------------


async def unbalanced_entries(
    conn: asyncpg.Connection, limit: int, county_code: str | None = None
) -> list[asyncpg.Record]:
    """Entries whose lines do not sum to zero, or that have fewer than two lines."""
    return await conn.fetch(
        """SELECT e.county_code, e.id, coalesce(sum(l.amount_fen), 0) AS total, count(l.*) AS n
           FROM journal_entries e LEFT JOIN journal_lines l ON l.county_code = e.county_code AND l.entry_id = e.id
           WHERE $2::bpchar IS NULL OR e.county_code = $2
           GROUP BY e.county_code, e.id HAVING coalesce(sum(l.amount_fen), 0) <> 0 OR count(l.*) < 2
           LIMIT $1""",
        limit,
        county_code,
    )


async def lines_without_header(
    conn: asyncpg.Connection, limit: int, county_code: str | None = None
) -> list[asyncpg.Record]:
    """Entries with lines committed and no header: what the seal cannot refuse (a posting that
    wrote its lines and never its header is a bug in the posting code)."""
    return await conn.fetch(
        """SELECT l.county_code, l.entry_id, count(*) AS n FROM journal_lines l
           WHERE ($2::bpchar IS NULL OR l.county_code = $2)
             AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.county_code = l.county_code AND e.id = l.entry_id)
           GROUP BY l.county_code, l.entry_id LIMIT $1""",
        limit,
        county_code,
    )


async def unbalanced_counties(
    conn: asyncpg.Connection, limit: int, county_code: str | None = None
) -> list[asyncpg.Record]:
    """Counties whose journal lines do not sum to zero."""
    return await conn.fetch(
        """SELECT county_code, sum(amount_fen) AS total FROM journal_lines
           WHERE $2::bpchar IS NULL OR county_code = $2 GROUP BY county_code
           HAVING sum(amount_fen) <> 0 LIMIT $1""",
        limit,
        county_code,
    )


async def balances_unlike_lines(
    conn: asyncpg.Connection, limit: int, county_code: str | None = None
) -> list[asyncpg.Record]:
    """Accounts whose kept balance differs from the sum of their lines."""
    return await conn.fetch(
        """SELECT coalesce(b.account_id, s.account_id) AS account_id, b.balance_fen, s.total
           FROM account_balances b FULL JOIN (
               SELECT county_code, account_id, sum(amount_fen) AS total FROM journal_lines
               WHERE $2::bpchar IS NULL OR county_code = $2 GROUP BY 1, 2) s
             ON s.county_code = b.county_code AND s.account_id = b.account_id
           WHERE ($2::bpchar IS NULL OR coalesce(b.county_code, s.county_code) = $2) AND coalesce(b.balance_fen, 0) <> coalesce(s.total, 0)
           LIMIT $1""",
        limit,
        county_code,
    )


async def entries_reversed_twice(
    conn: asyncpg.Connection, limit: int, county_code: str | None = None
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT county_code, reverses, count(*) AS n FROM journal_entries
           WHERE reverses IS NOT NULL AND ($2::bpchar IS NULL OR county_code = $2)
           GROUP BY 1, 2 HAVING count(*) > 1
           LIMIT $1""",
        limit,
        county_code,
    )


async def payables_not_paid_once(
    conn: asyncpg.Connection, limit: int, county_code: str | None = None
) -> list[asyncpg.Record]:
    """Payables with more than one payment, or paid without one (or with one and not paid)."""
    return await conn.fetch(
        """SELECT p.county_code, p.id, p.status, count(pp.*) AS payments FROM payables p
           LEFT JOIN payable_payments pp ON pp.county_code = p.county_code AND pp.payable_id = p.id
           WHERE $2::bpchar IS NULL OR p.county_code = $2
           GROUP BY p.county_code, p.id, p.status
           HAVING count(pp.*) > 1 OR (p.status = 'paid') <> (count(pp.*) = 1)
           LIMIT $1""",
        limit,
        county_code,
    )


async def member_capital_unlike_register(
    conn: asyncpg.Connection, limit: int, county_code: str | None = None
) -> list[asyncpg.Record]:
    """Cooperatives whose member accounts' capital differs from the share register's."""
    return await conn.fetch(
        """SELECT v.id, coalesce(a.total, 0) AS accounts, coalesce(s.total, 0) AS register
           FROM ventures v
           LEFT JOIN (SELECT venture_id, sum(amount_fen) AS total FROM member_account_movements
                      WHERE kind = 'capital' GROUP BY 1) a ON a.venture_id = v.id
           LEFT JOIN (SELECT venture_id, sum(CASE kind WHEN 'subscribe' THEN capital_fen
                                                       WHEN 'redeem' THEN -capital_fen ELSE 0 END) AS total
                      FROM share_movements GROUP BY 1) s ON s.venture_id = v.id
           WHERE v.model = 'cooperative' AND ($2::bpchar IS NULL OR v.county_code = $2) AND coalesce(a.total, 0) <> coalesce(s.total, 0)
           LIMIT $1""",
        limit,
        county_code,
    )


async def member_subsidies_unlike_receipts(
    conn: asyncpg.Connection, limit: int, county_code: str | None = None
) -> list[asyncpg.Record]:
    """Ventures whose quantified subsidies differ from the subsidies received."""
    return await conn.fetch(
        """SELECT v.id, coalesce(a.total, 0) AS accounts, coalesce(s.total, 0) AS received
           FROM ventures v
           LEFT JOIN (SELECT venture_id, sum(amount_fen) AS total FROM member_account_movements
                      WHERE kind = 'subsidy' GROUP BY 1) a ON a.venture_id = v.id
           LEFT JOIN (SELECT venture_id, sum(amount_fen) AS total FROM subsidies GROUP BY 1) s ON s.venture_id = v.id
           WHERE ($2::bpchar IS NULL OR v.county_code = $2) AND coalesce(a.total, 0) <> coalesce(s.total, 0)
           LIMIT $1""",
        limit,
        county_code,
    )


# ---- reading the books: the trial balance (科目余额表) and the journal (凭证) ------------------------


async def trial_balance_page(
    conn: asyncpg.Connection,
    *,
    county_code: str | None,
    venture_id: str | None,
    as_of: dt.date | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Accounts of a venture (or of a county) with their debits, credits and balance from the
    lines of entries posted on or before `as_of` (all of them when None), by code then id."""
    return await conn.fetch(
        """SELECT a.id, a.code, a.name, a.owner_type, a.owner_id,
                  coalesce(sum(l.amount_fen) FILTER (WHERE l.amount_fen > 0), 0)::bigint AS debit_fen,
                  coalesce(-sum(l.amount_fen) FILTER (WHERE l.amount_fen < 0), 0)::bigint AS credit_fen,
                  coalesce(sum(l.amount_fen), 0)::bigint AS balance_fen
           FROM accounts a
           LEFT JOIN journal_lines l ON l.county_code = a.county_code AND l.account_id = a.id
                AND ($3::date IS NULL OR EXISTS (SELECT 1 FROM journal_entries e WHERE e.county_code = l.county_code
                                                   AND e.id = l.entry_id AND e.posted_on <= $3))
           WHERE ($1::text IS NULL OR a.county_code = $1)
             AND ($2::text IS NULL OR (a.owner_type = 'venture' AND a.owner_id = $2))
             AND ($4::text IS NULL OR (a.code, a.id::text) > ($4, $5))
           GROUP BY a.id, a.code, a.name, a.owner_type, a.owner_id
           ORDER BY a.code, a.id::text LIMIT $6""",
        county_code,
        venture_id,
        as_of,
        after[0] if after else None,
        after[1] if after else "",
        limit,
    )


async def entries_page(
    conn: asyncpg.Connection,
    *,
    county_code: str | None,
    venture_id: str | None,
    since: dt.date | None,
    until: dt.date | None,
    after: tuple[dt.date, str] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Journal entries touching a venture's accounts (or a county's), by date then id."""
    return await conn.fetch(
        """SELECT e.county_code, e.id, e.posted_on, e.source_type, e.source_id, e.memo, e.reverses
           FROM journal_entries e
           WHERE ($1::text IS NULL OR e.county_code = $1)
             AND ($2::text IS NULL OR EXISTS (
                   SELECT 1 FROM journal_lines l JOIN accounts a ON a.county_code = l.county_code AND a.id = l.account_id
                   WHERE l.county_code = e.county_code AND l.entry_id = e.id
                     AND a.owner_type = 'venture' AND a.owner_id = $2))
             AND ($3::date IS NULL OR e.posted_on >= $3) AND ($4::date IS NULL OR e.posted_on <= $4)
             AND ($5::date IS NULL OR (e.posted_on, e.id::text) > ($5, $6))
           ORDER BY e.posted_on, e.id::text LIMIT $7""",
        county_code,
        venture_id,
        since,
        until,
        after[0] if after else None,
        after[1] if after else "",
        limit,
    )


async def lines_of_entries(
    conn: asyncpg.Connection, county_code: str, entry_ids: Sequence[uuid.UUID]
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT l.entry_id, l.line_no, l.amount_fen, l.party_id, a.code, a.name
           FROM journal_lines l JOIN accounts a ON a.county_code = l.county_code AND a.id = l.account_id
           WHERE l.county_code = $1 AND l.entry_id = ANY($2::uuid[]) ORDER BY l.entry_id, l.line_no""",
        county_code,
        list(entry_ids),
    )
