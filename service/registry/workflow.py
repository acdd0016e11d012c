"""Use cases of the household registry (建档立卡户档案): regions, households, status events, poverty lines.

Each runs in the caller's transaction (the routes open one around a write) and opens none itself.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg

from db import registry as q
from db.ids import as_uuid
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
from service.core import identity
from service.core.audit import GLOBAL_COUNTY, Actor, record
from service.core.crypto import CARD_CONTEXT, ID_CONTEXT, PHONE_CONTEXT, DataCipher
from service.core.errors import (
    FieldErrors,
    bad_input,
    conflict,
    forbidden,
    invalid_field,
    not_found,
    refuse_rows,
)
from service.core.hooks import Hooks
from service.core.imported import record_import
from service.core.pagination import checked_limit, decode_cursor, page_of
from service.core.policy import can_register_in, household_or_404
from service.core.principal import Principal, county_of, region_prefix
from service.core.tabular import Table, read_sheet
from service.registry import rules
from service.registry.rules import HouseholdDraft, StatusEvent, check_row
from service.registry.sheets import HOUSEHOLD_SHEET

# The stored row of a household, in the order to_record() builds it (the COPY's columns).
STORED_COLUMNS = [
    "county_code",
    "id",
    "household_no",
    "village_code",
    "head_name",
    "head_name_masked",
    "head_id_enc",
    "head_id_hash",
    "head_id_masked",
    "members",
    "bank_name",
    "bank_account_enc",
    "bank_account_hash",
    "bank_account_masked",
    "phone_enc",
    "phone_masked",
    "pin_hash",
    "split_from",
]


NOTHING_REGISTERED = "未登记任何农户"  # a refused file's detail: "3 行有误，未登记任何农户"


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


def region_out(row: asyncpg.Record) -> RegionOut:
    return RegionOut(row["code"], row["name"], row["level"], row["parent_code"], row["county_code"])


# ---- regions ------------------------------------------------------------------------------------


async def put_region(conn: asyncpg.Connection, actor: Actor, code: str, data: RegionPut) -> RegionOut:
    """Create or rename a region (admin): its code fits its level, its parent is one level up."""
    rules.check_region(code, data.level, data.parent_code)
    county = rules.region_county(code, data.level)
    if data.parent_code:
        rules.check_parent(data.parent_code, await q.region_level(conn, data.parent_code), data.level)
    before = await q.region(conn, code)
    row = await q.put_region(conn, code, data.name, data.level, data.parent_code, county)
    await record(
        conn,
        actor,
        county_code=county or GLOBAL_COUNTY,
        action="region.put",
        object_type="region",
        object_id=code,
        before=dict(before) if before else None,
        after=dict(row),
    )
    return region_out(row)


async def region_names(conn: asyncpg.Connection, codes: Iterable[str]) -> dict[str, str]:
    """The name of each region (its code where the registry has none), in one query for a page's
    villages rather than one a village."""
    wanted = sorted(set(codes))
    named = await q.region_names(conn, wanted)
    return {code: named.get(code, code) for code in wanted}


async def get_region(conn: asyncpg.Connection, code: str) -> RegionOut:
    row = await q.region(conn, code)
    if row is None:
        raise not_found("区域")
    return region_out(row)


# ---- registering households ---------------------------------------------------------------------


def to_record(draft: HouseholdDraft, cipher: DataCipher) -> tuple[Any, ...]:
    """The stored row, in STORED_COLUMNS order: numbers encrypted, hashed and masked."""
    return (
        draft.county_code,
        uuid.uuid4(),
        draft.household_no,
        draft.village_code,
        draft.head_name,
        identity.mask_name(draft.head_name),
        cipher.encrypt(draft.id_number, context=ID_CONTEXT),
        cipher.lookup_hash(draft.id_number, context=ID_CONTEXT),
        identity.mask_id_number(draft.id_number),
        draft.members,
        draft.bank_name,
        cipher.encrypt(draft.card_number, context=CARD_CONTEXT),
        cipher.lookup_hash(draft.card_number, context=CARD_CONTEXT),
        identity.mask_card_number(draft.card_number),
        cipher.encrypt(draft.phone, context=PHONE_CONTEXT) if draft.phone else None,
        identity.mask_phone(draft.phone) if draft.phone else None,
        cipher.pin_hash(draft.household_no, draft.pin) if draft.pin else None,
        draft.split_from,
    )


async def duplicate_errors(
    conn: asyncpg.Connection, cipher: DataCipher, drafts: list[HouseholdDraft], *, single: bool = False
) -> FieldErrors:
    """Household numbers and heads' ID numbers already registered, or repeated within the file."""
    hashes = {d.row: cipher.lookup_hash(d.id_number, context=ID_CONTEXT) for d in drafts}
    return rules.duplicate_errors(
        drafts,
        hashes,
        taken_numbers=await q.taken_household_numbers(conn, [d.household_no for d in drafts]),
        taken_ids=await q.taken_identities(conn, [(d.county_code, hashes[d.row]) for d in drafts]),
        split_targets=await q.existing_households(conn, [d.split_from for d in drafts if d.split_from]),
        single=single,
    )


