"""Queries for public notices (公示), their subjects, and objections (异议)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import asyncpg

from db.ids import as_uuid, county_of
from db.system import clock

# A subject as it is written: (subject_id, household_id, amount_fen or None).
SubjectRow = tuple[str, uuid.UUID | None, int | None]


async def insert_notice(
    conn: asyncpg.Connection,
    county_code: str,
    notice_id: uuid.UUID,
    kind: str,
    source_id: str,
    title: str,
    starts_on: dt.date,
    ends_on: dt.date,
    published_by: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO notices (county_code, id, kind, source_id, title, starts_on, ends_on, published_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *""",
        county_code,
        notice_id,
        kind,
        source_id,
        title,
        starts_on,
        ends_on,
        published_by,
    )
    assert row is not None
    return row


async def copy_subjects(
    conn: asyncpg.Connection, county_code: str, notice_id: uuid.UUID, subjects: Sequence[SubjectRow]
) -> None:
    await conn.copy_records_to_table(
        "notice_subjects",
        records=[(county_code, notice_id, *s) for s in subjects],
        columns=["county_code", "notice_id", "subject_id", "household_id", "amount_fen"],
    )


async def notice(conn: asyncpg.Connection, notice_id: str | uuid.UUID) -> asyncpg.Record | None:
    """A notice with its county's name; None for an unknown or malformed id."""
    key = as_uuid(notice_id)
    if key is None:
        return None
    return await conn.fetchrow(
        """SELECT n.*, r.name AS county_name FROM notices n LEFT JOIN regions r ON r.code = n.county_code
           WHERE n.id = $1""",
        key,
    )


_ITEMS = """SELECT s.subject_id, s.amount_fen, h.household_no, h.head_name_masked, h.head_id_masked,
           v.name AS village_name,
           EXISTS (SELECT 1 FROM objections o WHERE o.county_code = s.county_code
                     AND o.notice_id = s.notice_id AND o.subject_id = s.subject_id
                     AND o.status = 'open') AS objection_open,
           EXISTS (SELECT 1 FROM objections o WHERE o.county_code = s.county_code
                     AND o.notice_id = s.notice_id AND o.subject_id = s.subject_id
                     AND o.status = 'upheld') AS objection_upheld
    FROM notice_subjects s
    JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
    JOIN regions v ON v.code = h.village_code
    WHERE s.county_code = $1 AND s.notice_id = $2 AND h.village_code LIKE $5 || '%' AND {which}"""


async def subject_count(conn: asyncpg.Connection, n: asyncpg.Record, scope: str = "") -> int:
    """How many subjects the notice lists (of `scope`'s households when it is a region prefix)."""
    if not scope:
        count = await conn.fetchval(
            "SELECT count(*) FROM notice_subjects WHERE county_code = $1 AND notice_id = $2", n["county_code"], n["id"]
        )
    else:
        count = await conn.fetchval(
            """SELECT count(*) FROM notice_subjects s
               JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
               WHERE s.county_code = $1 AND s.notice_id = $2 AND h.village_code LIKE $3 || '%'""",
            n["county_code"],
            n["id"],
            scope,
        )
    return int(count)


async def items_page(
    conn: asyncpg.Connection, n: asyncpg.Record, *, after_household_no: str | None, limit: int, scope: str = ""
) -> list[asyncpg.Record]:
    """A notice's subjects by household number, masked, with whether an objection is open on each;
    `scope` (a region prefix) keeps the households of that region."""
    return await conn.fetch(
        _ITEMS.format(which="($3::text IS NULL OR h.household_no > $3) ORDER BY h.household_no LIMIT $4"),
        n["county_code"],
        n["id"],
        after_household_no,
        limit,
        scope,
    )


async def items_of(
    conn: asyncpg.Connection, n: asyncpg.Record, subject_ids: Sequence[str], *, scope: str = ""
) -> list[asyncpg.Record]:
    """The named subjects of a notice (those of `scope`'s households), as items_page gives them."""
    return await conn.fetch(
        _ITEMS.format(which="s.subject_id = ANY($3::text[]) ORDER BY h.household_no LIMIT $4"),
        n["county_code"],
        n["id"],
        list(subject_ids),
        len(subject_ids),
        scope,
    )


async def objections_from_lately(conn: asyncpg.Connection, address: str | None) -> int:
    """Objections filed from one address in the last hour."""
    return await conn.fetchval(
        "SELECT count(*) FROM objections WHERE filed_from = $1 AND created_at > now() - interval '1 hour'",
        address,
    )


async def has_subject(conn: asyncpg.Connection, n: asyncpg.Record, subject_id: str) -> bool:
    found = await conn.fetchval(
        "SELECT true FROM notice_subjects WHERE county_code = $1 AND notice_id = $2 AND subject_id = $3",
        n["county_code"],
        n["id"],
        subject_id,
    )
    return bool(found)


async def insert_objection(
    conn: asyncpg.Connection, n: asyncpg.Record, subject_id: str, reason: str, filed_on: dt.date, address: str | None
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO objections (county_code, notice_id, subject_id, reason, filed_on, filed_from)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        n["county_code"],
        n["id"],
        subject_id,
        reason,
        filed_on,
        address,
    )
    assert row is not None
    return row


