"""Regions, households, status events and poverty lines (API.md, Registry)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from litestar import Controller, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from db import registry as q
from schemas.common import Created, Page
from schemas.registry import (
    HouseholdCreate,
    HouseholdOut,
    PovertyLineOut,
    PovertyLinePut,
    RegionOut,
    RegionPut,
    StatusEventCreate,
    StatusEventOut,
)
from service.core.audit import Actor, record
from service.core.auth import allow
from service.core.crypto import ID_CONTEXT, DataCipher
from service.core.errors import bad_input, conflict, field_error, forbidden, invalid_field, not_found
from service.core.hooks import Hooks
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page_of
from service.core.policy import can_register_in, household_or_404
from service.core.principal import Principal, county_of, region_prefix
from service.core.tabular import read_table
from service.core.uploads import UPLOAD
from service.registry.rules import (
    REQUIRED_COLUMNS,
    STATUS_AFTER_EVENT,
    STORED_COLUMNS,
    HouseholdDraft,
    check_row,
    to_record,
)
from service.registry.workflow import household_out

_LEVEL_DEPTH = {"province": 1, "city": 2, "county": 3, "township": 4, "village": 5}
_GROUPS = ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12))

REGISTRARS = allow("village_reviewer", "township_approver")
STAFF_READERS = allow(
    "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor", "accountant", "household"
)


@dataclass
class FileUpload:
    file: UploadFile


def _region_shape_problem(code: str, level: str) -> str | None:
    depth = _LEVEL_DEPTH[level]
    groups = [code[a:b] for a, b in _GROUPS]
    if any(set(g) == {"0"} for g in groups[:depth]) or any(set(g) != {"0"} for g in groups[depth:]):
        return f"区域代码 {code} 与级别 {level} 不符"
    return None


class RegionController(Controller):
    path = "/regions"
    tags = ["registry"]

    @put("/{code:str}", guards=[allow("admin")], operation_id="put_region")
    async def put_region(self, code: str, data: RegionPut, conn: asyncpg.Connection, actor: Actor) -> RegionOut:
        if not (len(code) == 12 and code.isdigit()):
            raise invalid_field("code", "区域代码应为12位数字")
        if problem := _region_shape_problem(code, data.level):
            raise invalid_field("level", problem)
        if data.level != "province" and not data.parent_code:
            raise invalid_field("parent_code", "非省级区域必须指定上级区域")
        county = county_of(code) if data.level in ("county", "township", "village") else None
        async with conn.transaction():
            if data.parent_code:
                parent = await conn.fetchrow("SELECT level FROM regions WHERE code = $1", data.parent_code)
                if parent is None:
                    raise invalid_field("parent_code", f"上级区域 {data.parent_code} 不存在")
                if _LEVEL_DEPTH[parent["level"]] != _LEVEL_DEPTH[data.level] - 1:
                    raise invalid_field("parent_code", "上级区域的级别应比本区域高一级")
            before = await conn.fetchrow("SELECT * FROM regions WHERE code = $1", code)
            row = await conn.fetchrow(
                """INSERT INTO regions (code, name, level, parent_code, county_code)
                   VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,
                       parent_code = EXCLUDED.parent_code, county_code = EXCLUDED.county_code
                   RETURNING *""",
                code,
                data.name,
                data.level,
                data.parent_code,
                county,
            )
            await record(
                conn,
                actor,
                county_code=county or "000000000000",
                action="region.put",
                object_type="region",
                object_id=code,
                before=dict(before) if before else None,
                after=dict(row),
            )
        return RegionOut(row["code"], row["name"], row["level"], row["parent_code"], row["county_code"])

    @get("/{code:str}", guards=[STAFF_READERS], operation_id="get_region")
    async def get_region(self, code: str, conn: asyncpg.Connection) -> RegionOut:
        row = await conn.fetchrow("SELECT * FROM regions WHERE code = $1", code)
        if row is None:
            raise not_found("区域")
        return RegionOut(row["code"], row["name"], row["level"], row["parent_code"], row["county_code"])


async def duplicate_errors(
    conn: asyncpg.Connection, cipher: DataCipher, drafts: list[HouseholdDraft], *, single: bool = False
) -> list[dict]:
    """Household numbers and heads' ID numbers already registered, or repeated within the file."""
    errors: list[dict] = []
    seen_numbers: dict[str, int] = {}
    seen_ids: dict[tuple[str, bytes], int] = {}
    hashes = {d.row: cipher.lookup_hash(d.id_number, context=ID_CONTEXT) for d in drafts}
    taken_numbers = await q.taken_household_numbers(conn, [d.household_no for d in drafts])
    taken_ids = await q.taken_identities(conn, [(d.county_code, hashes[d.row]) for d in drafts])
    split_targets = await q.existing_households(conn, [d.split_from for d in drafts if d.split_from])
    for d in drafts:
        row = None if single else d.row  # a single form has no rows to name
        if d.household_no in taken_numbers:
            errors.append(field_error("household_no", f"户号 {d.household_no} 已登记", row))
        elif d.household_no in seen_numbers:
            errors.append(
                field_error("household_no", f"户号 {d.household_no} 与第 {seen_numbers[d.household_no]} 行重复", row)
            )
        seen_numbers.setdefault(d.household_no, d.row)
        key = (d.county_code, hashes[d.row])
        if key in taken_ids:
            errors.append(field_error("head_id_number", "该身份证号已是本县另一户的户主", row))
        elif key in seen_ids:
            errors.append(field_error("head_id_number", f"身份证号与第 {seen_ids[key]} 行重复", row))
        seen_ids.setdefault(key, d.row)
        if d.split_from and d.split_from not in split_targets:
            errors.append(field_error("split_from", "分户来源户不存在", row))
    return errors