async def insert_drafts(
    conn: asyncpg.Connection, actor: Actor, cipher: DataCipher, drafts: list[HouseholdDraft], *, action: str
) -> list[uuid.UUID]:
    """COPY all rows, or none, with one audit row per county."""
    records = [to_record(d, cipher) for d in drafts]
    try:
        # No savepoint: the rows and their audit rows belong to the caller's one transaction, which
        # a clash with a concurrent registration aborts (the caller rolls back on the Conflict).
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


async def create_household(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, cipher: DataCipher, data: HouseholdCreate
) -> HouseholdOut:
    """Register one household from the form: every bad field named, nothing written unless all are good."""
    values = {
        k: ("" if v is None else str(v)) for k, v in ((f, getattr(data, f)) for f in HouseholdCreate.__struct_fields__)
    }
    draft, errors = check_row(1, values, await q.villages(conn, [data.village_code]))
    for e in errors:
        e.pop("row", None)  # a form has no rows to name
    if draft is None:
        raise bad_input("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)
    if not can_register_in(principal, draft.village_code):
        raise forbidden("只能在本辖区登记农户")
    refuse_rows(await duplicate_errors(conn, cipher, [draft], single=True), NOTHING_REGISTERED)
    (new_id,) = await insert_drafts(conn, actor, cipher, [draft], action="household.create")
    row = await q.household(conn, str(new_id))
    assert row is not None  # just written in this transaction
    return household_out(row)


async def import_households(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    cipher: DataCipher,
    *,
    content: bytes,
    filename: str | None,
    new_batch: bool = False,
) -> Created:
    """Register the households of a CSV or xlsx file: all rows or none, every bad row named at once.

    A file naming a village outside the caller's region is refused whole (403) before any row is
    checked; the same rows imported before are refused (409) unless the clerk says new_batch."""
    table = await read_sheet(content, filename, HOUSEHOLD_SHEET)
    villages = await q.villages(conn, [v["village_code"] for _, v in table.rows])
    _refuse_outside_scope(principal, table, villages)
    if villages:
        county = min(villages.values())
        await record_import(conn, actor, table, county, county, filename, new_batch)
    drafts: list[HouseholdDraft] = []
    with table.checking(NOTHING_REGISTERED):
        errors: FieldErrors = []
        for number, values in table.rows:
            draft, row_errors = check_row(number, values, villages)
            errors += row_errors
            if draft is not None:
                drafts.append(draft)
        if not drafts and not errors and not table.errors:
            raise invalid_field("file", "文件中没有数据行")
        # Every bad row is named at once: shape errors and duplicates together.
        refuse_rows(errors + await duplicate_errors(conn, cipher, drafts), NOTHING_REGISTERED)
    ids = await insert_drafts(conn, actor, cipher, drafts, action="household.import")
    return Created(created=len(ids))


def _refuse_outside_scope(principal: Principal, table: Table, villages: dict[str, str]) -> None:
    """403 for a file naming any village (that exists) outside the caller's region: such a file is
    not the caller's to register, whatever else is wrong with it."""
    outside = sorted({code for code in villages if not can_register_in(principal, code)})
    if outside:
        rows = [n for n, v in table.rows if v["village_code"] in outside]
        shown = "、".join(outside[:5]) + ("等" if len(outside) > 5 else "")
        raise forbidden(f"文件中有 {len(rows)} 行的村（{shown}）不在本人辖区内，未登记任何农户")


# ---- reading households -------------------------------------------------------------------------


async def get_household(conn: asyncpg.Connection, principal: Principal, household_id: str) -> HouseholdOut:
    return household_out(await household_or_404(conn, principal, household_id))


async def list_households(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    village_code: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
    find: str | None = None,
) -> Page[HouseholdOut]:
    """The households of the caller's region (all of them for the admin), by household number;
    `find` is a household number's beginning or the head's full name."""
    if village_code and not principal.covers_region(village_code):
        raise forbidden("只能查看本辖区农户")
    scope = "" if principal.is_admin else region_prefix(principal.region_code or "x")
    after = decode_cursor(cursor, str)
    after_no, found = (after[0] if after else None), (find or "").strip() or None
    if village_code:  # the village's own query: its index bounds the read (db/registry.py)
        rows = await q.village_households_page(
            conn, scope=scope, village_code=village_code, status=status, after_no=after_no, limit=limit + 1, find=found
        )
    else:
        county = None if principal.is_admin else county_of(principal.region_code or "x")
        rows = await q.households_page(
            conn,
            county_code=county,
            scope=scope,
            village_code=village_code,
            status=status,
            after_no=after_no,
            limit=limit + 1,
            find=found,
        )
    rows, next_cursor = page_of(rows, limit, lambda r: [r["household_no"]])
    return Page([household_out(r) for r in rows], next_cursor)


@dataclass(frozen=True)
class HouseholdLabel:
    """How a page names a household it lists: its number and its head's masked name."""

    household_no: str
    head_name: str
    village_code: str


async def household_labels(
    conn: asyncpg.Connection, principal: Principal, household_ids: Iterable[str]
) -> dict[str, HouseholdLabel]:
    """The labels of the households named that lie in the caller's region (others are left out)."""
    keys = {key for key in (as_uuid(i) for i in household_ids) if key is not None}
    rows = await q.household_labels(conn, sorted(keys))
    return {
        str(key): HouseholdLabel(r["household_no"], r["head_name_masked"], r["village_code"])
        for key, r in rows.items()
        if principal.is_admin or principal.covers_region(r["village_code"])
    }


@dataclass(frozen=True)
class StatusEventRecord:
    kind: str
    year: int
    effective_date: dt.date
    recorded_by: str
    recorded_at: dt.datetime


async def household_history(
    conn: asyncpg.Connection, principal: Principal, household_id: str
) -> list[StatusEventRecord]:
    """A household's status events (建档立卡, 脱贫, 返贫, 小康) with who recorded each and when."""
    row = await household_or_404(conn, principal, household_id)
    return [
        StatusEventRecord(e["kind"], e["year"], e["effective_date"], e["recorded_by"], e["recorded_at"])
        for e in await q.status_event_history(conn, row["county_code"], row["id"])
    ]


# ---- status events ------------------------------------------------------------------------------


async def record_status_event(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    hooks: Hooks,
    household_id: str,
    data: StatusEventCreate,
) -> StatusEventOut:
    """Record that a household was registered poor, exited, returned or reached 小康; its status
    follows from all its events, and the features listening to status changes react."""
    row = await household_or_404(conn, principal, household_id)
    if not can_register_in(principal, row["village_code"]):
        raise forbidden("只能为本辖区农户登记状态")
    rules.check_status_event(data.year, data.effective_date)
    await q.lock_household(conn, row["county_code"], row["id"])
    event_id = await q.insert_status_event(
        conn,
        county_code=row["county_code"],
        household_id=row["id"],
        kind=data.kind,
        year=data.year,
        effective_date=data.effective_date,
        recorded_by=actor.name,
    )
    events = await q.status_events(conn, row["county_code"], row["id"])
    status = rules.derived_status(StatusEvent(e["kind"], e["effective_date"], e["recorded_at"]) for e in events)
    await q.set_status(conn, row["county_code"], row["id"], status)
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
    # Status changes that other features react to (poverty shares follow status).
    for listener in hooks.status_listeners:
        await listener(conn, actor, row, data.kind, data.effective_date)
    return StatusEventOut(str(event_id), str(row["id"]), data.kind, data.year, data.effective_date, status)


# ---- poverty lines ------------------------------------------------------------------------------


async def put_poverty_line(conn: asyncpg.Connection, actor: Actor, year: int, data: PovertyLinePut) -> PovertyLineOut:
    """Set a year's poverty (脱贫) and 小康 lines, per person per year (admin)."""
    rules.check_poverty_line(year, data.poverty_line_fen, data.xiaokang_line_fen)
    before = await q.poverty_line(conn, year)
    await q.put_poverty_line(conn, year, data.poverty_line_fen, data.xiaokang_line_fen)
    await record(
        conn,
        actor,
        county_code=GLOBAL_COUNTY,
        action="poverty_line.put",
        object_type="poverty_line",
        object_id=str(year),
        before=dict(before) if before else None,
        after={"poverty_line_fen": data.poverty_line_fen, "xiaokang_line_fen": data.xiaokang_line_fen},
    )
    return PovertyLineOut(year, data.poverty_line_fen, data.xiaokang_line_fen)


async def get_poverty_line(conn: asyncpg.Connection, year: int) -> PovertyLineOut:
    row = await q.poverty_line(conn, year)
    if row is None:
        raise not_found(f"{year} 年的标准")
    return PovertyLineOut(year, row["poverty_line_fen"], row["xiaokang_line_fen"])


# A county has a few hundred villages; the admin's choice is cut at this many.
VILLAGE_CHOICES = 2000


async def villages_within(conn: asyncpg.Connection, principal: Principal) -> list[RegionOut]:
    """The villages of the reader's region by code (every village for the admin, none for a user
    without a region), for a page that offers a choice of village. Read under the region: the
    first 500 villages of the whole registry, filtered afterwards, left a county's own villages
    out once a province's registry sorts other counties first."""
    if principal.is_admin:
        prefix = ""
    elif principal.region_code:
        prefix = region_prefix(principal.region_code)
    else:
        return []
    return [region_out(r) for r in await q.villages_under(conn, prefix, VILLAGE_CHOICES)]


async def regions_below(conn: asyncpg.Connection, code: str) -> list[RegionOut]:
    """A region and the townships and villages under it (a county's a few hundred), county first,
    in one read rather than one a township."""
    return [region_out(r) for r in await q.regions_below(conn, region_prefix(code), VILLAGE_CHOICES)]


async def list_regions(
    conn: asyncpg.Connection,
    *,
    parent_code: str | None = None,
    level: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[RegionOut]:
    """Regions under a parent (the provinces when none is named), or every region of a level, by
    code. Region names and codes are the public statistical division, readable by every user."""
    checked_limit(limit)
    if level is not None and level not in ("province", "city", "county", "township", "village"):
        raise invalid_field("level", "级别应为 province、city、county、township 或 village")
    after = decode_cursor(cursor, str)
    rows = await q.regions_page(
        conn, parent_code=parent_code, level=level, after=after[0] if after else None, limit=limit + 1
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["code"]])
    return Page([region_out(r) for r in page], next_cursor)
