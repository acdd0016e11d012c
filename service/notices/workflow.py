"""Public notices (公示) and objections (异议): the one mechanism awards and distributions share.

A notice lists subjects (an award application, a distribution line), each naming a household,
from a start date to an end date. Anyone may read it and, while it runs, object to a subject; an
open objection holds that subject until the township resolves it. What "hold", "upheld" and
"dismissed" mean for the subject is the owning feature's business: it offers ObjectionHooks per
notice kind (wired in service/app.py), and asks open_objections_for() before it acts.

Every function runs in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec

from db import notices as q
from db.ids import as_uuid
from schemas.awards import NoticeItem, NoticeSummary, ObjectionCreate, ObjectionOut, ObjectionResolve, PublicNotice
from schemas.common import Page
from service.core.audit import Actor, record
from service.core.errors import RateLimited, conflict, forbidden, invalid_field, not_found
from service.core.hooks import Hooks
from service.core.pagination import decode_cursor, page_of
from service.core.principal import Principal, Role, county_of, region_prefix
from service.core.settings import Settings
from service.notices.rules import (
    NOTICE_KINDS,
    NOTICE_TITLES,
    how_to_object,
    notice_period,
    notice_state,
    resolution_status,
    too_many_objections,
)

__all__ = [
    "NOTICE_KINDS",
    "NOTICE_TITLES",
    "Subject",
    "file_objection",
    "list_notices",
    "staff_notice",
    "list_objections",
    "open_notice",
    "open_objections_for",
    "public_notice",
    "resolve_objection",
]

# A subject: (subject_id, household_id) or (subject_id, household_id, amount_fen).
Subject = tuple[Any, ...]


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
    starts_on, ends_on = notice_period(kind, days, len(subjects), today)
    notice_id = uuid.uuid4()
    row = await q.insert_notice(
        conn, county_code, notice_id, kind, str(source_id), title or NOTICE_TITLES[kind], starts_on, ends_on, actor.name
    )
    await q.copy_subjects(
        conn,
        county_code,
        notice_id,
        [(str(s[0]), as_uuid(s[1]), s[2] if len(s) > 2 else None) for s in subjects],
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
    return await q.open_objections(conn, notice_id)


async def _notice(conn: asyncpg.Connection, notice_id: str) -> asyncpg.Record:
    row = await q.notice(conn, notice_id)
    if row is None:
        raise not_found("公示")
    return row


def objection_out(row: asyncpg.Record) -> ObjectionOut:
    return ObjectionOut(
        str(row["id"]),
        str(row["notice_id"]),
        row["subject_id"],
        row["status"],
        row["reason"],
        row["filed_on"],
        row["resolution_reason"],
    )


async def public_notice(
    conn: asyncpg.Connection,
    settings: Settings,
    today: dt.date,
    notice_id: str,
    *,
    limit: int,
    cursor: str | None,
    scope: str = "",
) -> PublicNotice:
    """What anyone may read of a notice: its dates, how to object, and a page of masked subjects
    (those of one region when `scope`, a region prefix, is given: a village's staff page)."""
    n = await _notice(conn, notice_id)
    after = decode_cursor(cursor, str)
    rows = await q.items_page(conn, n, after_household_no=after[0] if after else None, limit=limit + 1, scope=scope)
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["household_no"]])
    count = await q.subject_count(conn, n, scope)
    return _public(n, settings, today, [notice_item(r) for r in page], next_cursor, count)


def notice_item(r: asyncpg.Record) -> NoticeItem:
    return NoticeItem(
        r["subject_id"],
        r["head_name_masked"],
        r["head_id_masked"],
        r["village_name"],
        r["amount_fen"],
        r["objection_open"],
        r["objection_upheld"],
    )


def _public(
    n: asyncpg.Record,
    settings: Settings,
    today: dt.date,
    items: list[NoticeItem],
    next_cursor: str | None,
    subject_count: int,
) -> PublicNotice:
    base = settings.public_base_url.rstrip("/")
    return PublicNotice(
        id=str(n["id"]),
        kind=n["kind"],
        title=n["title"],
        county_name=n["county_name"] or "",
        starts_on=n["starts_on"],
        ends_on=n["ends_on"],
        state=notice_state(n["starts_on"], n["ends_on"], today),
        how_to_object=how_to_object(n["starts_on"], n["ends_on"]),
        objection_url=f"{base}/notices/{n['id']}/objections",
        items=items,
        next_cursor=next_cursor,
        subject_count=subject_count,
    )


