"""Queries for award programmes, applications, reviews, awards and cross-check lists.

Fact gathering is set-wise (one query per kind of fact for any number of households), so the
single application a household submits and a county-wide batch take the same path.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import asyncpg

from db.ids import as_uuid, row_for_update
from db.system import clock
from service.awards.rules import CrossCheckHit, EarlierAward, StatusEvent, listed_hit

# ---- programmes ---------------------------------------------------------------------------------


async def program(
    conn: asyncpg.Connection, program_id: str | uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    key = as_uuid(program_id)
    if key is None:
        return None
    if for_update:
        return await row_for_update(conn, "award_programs", key)
    return await conn.fetchrow("SELECT * FROM award_programs WHERE id = $1", key)


async def programs_page(
    conn: asyncpg.Connection,
    *,
    county_code: str | None,
    year: int | None,
    kind: str | None,
    after: tuple[dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Programmes (of one county, or all for None), newest first, after the key (created_at, id)."""
    return await conn.fetch(
        """SELECT * FROM award_programs
           WHERE ($1::text IS NULL OR county_code = $1) AND ($2::int IS NULL OR year = $2)
             AND ($3::text IS NULL OR kind = $3)
             AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))
           ORDER BY created_at DESC, id DESC LIMIT $6""",
        county_code,
        year,
        kind,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


async def county_name(conn: asyncpg.Connection, county_code: str) -> str | None:
    """The name of a county-level region, or None when there is no such county."""
    return await conn.fetchval("SELECT name FROM regions WHERE code = $1 AND level = 'county'", county_code)


async def region_name(conn: asyncpg.Connection, code: str) -> str | None:
    return await conn.fetchval("SELECT name FROM regions WHERE code = $1", code)


async def insert_program(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    """A new programme from its column values (its budget split by level included); returns its row."""
    row = await conn.fetchrow(
        """INSERT INTO award_programs (county_code, kind, year, name, amount_fen, budget_fen, province_bp,
               city_bp, county_bp, notice_days, opens_on, closes_on, created_by, province_budget_fen,
               city_budget_fen, county_budget_fen)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *""",
        values["county_code"],
        values["kind"],
        values["year"],
        values["name"],
        values["amount_fen"],
        values["budget_fen"],
        values["province_bp"],
        values["city_bp"],
        values["county_bp"],
        values["notice_days"],
        values["opens_on"],
        values["closes_on"],
        values["created_by"],
        values["province_budget_fen"],
        values["city_budget_fen"],
        values["county_budget_fen"],
    )
    assert row is not None
    return row


async def commit_grants(conn: asyncpg.Connection, p: asyncpg.Record, by_level: dict[str, int]) -> asyncpg.Record:
    """Add a grant run to what the programme and each level have committed; returns the new row.

    The CHECKs of migration 0012 refuse the update should any level pass its share.
    """
    row = await conn.fetchrow(
        """UPDATE award_programs SET committed_fen = committed_fen + $3 + $4 + $5,
               province_committed_fen = province_committed_fen + $3, city_committed_fen = city_committed_fen + $4,
               county_committed_fen = county_committed_fen + $5
           WHERE county_code = $1 AND id = $2 RETURNING *""",
        p["county_code"],
        p["id"],
        by_level["province"],
        by_level["city"],
        by_level["county"],
    )
    assert row is not None
    return row


async def take_serial_numbers(conn: asyncpg.Connection, county_code: str, kind: str, year: int, count: int) -> int:
    """Reserve `count` certificate numbers of a county, kind and year; returns the first.

    The counter row is locked until the transaction ends, so concurrent grants of any programmes
    of the county are numbered one after the other, and a rolled-back grant gives its numbers back.
    """
    last: int = await conn.fetchval(
        """INSERT INTO award_serial_counters AS c (county_code, kind, year, last_number) VALUES ($1, $2, $3, $4)
           ON CONFLICT (county_code, kind, year) DO UPDATE SET last_number = c.last_number + excluded.last_number
           RETURNING last_number""",
        county_code,
        kind,
        year,
        count,
    )
    return last - count + 1


async def lock_exit_awards(conn: asyncpg.Connection, county_code: str) -> None:
    """Serialise exit grants within a county until the transaction ends (one award per split family)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"award-exit:{county_code}")


async def program_counts(conn: asyncpg.Connection, p: asyncpg.Record) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT status, count(*) AS n FROM award_applications WHERE county_code = $1 AND program_id = $2 GROUP BY 1",
        p["county_code"],
        p["id"],
    )
    return {r["status"]: r["n"] for r in rows}


async def households(conn: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    rows = await conn.fetch(
        """SELECT id, county_code, village_code, household_no, head_name_masked, split_from, created_at
           FROM households WHERE id = ANY($1::uuid[])""",
        list(ids),
    )
    return {r["id"]: r for r in rows}


async def status_events(conn: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[StatusEvent]]:
    rows = await conn.fetch(
        """SELECT household_id, kind, year, effective_date FROM household_status_events
           WHERE household_id = ANY($1::uuid[]) ORDER BY household_id, effective_date, recorded_at""",
        list(ids),
    )
    found: dict[uuid.UUID, list[StatusEvent]] = defaultdict(list)
    for r in rows:
        found[r["household_id"]].append(StatusEvent(r["kind"], r["year"], r["effective_date"]))
    return found


async def earlier_exit_awards(
    conn: asyncpg.Connection, county_code: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[EarlierAward]]:
    """Exit awards to each household, to the one it split from, and to those split from it."""
    rows = await conn.fetch(
        """WITH me AS (SELECT id, split_from FROM households WHERE county_code = $1 AND id = ANY($2::uuid[])),
                related AS (
                    SELECT me.id AS household_id, me.id AS other, 'self' AS relation FROM me
                    UNION ALL
                    SELECT me.id, me.split_from, 'split_from' FROM me WHERE me.split_from IS NOT NULL
                    UNION ALL
                    SELECT me.id, c.id, 'split_into' FROM me
                    JOIN households c ON c.county_code = $1 AND c.split_from = me.id)
           SELECT r.household_id, r.other, r.relation, w.year FROM related r
           JOIN awards w ON w.county_code = $1 AND w.household_id = r.other AND w.kind = 'exit'
           ORDER BY w.year""",
        county_code,
        list(ids),
    )
    found: dict[uuid.UUID, list[EarlierAward]] = defaultdict(list)
    for r in rows:
        found[r["household_id"]].append(EarlierAward(str(r["other"]), r["year"], r["relation"]))
    return found


async def cross_check_hits(
    conn: asyncpg.Connection,
    county_code: str,
    ids: Sequence[uuid.UUID],
    *,
    since: dict[uuid.UUID, dt.datetime] | None = None,
) -> dict[uuid.UUID, list[CrossCheckHit]]:
    """List entries matching each household head's ID (by keyed hash); `since` keeps only later ones."""
    rows = await conn.fetch(
        """SELECT h.id AS household_id, c.source, c.imported_at FROM households h
           JOIN cross_check_entries c ON c.county_code = h.county_code AND c.id_hash = h.head_id_hash
           WHERE h.county_code = $1 AND h.id = ANY($2::uuid[]) ORDER BY c.source""",
        county_code,
        list(ids),
    )
    found: dict[uuid.UUID, list[CrossCheckHit]] = defaultdict(list)
    for r in rows:
        if since is not None and r["imported_at"] <= since[r["household_id"]]:
            continue
        found[r["household_id"]].append(listed_hit(r["source"], r["imported_at"]))
    return found


async def split_after_registration(conn: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Households split off (分户) from a household that was already registered poor at the split."""
    rows = await conn.fetch(
        """SELECT h.id FROM households h
           WHERE h.id = ANY($1::uuid[]) AND h.split_from IS NOT NULL
             AND EXISTS (SELECT 1 FROM household_status_events e
                         WHERE e.county_code = h.county_code AND e.household_id = h.split_from AND e.kind = 'registered'
                           AND e.effective_date <= h.created_at::date)""",
        list(ids),
    )
    return {r["id"] for r in rows}


async def lines_for(conn: asyncpg.Connection, year: int) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT poverty_line_fen, xiaokang_line_fen FROM poverty_lines WHERE year = $1", year)


async def live_applications(
    conn: asyncpg.Connection, p: asyncpg.Record, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Each household's application in progress in the programme (neither rejected nor withdrawn)."""
    rows = await conn.fetch(
        """SELECT household_id, id FROM award_applications WHERE county_code = $1 AND program_id = $2
             AND household_id = ANY($3::uuid[]) AND status NOT IN ('rejected', 'withdrawn')""",
        p["county_code"],
        p["id"],
        list(ids),
    )
    return {r["household_id"]: r["id"] for r in rows}


APPLICATION_COLUMNS = [
    "county_code",
    "id",
    "program_id",
    "household_id",
    "village_code",
    "declared_income_fen",
    "outcome",
    "checks",
    "status",
    "status_reason",
    "applied_by",
    "filed_by_household",
    "income_breakdown",
    "income_recorded",
    "commitment_text",
    "commitment_accepted_at",
]


async def insert_applications(conn: asyncpg.Connection, records: list[tuple[Any, ...]]) -> None:
    """New applications (values in APPLICATION_COLUMNS order), with COPY."""
    await conn.copy_records_to_table("award_applications", records=records, columns=APPLICATION_COLUMNS)


# An application as every reader gets it: with its household's masked name, its programme's kind
# and year, its notice's dates, and once granted its certificate and payment.
_APPLICATION = """
SELECT a.county_code, a.id, a.seq, a.program_id, a.household_id, a.village_code, a.declared_income_fen,
       a.outcome, a.checks, a.status, a.status_reason, a.notice_id, a.created_at, a.updated_at,
       a.filed_by_household, a.income_breakdown, a.income_recorded, a.commitment_text, a.commitment_accepted_at,
       h.head_name_masked, h.household_no, ap.kind AS program_kind, ap.year AS program_year,
       n.starts_on AS notice_starts_on, n.ends_on AS notice_ends_on,
       w.serial, y.id AS payable_id, y.amount_fen AS payable_fen, y.status AS payable_status, y.paid_on,
       y.failure_reason
FROM award_applications a
JOIN households h ON h.county_code = a.county_code AND h.id = a.household_id
JOIN award_programs ap ON ap.county_code = a.county_code AND ap.id = a.program_id
LEFT JOIN notices n ON n.county_code = a.county_code AND n.id = a.notice_id
LEFT JOIN awards w ON w.county_code = a.county_code AND w.application_id = a.id
LEFT JOIN payables y ON y.county_code = w.county_code AND y.id = w.payable_id
"""
_ONE_APPLICATION = _APPLICATION + "WHERE a.id = $1"
_APPLICATIONS_PAGE = (
    _APPLICATION
    + """WHERE a.county_code = $1 AND a.program_id = $2 AND a.village_code LIKE $3 || '%'
  AND ($4::text IS NULL OR a.status = $4) AND ($5::bigint IS NULL OR a.seq > $5)
ORDER BY a.seq LIMIT $6"""
)


# The statuses a reviewer waits on, as migration 0020's partial index lists them: written out in
# each query so that the planner may use that index for a generic plan too (a parameter alone
# cannot prove the index's predicate).
WAITING_STATUSES = ("pending_village", "pending_township", "held")
_IS_WAITING = f"a.status IN ({', '.join(repr(s) for s in WAITING_STATUSES)}) AND a.status = ANY($3::text[])"
_IN_A_REGION = "a.county_code = $1 AND a.village_code LIKE $2 || '%'"
# after a.seq > $4: 0 reads from the first (seq starts at 1), a bare range of the partial index.
_WAITING = _APPLICATION + f"WHERE {_IN_A_REGION} AND {_IS_WAITING} AND a.seq > $4\nORDER BY a.seq LIMIT $5"
_WAITING_COUNT = f"""SELECT count(*)::int AS waiting, count(*) FILTER (WHERE a.status = 'held')::int AS held
FROM award_applications a WHERE {_IN_A_REGION} AND {_IS_WAITING}"""


async def applications_waiting(
    conn: asyncpg.Connection, county_code: str, scope: str, statuses: Sequence[str], after_seq: int, limit: int
) -> list[asyncpg.Record]:
    """Applications of every programme of a county in the given statuses, in a region, first filed
    first, from the one after `after_seq` (0: from the first)."""
    return await conn.fetch(_WAITING, county_code, scope, list(statuses), after_seq, limit)


async def applications_waiting_count(
    conn: asyncpg.Connection, county_code: str, scope: str, statuses: Sequence[str]
) -> asyncpg.Record:
    """How many applications wait in those statuses in a region (`waiting`), and how many of them are held."""
    row = await conn.fetchrow(_WAITING_COUNT, county_code, scope, list(statuses))
    assert row is not None  # an aggregate always answers one row
    return row


async def application(
    conn: asyncpg.Connection, application_id: str | uuid.UUID, *, for_update: bool = False
) -> asyncpg.Record | None:
    key = as_uuid(application_id)
    if key is None:
        return None
    if for_update:
        return await row_for_update(conn, "award_applications", key)
    return await conn.fetchrow(_ONE_APPLICATION, key)


async def applications_page(
    conn: asyncpg.Connection, p: asyncpg.Record, *, scope: str, status: str | None, after_seq: int | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(_APPLICATIONS_PAGE, p["county_code"], p["id"], scope, status, after_seq, limit)


async def household_applications(
    conn: asyncpg.Connection, county_code: str, household_id: uuid.UUID
) -> list[asyncpg.Record]:
    """A household's applications, first filed first."""
    return await conn.fetch(
        """SELECT id, program_id, status FROM award_applications
           WHERE county_code = $1 AND household_id = $2 ORDER BY seq""",
        county_code,
        household_id,
    )


async def county_programs(conn: asyncpg.Connection, county_code: str) -> list[asyncpg.Record]:
    """A county's programmes, newest year first, with that year's income lines (None when unset)."""
    return await conn.fetch(
        """SELECT p.*, l.poverty_line_fen, l.xiaokang_line_fen FROM award_programs p
           LEFT JOIN poverty_lines l ON l.year = p.year
           WHERE p.county_code = $1 ORDER BY p.year DESC, p.created_at DESC, p.id""",
        county_code,
    )


async def reviews(conn: asyncpg.Connection, county_code: str, application_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT level, decision, reason, reviewer, created_at FROM award_reviews
           WHERE county_code = $1 AND application_id = $2 ORDER BY created_at""",
        county_code,
        application_id,
    )


async def objections(conn: asyncpg.Connection, county_code: str, application_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT o.id, o.status, o.reason, o.filed_on, o.resolution_reason FROM award_applications a
           JOIN objections o ON o.county_code = a.county_code AND o.notice_id = a.notice_id
                            AND o.subject_id = a.id::text
           WHERE a.county_code = $1 AND a.id = $2 ORDER BY o.created_at""",
        county_code,
        application_id,
    )


async def insert_reviews(
    conn: asyncpg.Connection,
    county_code: str,
    ids: Sequence[uuid.UUID],
    level: str,
    decision: str,
    reason: str,
    reviewer: str,
) -> None:
    await conn.copy_records_to_table(
        "award_reviews",
        records=[(county_code, uuid.uuid4(), i, level, decision, reason, reviewer) for i in ids],
        columns=["county_code", "id", "application_id", "level", "decision", "reason", "reviewer"],
    )


async def set_status(
    conn: asyncpg.Connection,
    county_code: str,
    ids: Sequence[uuid.UUID],
    status: str,
    reason: str = "",
    *,
    from_statuses: Sequence[str] | None = None,
    notice_id: uuid.UUID | None = None,
    rechecked: bool = False,
) -> list[uuid.UUID]:
    """Move applications to `status` (only those in `from_statuses`, when given); returns those moved.

    The status is tested with array_position, which no index serves: as `status = ANY(...)` the
    planner, whose statistics may predate the status (all 'pending_village' at the last ANALYZE, now
    'pending_township'), would walk the programme index over every application of the county in
    that status for each village's handful of ids, instead of probing the primary key."""
    rows = await conn.fetch(
        """UPDATE award_applications SET status = $3, status_reason = $4, updated_at = $8,
               notice_id = coalesce($6, notice_id), checked_at = CASE WHEN $7 THEN $8 ELSE checked_at END
           WHERE county_code = $1 AND id = ANY($2::uuid[])
             AND ($5::text[] IS NULL OR array_position($5::text[], status) IS NOT NULL)
           RETURNING id""",
        county_code,
        list(ids),
        status,
        reason,
        list(from_statuses) if from_statuses else None,
        notice_id,
        rechecked,
        await clock(conn),
    )
    return [r["id"] for r in rows]


async def approved_for_notice(conn: asyncpg.Connection, p: asyncpg.Record, scope: str) -> list[asyncpg.Record]:
    """Township-approved applications of a programme in a region (prefix; '' for all), locked, in order."""
    return await conn.fetch(
        """SELECT id, household_id FROM award_applications
           WHERE county_code = $1 AND program_id = $2 AND status = 'approved' AND village_code LIKE $3 || '%'
           ORDER BY seq FOR UPDATE""",
        p["county_code"],
        p["id"],
        scope,
    )


async def grant_candidates(
    conn: asyncpg.Connection, p: asyncpg.Record, today: dt.date, only: Sequence[uuid.UUID] | None
) -> list[asyncpg.Record]:
    """Applications whose notice has ended with no open objection, first applied first."""
    return await conn.fetch(
        """SELECT a.id, a.household_id, a.village_code, a.checked_at, a.notice_id FROM award_applications a
           JOIN notices n ON n.county_code = a.county_code AND n.id = a.notice_id
           WHERE a.county_code = $1 AND a.program_id = $2 AND a.status IN ('in_notice', 'over_budget')
             AND n.ends_on < $3 AND ($4::uuid[] IS NULL OR a.id = ANY($4::uuid[]))
             AND NOT EXISTS (SELECT 1 FROM objections o WHERE o.county_code = a.county_code
                               AND o.notice_id = a.notice_id AND o.subject_id = a.id::text AND o.status = 'open')
           ORDER BY a.seq""",
        p["county_code"],
        p["id"],
        today,
        list(only) if only is not None else None,
    )


AWARD_COLUMNS = [
    "county_code",
    "id",
    "program_id",
    "application_id",
    "household_id",
    "kind",
    "year",
    "amount_fen",
    "province_fen",
    "city_fen",
    "county_fen",
    "serial",
    "entry_id",
    "payable_id",
    "granted_on",
    "granted_by",
]


async def insert_awards(conn: asyncpg.Connection, records: list[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table("awards", records=records, columns=AWARD_COLUMNS)


async def award_by_serial(conn: asyncpg.Connection, county_code: str, serial: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT w.*, h.head_name, h.head_name_masked, h.village_code, v.name AS village_name, c.name AS county_name
           FROM awards w
           JOIN households h ON h.county_code = w.county_code AND h.id = w.household_id
           LEFT JOIN regions v ON v.code = h.village_code
           LEFT JOIN regions c ON c.code = w.county_code
           WHERE w.county_code = $1 AND w.serial = $2""",
        county_code,
        serial,
    )


async def listed_hashes(
    conn: asyncpg.Connection, county_code: str, pairs: Sequence[tuple[str, bytes]]
) -> set[tuple[str, bytes]]:
    rows = await conn.fetch(
        """SELECT c.source, c.id_hash FROM cross_check_entries c
           JOIN unnest($2::text[], $3::bytea[]) AS p(source, id_hash) ON c.source = p.source AND c.id_hash = p.id_hash
           WHERE c.county_code = $1""",
        county_code,
        [p[0] for p in pairs],
        [p[1] for p in pairs],
    )
    return {(r["source"], bytes(r["id_hash"])) for r in rows}


async def insert_cross_check_import(
    conn: asyncpg.Connection, county_code: str, import_id: uuid.UUID, filename: str, rows: int, added: int, by: str
) -> None:
    await conn.execute(
        """INSERT INTO cross_check_imports (county_code, id, filename, rows, added, imported_by)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        county_code,
        import_id,
        filename,
        rows,
        added,
        by,
    )


async def copy_cross_check_entries(
    conn: asyncpg.Connection, county_code: str, import_id: uuid.UUID, pairs: Sequence[tuple[str, bytes]]
) -> None:
    """New list entries (source, keyed hash of the ID number), with COPY."""
    await conn.copy_records_to_table(
        "cross_check_entries",
        records=[(county_code, s, h, import_id) for s, h in pairs],
        columns=["county_code", "source", "id_hash", "import_id"],
    )