def refuse_rows(errors: list[dict]) -> None:
    if errors:
        errors.sort(key=lambda e: (e.get("row") or 0, e["field"]))
        rows = {e.get("row") for e in errors}
        raise bad_input(f"{len(rows)} 行有误，未登记任何农户" if None not in rows else errors[0]["message"], errors)


async def insert_drafts(
    conn: asyncpg.Connection,
    actor: Actor,
    cipher: DataCipher,
    drafts: list[HouseholdDraft],
    *,
    action: str,
) -> list[uuid.UUID]:
    """COPY all rows, or none, with one audit row per county."""
    records = [to_record(d, cipher) for d in drafts]
    async with conn.transaction():
        try:
            await q.copy_households(conn, STORED_COLUMNS, records)
        except asyncpg.UniqueViolationError:
            raise conflict("duplicate-household", "另一请求同时登记了相同的户号或身份证号，请重试") from None
        by_county: dict[str, list[str]] = {}
        for r in records:
            by_county.setdefault(r[0], []).append(str(r[1]))
        for county, ids in by_county.items():
            await record(
                conn,
                actor,
                county_code=county,
                action=action,
                object_type="household",
                object_id=ids[0] if len(ids) == 1 else f"{len(ids)} rows",
                after=sorted(ids),
                detail={"count": len(ids)},
            )
    return [r[1] for r in records]