async def objections_of(conn: asyncpg.Connection, n: asyncpg.Record) -> list[asyncpg.Record]:
    """Every objection on a notice, oldest first, with the village of the household it names."""
    return await conn.fetch(
        """SELECT o.*, h.village_code FROM objections o
           JOIN notice_subjects s ON s.county_code = o.county_code AND s.notice_id = o.notice_id
                                 AND s.subject_id = o.subject_id
           JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
           WHERE o.county_code = $1 AND o.notice_id = $2 ORDER BY o.created_at""",
        n["county_code"],
        n["id"],
    )


async def objection_for_update(conn: asyncpg.Connection, objection_id: str) -> asyncpg.Record | None:
    """An objection, locked, with its notice's kind and the village of the household it names."""
    key = as_uuid(objection_id)
    county = await county_of(conn, "objections", key) if key else None
    if county is None:
        return None
    return await conn.fetchrow(
        """SELECT o.*, n.kind, h.village_code FROM objections o
           JOIN notices n ON n.county_code = o.county_code AND n.id = o.notice_id
           JOIN notice_subjects s ON s.county_code = o.county_code AND s.notice_id = o.notice_id
                                 AND s.subject_id = o.subject_id
           JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
           WHERE o.county_code = $1 AND o.id = $2 FOR UPDATE OF o""",
        county,
        key,
    )


async def resolve_objection(
    conn: asyncpg.Connection, county_code: str, objection_id: uuid.UUID, status: str, reason: str, by: str
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """UPDATE objections SET status = $3, resolution_reason = $4, resolved_by = $5,
               resolved_at = $6 WHERE county_code = $1 AND id = $2 RETURNING *""",
        county_code,
        objection_id,
        status,
        reason,
        by,
        await clock(conn),
    )
    assert row is not None
    return row


async def open_objections(conn: asyncpg.Connection, notice_id: str | uuid.UUID) -> list[asyncpg.Record]:
    """The objections on a notice still waiting for the township, oldest first."""
    key = as_uuid(notice_id)
    if key is None:
        return []
    return await conn.fetch(
        """SELECT o.* FROM notices n
           JOIN objections o ON o.county_code = n.county_code AND o.notice_id = n.id AND o.status = 'open'
           WHERE n.id = $1 ORDER BY o.created_at""",
        key,
    )


_NOTICES_PAGE = """
SELECT n.county_code, n.id, n.kind, n.source_id, n.title, n.starts_on, n.ends_on, n.published_by,
       (SELECT count(*) FROM notice_subjects s WHERE s.county_code = n.county_code AND s.notice_id = n.id)
           AS subjects,
       (SELECT count(*) FROM objections o WHERE o.county_code = n.county_code AND o.notice_id = n.id
            AND o.status = 'open') AS open_objections
FROM notices n
WHERE ($1::char(12) IS NULL OR n.county_code = $1)
  AND ($2::text IS NULL OR n.kind = $2)
  AND ($3::text IS NULL
       OR ($3 = 'upcoming' AND n.starts_on > $4) OR ($3 = 'open' AND n.starts_on <= $4 AND n.ends_on >= $4)
       OR ($3 = 'ended' AND n.ends_on < $4))
  AND ($5 = '' OR EXISTS (
        SELECT 1 FROM notice_subjects s JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
        WHERE s.county_code = n.county_code AND s.notice_id = n.id AND h.village_code LIKE $5 || '%')
      OR (n.kind = 'distribution' AND EXISTS (
        SELECT 1 FROM distributions d JOIN ventures v ON v.county_code = d.county_code AND v.id = d.venture_id
        WHERE d.county_code = n.county_code AND d.id::text = n.source_id AND v.village_code LIKE $5 || '%')))
  AND ($6::date IS NULL OR (n.starts_on, n.id) < ($6, $7::uuid))
ORDER BY n.starts_on DESC, n.id DESC
LIMIT $8
"""


async def objected_notices(
    conn: asyncpg.Connection, county_code: str | None, scope: str, limit: int
) -> list[asyncpg.Record]:
    """The notices of a county (every county's for None) with objections still open on households
    of `scope` (a region prefix, '' for the whole county), newest first, each with how many: read
    from the open objections (a partial index), not from every running notice."""
    return await conn.fetch(
        """SELECT n.id, n.title, count(*) AS open_objections
           FROM objections o
           JOIN notices n ON n.county_code = o.county_code AND n.id = o.notice_id
           JOIN notice_subjects s ON s.county_code = o.county_code AND s.notice_id = o.notice_id
                                 AND s.subject_id = o.subject_id
           JOIN households h ON h.county_code = s.county_code AND h.id = s.household_id
           WHERE o.status = 'open' AND ($1::char(12) IS NULL OR o.county_code = $1)
             AND h.village_code LIKE $2 || '%'
           GROUP BY n.county_code, n.id, n.title, n.starts_on
           ORDER BY n.starts_on DESC, n.id DESC LIMIT $3""",
        county_code,
        scope,
        limit,
    )


async def notices_page(
    conn: asyncpg.Connection,
    county_code: str | None,
    *,
    kind: str | None,
    state: str | None,
    today: dt.date,
    scope: str,
    after: tuple[dt.date, uuid.UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """A county's notices (every county's for None), newest first, of one kind and state; `scope`
    (a region prefix, '' for the whole county) keeps those naming a household of that region or a
    venture located there."""
    return await conn.fetch(
        _NOTICES_PAGE,
        county_code,
        kind,
        state,
        today,
        scope,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