def notice_summary(row: asyncpg.Record, today: dt.date) -> NoticeSummary:
    return NoticeSummary(
        str(row["id"]),
        row["county_code"],
        row["kind"],
        row["source_id"],
        row["title"],
        row["starts_on"],
        row["ends_on"],
        row["subjects"],
        state=notice_state(row["starts_on"], row["ends_on"], today),
        open_objections=row["open_objections"],
        published_by=row["published_by"],
    )


NOTICE_READERS = (
    Role.VILLAGE_REVIEWER,
    Role.TOWNSHIP_APPROVER,
    Role.FINANCE_OFFICER,
    Role.FINANCE_APPROVER,
    Role.AUDITOR,
)


class ObjectedNotice(msgspec.Struct, frozen=True):
    """A notice with objections still open on households the reader answers for (异议待处理)."""

    id: str
    title: str
    open_objections: int


# A home lists at most this many objected notices (a county has a handful at a time).
OBJECTED_NOTICES_SHOWN = 50


async def objected_notices(conn: asyncpg.Connection, principal: Principal) -> list[ObjectedNotice]:
    """The notices of the reader's county with objections still open on households of its region,
    each with how many of those (the ones list_objections shows it and it may resolve), newest
    first; none for a role that reads no notices. An objection left open after its notice ended
    still waits for the township, so it is counted too."""
    if principal.role not in NOTICE_READERS or not principal.region_code:
        return []
    rows = await q.objected_notices(
        conn, county_of(principal.region_code), region_prefix(principal.region_code), OBJECTED_NOTICES_SHOWN
    )
    return [ObjectedNotice(str(r["id"]), r["title"], r["open_objections"]) for r in rows]


async def list_notices(
    conn: asyncpg.Connection,
    principal: Principal,
    today: dt.date,
    *,
    county_code: str | None,
    kind: str | None,
    state: str | None,
    limit: int,
    cursor: str | None,
) -> Page[NoticeSummary]:
    """GET /notices: the notices of the caller's county, newest first; a village or township sees
    those naming a household (or a venture) of its region, the county's offices all of them, the
    admin every county's (or the one named)."""
    if principal.is_admin:
        scope = ""  # every county's, or the one asked for
    else:
        if principal.role not in NOTICE_READERS:
            raise forbidden()
        own = county_of(principal.region_code or "")
        if county_code and county_code != own:
            raise not_found("县级区域")
        county_code = own
        regional = principal.role in (Role.VILLAGE_REVIEWER, Role.TOWNSHIP_APPROVER)
        scope = region_prefix(principal.region_code or "x") if regional else ""
    if kind is not None and kind not in NOTICE_KINDS:
        raise invalid_field("kind", "公示类别应为 award 或 distribution")
    if state is not None and state not in ("upcoming", "open", "ended"):
        raise invalid_field("state", "公示状态应为 upcoming、open 或 ended")
    key = decode_cursor(cursor, dt.date, uuid.UUID)
    after = (key[0], key[1]) if key else None
    rows = await q.notices_page(
        conn, county_code, kind=kind, state=state, today=today, scope=scope, after=after, limit=limit + 1
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["starts_on"].isoformat(), str(r["id"])])
    return Page([notice_summary(r, today) for r in page], next_cursor)


async def staff_notice(
    conn: asyncpg.Connection,
    principal: Principal,
    settings: Settings,
    today: dt.date,
    notice_id: str,
    *,
    limit: int,
    cursor: str | None,
) -> PublicNotice:
    """A notice as its county's staff read it in the console: as the public does, with only the
    households of a village's or township's own region listed."""
    _check_staff_reader(principal, await _notice(conn, notice_id))
    return await public_notice(
        conn, settings, today, notice_id, limit=limit, cursor=cursor, scope=_staff_scope(principal)
    )


def _check_staff_reader(principal: Principal, n: asyncpg.Record) -> None:
    """A notice's county's staff who read notices, and the admin; the others are told it is not there."""
    if principal.role not in NOTICE_READERS and not principal.is_admin:
        raise not_found("公示")
    if not principal.covers_county(n["county_code"]):
        raise not_found("公示")