class HouseholdController(Controller):
    path = "/households"
    tags = ["registry"]

    @post("/", guards=[REGISTRARS], operation_id="create_household")
    async def create_household(
        self,
        data: HouseholdCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        cipher: DataCipher,
    ) -> HouseholdOut:
        values = {
            k: ("" if v is None else str(v))
            for k, v in ((f, getattr(data, f)) for f in HouseholdCreate.__struct_fields__)
        }
        villages = await q.villages(conn, [data.village_code])
        draft, errors = check_row(1, values, villages)
        for e in errors:
            e.pop("row", None)
        if draft is None:
            raise bad_input("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)
        if not can_register_in(principal, draft.village_code):
            raise forbidden("只能在本辖区登记农户")
        refuse_rows(await duplicate_errors(conn, cipher, [draft], single=True))
        (new_id,) = await insert_drafts(conn, actor, cipher, [draft], action="household.create")
        return household_out(await q.household(conn, str(new_id)))

    @post("/import", guards=[REGISTRARS], operation_id="import_households", opt=UPLOAD)
    async def import_households(
        self,
        data: Annotated[FileUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        cipher: DataCipher,
    ) -> Created:
        table = read_table(await data.file.read(), data.file.filename)
        table.require(REQUIRED_COLUMNS)
        villages = await q.villages(conn, [v.get("village_code", "") for _, v in table.rows])
        drafts: list[HouseholdDraft] = []
        errors: list[dict] = []
        for number, values in table.rows:
            draft, row_errors = check_row(number, values, villages)
            errors += row_errors
            if draft is not None:
                if not can_register_in(principal, draft.village_code):
                    errors.append(field_error("village_code", "不在本人辖区内", number))
                else:
                    drafts.append(draft)
        if not drafts and not errors:
            raise invalid_field("file", "文件中没有数据行")
        # Every bad row is named at once: shape errors and duplicates together.
        refuse_rows(errors + await duplicate_errors(conn, cipher, drafts))
        ids = await insert_drafts(conn, actor, cipher, drafts, action="household.import")
        return Created(created=len(ids))

    @get("/{household_id:str}", guards=[STAFF_READERS], operation_id="get_household")
    async def get_household(self, household_id: str, conn: asyncpg.Connection, principal: Principal) -> HouseholdOut:
        return household_out(await household_or_404(conn, principal, household_id))

    @get(
        "/",
        guards=[allow("village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor")],
        operation_id="list_households",
    )
    async def list_households(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        village_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
        status: Annotated[str | None, Parameter(pattern=r"^(not_registered|poor|exited|xiaokang)$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[HouseholdOut]:
        if village_code and not principal.covers_region(village_code):
            raise forbidden("只能查看本辖区农户")
        scope = "" if principal.is_admin else region_prefix(principal.region_code or "x")
        after = decode_cursor(cursor, 1)
        rows = await conn.fetch(
            f"""SELECT {q.HOUSEHOLD_PUBLIC_COLUMNS} FROM households
                WHERE village_code LIKE $1 || '%' AND ($2::text IS NULL OR village_code = $2)
                  AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR household_no > $4)
                ORDER BY household_no LIMIT $5""",
            scope,
            village_code,
            status,
            after[0] if after else None,
            limit + 1,
        )
        rows, next_cursor = page_of(list(rows), limit, lambda r: [r["household_no"]])
        return Page([household_out(r) for r in rows], next_cursor)

    @post("/{household_id:str}/status-events", guards=[REGISTRARS], operation_id="record_status_event")
    async def record_status_event(
        self,
        household_id: str,
        data: StatusEventCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        hooks: Hooks,
    ) -> StatusEventOut:
        row = await household_or_404(conn, principal, household_id)
        if not can_register_in(principal, row["village_code"]):
            raise forbidden("只能为本辖区农户登记状态")
        if data.effective_date.year != data.year:
            raise invalid_field("effective_date", "生效日期应在所填年度内")
        async with conn.transaction():
            await conn.execute("SELECT 1 FROM households WHERE id = $1 FOR UPDATE", row["id"])
            event_id = await conn.fetchval(
                """INSERT INTO household_status_events (county_code, household_id, kind, year, effective_date, recorded_by)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
                row["county_code"],
                row["id"],
                data.kind,
                data.year,
                data.effective_date,
                actor.name,
            )
            status = await refresh_status(conn, row["county_code"], row["id"])
            await record(
                conn,
                actor,
                county_code=row["county_code"],
                action=f"household.{data.kind}",
                object_type="household",
                object_id=str(row["id"]),
                before={"status": row["status"]},
                after={"status": status},
                detail={"year": data.year, "effective_date": data.effective_date.isoformat()},
            )
            await on_status_event(conn, actor, hooks, row, data.kind, data.effective_date)
        return StatusEventOut(str(event_id), str(row["id"]), data.kind, data.year, data.effective_date, status)


async def refresh_status(conn: asyncpg.Connection, county_code: str, household_id: uuid.UUID) -> str:
    latest = await conn.fetchval(
        """SELECT kind FROM household_status_events WHERE county_code = $1 AND household_id = $2
           ORDER BY effective_date DESC, recorded_at DESC LIMIT 1""",
        county_code,
        household_id,
    )
    status = STATUS_AFTER_EVENT.get(latest, "not_registered")
    await conn.execute(
        "UPDATE households SET status = $3 WHERE county_code = $1 AND id = $2", county_code, household_id, status
    )
    return status


async def on_status_event(
    conn: asyncpg.Connection, actor: Actor, hooks: Hooks, household: asyncpg.Record, kind: str, effective_date: dt.date
) -> None:
    """Status changes that other features react to (poverty shares follow status)."""
    for listener in hooks.status_listeners:
        await listener(conn, actor, household, kind, effective_date)


class PovertyLineController(Controller):
    path = "/poverty-lines"
    tags = ["registry"]

    @put("/{year:int}", guards=[allow("admin")], operation_id="put_poverty_line")
    async def put_line(self, year: int, data: PovertyLinePut, conn: asyncpg.Connection, actor: Actor) -> PovertyLineOut:
        if not 2000 <= year <= 2100:
            raise invalid_field("year", "年度应在2000至2100之间")
        if data.xiaokang_line_fen <= data.poverty_line_fen:
            raise invalid_field("xiaokang_line_fen", "小康标准应高于脱贫标准")
        async with conn.transaction():
            before = await conn.fetchrow(
                "SELECT poverty_line_fen, xiaokang_line_fen FROM poverty_lines WHERE year = $1", year
            )
            await conn.execute(
                """INSERT INTO poverty_lines (year, poverty_line_fen, xiaokang_line_fen) VALUES ($1, $2, $3)
                   ON CONFLICT (year) DO UPDATE SET poverty_line_fen = EXCLUDED.poverty_line_fen,
                       xiaokang_line_fen = EXCLUDED.xiaokang_line_fen, updated_at = now()""",
                year,
                data.poverty_line_fen,
                data.xiaokang_line_fen,
            )
            await record(
                conn,
                actor,
                county_code="000000000000",
                action="poverty_line.put",
                object_type="poverty_line",
                object_id=str(year),
                before=dict(before) if before else None,
                after={"poverty_line_fen": data.poverty_line_fen, "xiaokang_line_fen": data.xiaokang_line_fen},
            )
        return PovertyLineOut(year, data.poverty_line_fen, data.xiaokang_line_fen)

    @get("/{year:int}", guards=[STAFF_READERS], operation_id="get_poverty_line")
    async def get_line(self, year: int, conn: asyncpg.Connection) -> PovertyLineOut:
        row = await conn.fetchrow("SELECT * FROM poverty_lines WHERE year = $1", year)
        if row is None:
            raise not_found(f"{year} 年的标准")
        return PovertyLineOut(year, row["poverty_line_fen"], row["xiaokang_line_fen"])


ROUTES = [RegionController, HouseholdController, PovertyLineController]
