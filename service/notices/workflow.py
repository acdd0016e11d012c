"""Public notices (公示) and objections (异议): the one mechanism awards and distributions share.

A notice lists subjects (an award application, a distribution line), each naming a household,
from a start date to an end date. Anyone may read it and, while it runs, object to a subject; an
open objection holds that subject until the township resolves it. What "hold", "upheld" and
"dismissed" mean for the subject is the owning feature's business: it offers ObjectionHooks per
notice kind (wired in service/app.py), and asks open_objections_for() before it acts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import asyncpg

from db.ids import as_uuid
from service.core.audit import Actor, record

NOTICE_KINDS = ("award", "distribution")
NOTICE_TITLES = {"award": "奖励名单公示", "distribution": "收益分配方案公示"}

# A subject: (subject_id, household_id) or (subject_id, household_id, amount_fen).
Subject = tuple


async def open_notice(
    conn: asyncpg.Connection,
    actor: Actor,
    county_code: str,
    kind: str,
    source_id: str,
    subjects: Sequence[Subject],
    days: int,
    today: dt.date,
    *,
    title: str | None = None,
) -> asyncpg.Record:
    """Publish a notice from today to today + days, in the caller's transaction; returns its row."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    if days < 1:
        raise ValueError("a notice runs at least one day")
    if not subjects:
        raise ValueError("a notice needs at least one subject")
    notice_id = uuid.uuid4()
    row = await conn.fetchrow(
        """INSERT INTO notices (county_code, id, kind, source_id, title, starts_on, ends_on, published_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *""",
        county_code,
        notice_id,
        kind,
        str(source_id),
        title or NOTICE_TITLES[kind],
        today,
        today + dt.timedelta(days=days),
        actor.name,
    )
    await conn.copy_records_to_table(
        "notice_subjects",
        records=[(county_code, notice_id, str(s[0]), as_uuid(s[1]), s[2] if len(s) > 2 else None) for s in subjects],
        columns=["county_code", "notice_id", "subject_id", "household_id", "amount_fen"],
    )
    await record(
        conn,
        actor,
        county_code=county_code,
        action="notice.publish",
        object_type="notice",
        object_id=str(notice_id),
        after=sorted(str(s[0]) for s in subjects),
        detail={
            "kind": kind,
            "source_id": str(source_id),
            "subjects": len(subjects),
            "starts_on": today.isoformat(),
            "ends_on": row["ends_on"].isoformat(),
        },
    )
    return row


async def open_objections_for(conn: asyncpg.Connection, notice_id: str | uuid.UUID) -> list[asyncpg.Record]:
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