def _staff_scope(principal: Principal) -> str:
    """The households a notice's staff reader sees: a village's or township's own, else the county's."""
    regional = principal.role in (Role.VILLAGE_REVIEWER, Role.TOWNSHIP_APPROVER)
    return region_prefix(principal.region_code or "x") if regional else ""


async def subjects_named(
    conn: asyncpg.Connection, principal: Principal, notice_id: str, subject_ids: Sequence[str]
) -> dict[str, NoticeItem]:
    """The subjects of a notice that its objections name, by subject id, as the staff page lists
    them (those of the reader's region): read by id, not as the notice's first page of subjects,
    which a county-wide list of thousands outruns."""
    n = await _notice(conn, notice_id)
    _check_staff_reader(principal, n)
    wanted = sorted(set(subject_ids))
    if not wanted:
        return {}
    return {r["subject_id"]: notice_item(r) for r in await q.items_of(conn, n, wanted, scope=_staff_scope(principal))}


async def file_objection(
    conn: asyncpg.Connection,
    hooks: Hooks,
    today: dt.date,
    notice_id: str,
    data: ObjectionCreate,
    address: str | None,
) -> ObjectionOut:
    """Anyone objects to one subject of a running notice; the owning feature's hook holds the subject.

    At most OBJECTIONS_PER_ADDRESS_PER_HOUR from one address an hour (RateLimited beyond).
    """
    n = await _notice(conn, notice_id)
    if notice_state(n["starts_on"], n["ends_on"], today) != "open":
        raise conflict("notice-not-open", f"只能在公示期内（{n['starts_on']} 至 {n['ends_on']}）提出异议")
    actor = Actor.of(None, address)
    if too_many_objections(await q.objections_from_lately(conn, actor.address)):
        # Anyone may object, so one address must not be able to hold a whole list by flooding it.
        raise RateLimited(
            "同一网络一小时内提交的异议过多，请稍后再试，或到村委会、乡镇当面反映",
            slug="too-many-objections",
            retry_after_seconds=3600,
        )
    if not await q.has_subject(conn, n, data.subject_id):
        raise invalid_field("subject_id", "公示名单中没有该对象")
    row = await q.insert_objection(conn, n, data.subject_id, data.reason, today, actor.address)
    kind_hooks = hooks.objections.get(n["kind"])
    if kind_hooks:
        await kind_hooks.filed(conn, actor, row)
    await record(
        conn,
        actor,
        county_code=n["county_code"],
        action="objection.file",
        object_type="objection",
        object_id=str(row["id"]),
        after={"notice_id": str(n["id"]), "subject_id": data.subject_id},
        detail={"reason": data.reason},
    )
    return objection_out(row)


async def list_objections(conn: asyncpg.Connection, principal: Principal, notice_id: str) -> list[ObjectionOut]:
    """A notice's objections on the households of the caller's region, oldest first."""
    n = await _notice(conn, notice_id)
    if not principal.covers_county(n["county_code"]):
        raise not_found("公示")
    rows = await q.objections_of(conn, n)
    return [objection_out(r) for r in rows if principal.covers_region(r["village_code"])]


async def resolve_objection(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    hooks: Hooks,
    objection_id: str,
    data: ObjectionResolve,
) -> ObjectionOut:
    """The township upholds or dismisses an open objection, once; the owning feature's hook acts on it."""
    if principal.role not in (Role.ADMIN, Role.TOWNSHIP_APPROVER):
        raise forbidden("异议须由乡镇审批人核实处理")
    row = await q.objection_for_update(conn, objection_id)
    if not row or not principal.covers_region(row["village_code"]):
        raise not_found("异议")
    if row["status"] != "open":
        raise conflict("objection-resolved", "该异议已处理")
    status = resolution_status(data.upheld)
    updated = await q.resolve_objection(conn, row["county_code"], row["id"], status, data.reason, actor.name)
    kind_hooks = hooks.objections.get(row["kind"])
    if kind_hooks:
        await kind_hooks.resolved(conn, actor, updated, data.upheld, data.reason)
    await record(
        conn,
        actor,
        county_code=row["county_code"],
        action=f"objection.{status}",
        object_type="objection",
        object_id=str(row["id"]),
        before={"status": "open"},
        after={"status": status},
        detail={"reason": data.reason},
    )
    return objection_out(updated)
