"""Award programmes: the exit award (脱贫奖) and the 小康 award.

A county finance office opens a programme (amount per household, budget shared by province, city
and county); households apply, or a village clerk applies for them; eligibility is computed from
the registry and shown check by check; the village then the township review; the approved list is
published (公示) and may be objected to; after the notice the finance office grants within the
budget — a hard cap even under concurrent grants — posting the expense by level, a payable to the
household and a numbered certificate.

The stage functions (submit_applications, record_reviews, publish_notice, grant_program) take
already-authorised inputs and work on any number of applications, so the HTTP handlers and the
county-scale benchmark run the same code.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from db import awards as q
from db import ledger
from schemas.awards import (
    ApplicationCreate,
    ApplicationOut,
    CheckOut,
    CrossCheckImportOut,
    DecisionCreate,
    GrantedAward,
    GrantOut,
    GrantRequest,
    LevelFigures,
    NoticeOut,
    ObjectionBrief,
    ProgramCreate,
    ProgramOut,
    PublishOut,
    ReviewCreate,
    ReviewOut,
    VerifyOut,
)
from schemas.common import Page
from service.awards.rules import EligibilityFacts, check_eligibility
from service.core.allocation import allocate
from service.core.audit import Actor, record
from service.core.auth import allow
from service.core.clock import Clock
from service.core.crypto import ID_CONTEXT, DataCipher
from service.core.errors import bad_input, conflict, field_error, forbidden, invalid_field, not_found
from service.core.hooks import ObjectionHooks
from service.core.idempotency import run_idempotent
from service.core.identity import id_number_problem, normalize_id_number
from service.core.money import format_yuan
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page_of
from service.core.policy import application_for, household_or_404, program_for
from service.core.principal import Principal, county_of, region_prefix
from service.core.settings import Settings
from service.core.tabular import read_table
from service.core.uploads import UPLOAD
from service.documents.pdf import CERTIFICATE_TITLES, CertificateData, award_certificate_pdf
from service.ledger import chart
from service.ledger.rules import AccountSpec, Line, NewPayable
from service.notices.workflow import open_notice, open_objections_for

FINANCE = allow("finance_officer")
APPLICANTS = allow("village_reviewer", "household")
REVIEWERS = allow("village_reviewer", "township_approver")
STAFF = ("village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor")
READERS = allow(*STAFF)
CERTIFICATE_READERS = allow(*STAFF, "household")
PUBLIC = {"exclude_from_auth": True}

LEVELS = ("province", "city", "county")
KIND_WORDS = {"exit": "脱贫奖", "xiaokang": "小康奖"}
SERIAL_PREFIX = {"exit": "TP", "xiaokang": "XK"}
LEVEL_WORDS = {"village": "村级", "township": "乡镇"}
SOURCE_ALIASES = {
    "vehicle": "vehicle",
    "business": "business_registration",
    "business_registration": "business_registration",
    "payroll": "public_payroll",
    "public_payroll": "public_payroll",
}
# An application moves on only from the status its stage expects.
REVIEW_FROM = {"village": "pending_village", "township": "pending_township"}
REVIEW_TO = {"village": "pending_township", "township": "approved"}


# ---- audit of many rows at once -------------------------------------------------------------

AUDIT_BATCH = 1_000


async def audit_each(
    conn: asyncpg.Connection,
    actor: Actor,
    county_code: str,
    action: str,
    object_type: str,
    changes: Sequence[tuple[str, Any]],
    detail: dict | None = None,
) -> None:
    """Audit a change to many objects: one row for one object, else one row per 1,000 naming each id.

    The county's audit head row is updated once per audit row, and a row updated thousands of
    times in one transaction grows slower with each update; batching keeps a county-wide grant
    linear while every changed object is still named in the log.
    """
    if len(changes) == 1:
        object_id, after = changes[0]
        await record(
            conn,
            actor,
            county_code=county_code,
            action=action,
            object_type=object_type,
            object_id=object_id,
            after=after,
            detail=detail,
        )
        return
    for start in range(0, len(changes), AUDIT_BATCH):
        batch = changes[start : start + AUDIT_BATCH]
        await record(
            conn,
            actor,
            county_code=county_code,
            action=action,
            object_type=object_type,
            object_id=f"{len(batch)} rows",
            after=[list(c) for c in batch],
            detail={**(detail or {}), "count": len(batch), "ids": [c[0] for c in batch]},
        )


# ---- programmes -------------------------------------------------------------------------------


def level_split(p: asyncpg.Record, amount_fen: int) -> dict[str, int]:
    """An amount split over the cost shares by largest remainder (parts sum to the amount)."""
    return allocate(amount_fen, [(level, p[f"{level}_bp"]) for level in LEVELS])


async def program_out(conn: asyncpg.Connection, p: asyncpg.Record) -> ProgramOut:
    budget = level_split(p, p["budget_fen"])
    committed = await q.committed_by_level(conn, p)
    return ProgramOut(
        id=str(p["id"]),
        county_code=p["county_code"],
        kind=p["kind"],
        year=p["year"],
        name=p["name"],
        amount_fen=p["amount_fen"],
        budget_fen=p["budget_fen"],
        committed_fen=p["committed_fen"],
        remaining_fen=p["budget_fen"] - p["committed_fen"],
        cost_shares={f"{level}_bp": p[f"{level}_bp"] for level in LEVELS},
        by_level={level: LevelFigures(p[f"{level}_bp"], budget[level], committed[level]) for level in LEVELS},
        notice_days=p["notice_days"],
        opens_on=p["opens_on"],
        closes_on=p["closes_on"],
        counts=await q.program_counts(conn, p),
    )


# ---- applications -----------------------------------------------------------------------------


def application_out(
    row: asyncpg.Record, reviews: Sequence[asyncpg.Record] = (), objections: Sequence[asyncpg.Record] = ()
) -> ApplicationOut:
    return ApplicationOut(
        id=str(row["id"]),
        program_id=str(row["program_id"]),
        household_id=str(row["household_id"]),
        household_name=row["head_name_masked"],
        village_code=row["village_code"],
        declared_income_fen=row["declared_income_fen"],
        status=row["status"],
        status_reason=row["status_reason"],
        outcome=row["outcome"],
        checks=msgspec.convert(row["checks"], list[CheckOut]),
        reviews=[ReviewOut(r["level"], r["decision"], r["reason"], r["reviewer"], r["created_at"]) for r in reviews],
        objections=[
            ObjectionBrief(str(o["id"]), o["status"], o["reason"], o["filed_on"], o["resolution_reason"])
            for o in objections
        ],
        notice_id=str(row["notice_id"]) if row["notice_id"] else None,
        certificate_serial=row["serial"],
        created_at=row["created_at"],
    )


async def application_detail(conn: asyncpg.Connection, application_id: uuid.UUID) -> ApplicationOut:
    row = await q.application(conn, application_id)
    return application_out(
        row,
        await q.reviews(conn, row["county_code"], row["id"]),
        await q.objections(conn, row["county_code"], row["id"]),
    )


def _status_for(outcome: str, failed: list) -> tuple[str, str]:
    if outcome == "eligible":
        return "pending_village", ""
    if outcome == "ineligible":
        return "rejected", "未通过资格审查：" + "；".join(c.detail for c in failed if c.effect == "reject")
    return "held", "须乡镇书面核实决定：" + "；".join(c.detail for c in failed)


async def submit_applications(
    conn: asyncpg.Connection, actor: Actor, p: asyncpg.Record, items: Sequence[tuple[uuid.UUID, int]]
) -> list[uuid.UUID]:
    """Check and record applications (household id, declared per-capita income); returns their ids.

    Facts come from the database, never from the applicant: status events, the year's line,
    earlier exit awards in the split family, cross-check list hits and whether it split after
    registration. Households must already be known to be in the programme's county.
    """
    lines = await q.lines_for(conn, p["year"])
    if lines is None:
        raise conflict("no-poverty-line", f"{p['year']} 年的脱贫标准和小康标准尚未设置")
    ids = [h for h, _ in items]
    if len(set(ids)) != len(ids):
        raise invalid_field("household_id", "同一农户重复申请")
    if await q.live_applications(conn, p, ids):
        raise conflict("already-applied", "该农户在本项目中已有申请")
    households = await q.households(conn, ids)
    events = await q.status_events(conn, ids)
    earlier = await q.earlier_exit_awards(conn, p["county_code"], ids) if p["kind"] == "exit" else {}
    hits = await q.cross_check_hits(conn, p["county_code"], ids)
    split = await q.split_after_registration(conn, ids) if p["kind"] == "exit" else set()
    records, changes = [], []
    for household_id, income in items:
        result = check_eligibility(
            EligibilityFacts(
                kind=p["kind"],
                year=p["year"],
                status_events=tuple(events.get(household_id, ())),
                declared_income_fen=income,
                poverty_line_fen=lines["poverty_line_fen"],
                xiaokang_line_fen=lines["xiaokang_line_fen"],
                earlier_exit_awards=tuple(earlier.get(household_id, ())),
                cross_check_hits=tuple(hits.get(household_id, ())),
                split_after_registration=household_id in split,
            )
        )
        status, reason = _status_for(result.outcome, list(result.failed))
        checks = [{"name": c.name, "passed": c.passed, "detail": c.detail, "effect": c.effect} for c in result.checks]
        app_id = uuid.uuid4()
        records.append(
            (
                p["county_code"],
                app_id,
                p["id"],
                household_id,
                households[household_id]["village_code"],
                income,
                result.outcome,
                checks,
                status,
                reason,
                actor.name,
            )
        )
        changes.append(
            (str(app_id), {"household_id": str(household_id), "declared_income_fen": income, "status": status})
        )
    try:
        async with conn.transaction():
            await q.insert_applications(conn, records)
    except asyncpg.UniqueViolationError:
        raise conflict("already-applied", "该农户在本项目中已有申请") from None
    await audit_each(
        conn,
        actor,
        p["county_code"],
        "award_application.submit",
        "award_application",
        changes,
        {"program_id": str(p["id"])},
    )
    return [r[1] for r in records]


async def change_status(
    conn: asyncpg.Connection,
    actor: Actor,
    county_code: str,
    ids: Sequence[uuid.UUID],
    status: str,
    reason: str = "",
    *,
    from_statuses: Sequence[str],
    **kw,
) -> list[uuid.UUID]:
    moved = await q.set_status(conn, county_code, ids, status, reason, from_statuses=from_statuses, **kw)
    await audit_each(
        conn,
        actor,
        county_code,
        f"award_application.{status}",
        "award_application",
        [(str(i), {"status": status, "reason": reason}) for i in moved],
    )
    return moved


async def record_reviews(
    conn: asyncpg.Connection,
    actor: Actor,
    county_code: str,
    ids: Sequence[uuid.UUID],
    level: str,
    decision: str,
    reason: str,
) -> list[uuid.UUID]:
    """Village or township review of applications waiting at that level; returns those reviewed."""
    target = "rejected" if decision == "reject" else REVIEW_TO[level]
    note = f"{LEVEL_WORDS[level]}审核不通过：{reason}" if decision == "reject" else ""
    moved = await change_status(conn, actor, county_code, ids, target, note, from_statuses=[REVIEW_FROM[level]])
    await q.insert_reviews(conn, county_code, moved, level, decision, reason, actor.name)
    return moved


async def publish_notice(
    conn: asyncpg.Connection, actor: Actor, p: asyncpg.Record, scope: str, today: dt.date, county_name: str
) -> tuple[asyncpg.Record | None, int]:
    """公示 of every township-approved application in scope (a region prefix; '' for the county)."""
    rows = await conn.fetch(
        """SELECT id, household_id FROM award_applications
           WHERE county_code = $1 AND program_id = $2 AND status = 'approved' AND village_code LIKE $3 || '%'
           ORDER BY seq FOR UPDATE""",
        p["county_code"],
        p["id"],
        scope,
    )
    if not rows:
        return None, 0
    title = f"{county_name}{p['year']}年度{KIND_WORDS[p['kind']]}拟奖励名单公示"
    notice = await open_notice(
        conn,
        actor,
        p["county_code"],
        "award",
        str(p["id"]),
        [(r["id"], r["household_id"], p["amount_fen"]) for r in rows],
        p["notice_days"],
        today,
        title=title,
    )
    moved = await change_status(
        conn,
        actor,
        p["county_code"],
        [r["id"] for r in rows],
        "in_notice",
        f"公示至 {notice['ends_on'].isoformat()}",
        from_statuses=["approved"],
        notice_id=notice["id"],
    )
    return notice, len(moved)


def serial_for(p: asyncpg.Record, number: int) -> str:
    return f"{SERIAL_PREFIX[p['kind']]}-{p['county_code'][:6]}-{p['year']}-{number:06d}"


def county_of_serial(serial: str) -> str | None:
    parts = serial.split("-")
    if len(parts) != 4 or parts[0] not in SERIAL_PREFIX.values() or not (len(parts[1]) == 6 and parts[1].isdigit()):
        return None
    return parts[1] + "000000"


def _related_in_run(
    household: asyncpg.Record, granted: set[uuid.UUID], children: dict[uuid.UUID, set[uuid.UUID]]
) -> bool:
    """Whether a household granted earlier in this run is the one it split from, or split from it."""
    return household["split_from"] in granted or not granted.isdisjoint(children.get(household["id"], ()))


async def grant_program(
    conn: asyncpg.Connection,
    actor: Actor,
    program_id: uuid.UUID,
    today: dt.date,
    only: Sequence[uuid.UUID] | None = None,
) -> GrantOut:
    """Grant every application whose notice ended with no open objection, within the budget.

    The programme row is locked for the whole transaction, so two offices granting at once are
    served one after the other and the second sees what the first committed; the budget CHECK on
    the row is the last line of defence. Exit grants also take a county-wide lock, because the
    one-award-per-split-family rule spans programmes.
    """
    p = await q.program(conn, program_id, for_update=True)
    county = p["county_code"]
    if p["kind"] == "exit":
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"award-exit:{county}")
    candidates = await q.grant_candidates(conn, p, today, only)
    households = await q.households(conn, [c["household_id"] for c in candidates])

    since = {c["household_id"]: c["checked_at"] for c in candidates}
    hits = await q.cross_check_hits(conn, county, list(since), since=since)
    held = [c["id"] for c in candidates if c["household_id"] in hits]
    if held:
        held = await change_status(
            conn,
            actor,
            county,
            held,
            "held",
            "发放前比对发现新记录，须乡镇书面核实决定",
            from_statuses=["in_notice", "over_budget"],
        )
    candidates = [c for c in candidates if c["household_id"] not in hits]

    rejected: list[uuid.UUID] = []
    if p["kind"] == "exit" and candidates:
        earlier = await q.earlier_exit_awards(conn, county, [c["household_id"] for c in candidates])
        children: dict[uuid.UUID, set[uuid.UUID]] = {}
        for h, r in households.items():
            if r["split_from"]:
                children.setdefault(r["split_from"], set()).add(h)
        granted_households: set[uuid.UUID] = set()
        keep = []
        for c in candidates:
            if earlier.get(c["household_id"]) or _related_in_run(
                households[c["household_id"]], granted_households, children
            ):
                rejected.append(c["id"])
            else:
                keep.append(c)
                granted_households.add(c["household_id"])
        candidates = keep
        if rejected:
            rejected = await change_status(
                conn,
                actor,
                county,
                rejected,
                "rejected",
                "脱贫奖每户只发一次：本户或分户关联户已领取",
                from_statuses=["in_notice", "over_budget"],
            )

    remaining = p["budget_fen"] - p["committed_fen"]
    fits = min(len(candidates), remaining // p["amount_fen"])
    chosen, over = candidates[:fits], candidates[fits:]
    if over:
        await change_status(
            conn,
            actor,
            county,
            [c["id"] for c in over],
            "over_budget",
            f"预算不足：剩余 {format_yuan(remaining - fits * p['amount_fen'])} 元",
            from_statuses=["in_notice"],
        )
    if not chosen:
        return GrantOut(
            str(p["id"]), 0, 0, len(over), len(held), len(rejected), p["committed_fen"], remaining, None, []
        )

    amount, split = p["amount_fen"], level_split(p, p["amount_fen"])
    owner = str(p["id"])
    specs = {
        level: AccountSpec("program", owner, f"funding.{level}", chart.PUBLIC_FUNDS[f"funding.{level}"])
        for level in LEVELS
    }
    specs["payable"] = AccountSpec("program", owner, "award_payable", chart.PUBLIC_FUNDS["award_payable"])
    specs["treasury"] = AccountSpec("county", county, "treasury", chart.PUBLIC_FUNDS["treasury"])
    accounts = await ledger.accounts(conn, county, specs.values())
    account = {key: accounts[spec] for key, spec in specs.items()}

    # Each household's award is debited to the three funding levels and credited to what the
    # programme owes that household, so every fen names its household.
    lines = []
    for c in chosen:
        lines += [Line(account[level], split[level], c["household_id"]) for level in LEVELS]
        lines.append(Line(account["payable"], -amount, c["household_id"]))
    total = amount * len(chosen)
    run_id = uuid.uuid4()
    entry = await ledger.post_entry(
        conn,
        county_code=county,
        source_type="award",
        source_id=str(p["id"]),
        idempotency_key=f"award-grant:{run_id}",
        memo=f"{p['name']}：发放 {len(chosen)} 户，计 {format_yuan(total)} 元",
        posted_on=today,
        lines=lines,
    )
    serials = [serial_for(p, p["next_serial"] + n) for n in range(len(chosen))]
    payables = await ledger.create_payables(
        conn,
        county,
        [
            NewPayable(
                household_id=c["household_id"],
                source="award",
                source_id=str(p["id"]),
                source_ref=str(c["id"]),
                amount_fen=amount,
                explanation=f"{p['year']}年度{KIND_WORDS[p['kind']]}（证书编号 {serial}）",
                entry_id=entry,
                payable_account_id=account["payable"],
                paying_account_id=account["treasury"],
                village_code=c["village_code"],
                program_id=p["id"],
            )
            for c, serial in zip(chosen, serials, strict=True)
        ],
    )
    await q.insert_awards(
        conn,
        [
            (
                county,
                uuid.uuid4(),
                p["id"],
                c["id"],
                c["household_id"],
                p["kind"],
                p["year"],
                amount,
                split["province"],
                split["city"],
                split["county"],
                serial,
                entry,
                payable,
                today,
                actor.name,
            )
            for c, serial, payable in zip(chosen, serials, payables, strict=True)
        ],
    )
    committed = await conn.fetchval(
        """UPDATE award_programs SET committed_fen = committed_fen + $3, next_serial = next_serial + $4
           WHERE county_code = $1 AND id = $2 RETURNING committed_fen""",
        county,
        p["id"],
        total,
        len(chosen),
    )
    await change_status(
        conn, actor, county, [c["id"] for c in chosen], "granted", "", from_statuses=["in_notice", "over_budget"]
    )
    await record(
        conn,
        actor,
        county_code=county,
        action="award_program.grant",
        object_type="award_program",
        object_id=str(p["id"]),
        before={"committed_fen": p["committed_fen"]},
        after={"committed_fen": committed},
        detail={
            "granted": len(chosen),
            "granted_fen": total,
            "entry_id": str(entry),
            "over_budget": len(over),
            "held": len(held),
            "rejected": len(rejected),
        },
    )
    return GrantOut(
        str(p["id"]),
        len(chosen),
        total,
        len(over),
        len(held),
        len(rejected),
        committed,
        p["budget_fen"] - committed,
        str(entry),
        [GrantedAward(str(c["id"]), str(c["household_id"]), serial, amount) for c, serial in zip(chosen, serials)],
    )


# ---- objections on an award notice --------------------------------------------------------------


async def _objection_filed(conn: asyncpg.Connection, actor: Actor, objection: asyncpg.Record) -> None:
    app_id = q.as_uuid(objection["subject_id"])
    await change_status(
        conn,
        actor,
        objection["county_code"],
        [app_id],
        "objected",
        "公示期内收到异议，待乡镇核实处理",
        from_statuses=["in_notice", "objected"],
    )


async def _objection_resolved(
    conn: asyncpg.Connection, actor: Actor, objection: asyncpg.Record, upheld: bool, reason: str
) -> None:
    app_id = q.as_uuid(objection["subject_id"])
    county = objection["county_code"]
    if upheld:
        await change_status(
            conn,
            actor,
            county,
            [app_id],
            "rejected",
            f"公示异议成立：{reason}",
            from_statuses=["objected", "in_notice"],
        )
        return
    still_open = [
        o for o in await open_objections_for(conn, objection["notice_id"]) if o["subject_id"] == objection["subject_id"]
    ]
    if not still_open:
        await change_status(
            conn, actor, county, [app_id], "in_notice", f"异议不成立：{reason}", from_statuses=["objected"]
        )


AWARD_OBJECTION_HOOKS = ObjectionHooks(filed=_objection_filed, resolved=_objection_resolved)


# ---- cross-check lists ---------------------------------------------------------------------------


@dataclass
class CrossCheckUpload:
    file: UploadFile
    county_code: str | None = None


def _import_county(principal: Principal, requested: str | None) -> str:
    if principal.is_admin:
        if not requested or not (len(requested) == 12 and requested.isdigit()):
            raise invalid_field("county_code", "请填写12位县级区域代码")
        return county_of(requested)
    own = county_of(principal.region_code or "")
    if requested and county_of(requested) != own:
        raise forbidden("只能导入本县的比对名单")
    return own


# ---- handlers ------------------------------------------------------------------------------------


class AwardController(Controller):
    tags = ["awards"]

    @post("/award-programs", guards=[FINANCE], operation_id="create_award_program")
    async def create_program(
        self,
        request: Request,
        data: ProgramCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        settings: Settings,
    ) -> Response:
        if not principal.covers_county(data.county_code) or (
            not principal.is_admin and data.county_code != county_of(principal.region_code or "")
        ):
            raise forbidden("只能为本县设立奖励项目")
        county = await conn.fetchrow("SELECT name FROM regions WHERE code = $1 AND level = 'county'", data.county_code)
        if county is None:
            raise invalid_field("county_code", f"县级区域 {data.county_code} 不存在")
        errors = []
        shares = data.cost_shares
        if shares.province_bp + shares.city_bp + shares.county_bp != 10000:
            errors.append(field_error("cost_shares", "省、市、县分担比例合计应为 10000（100%）"))
        least = settings.notice_days_exit_award if data.kind == "exit" else 1
        if data.notice_days < least:
            errors.append(field_error("notice_days", f"脱贫奖公示期不得少于{least}天"))
        if data.opens_on and data.closes_on and data.opens_on > data.closes_on:
            errors.append(field_error("closes_on", "申请截止日期不得早于开始日期"))
        if errors:
            raise bad_input("；".join(e["message"] for e in errors), errors)
        name = data.name or f"{county['name']}{data.year}年度{KIND_WORDS[data.kind]}"

        async def work(tx: asyncpg.Connection) -> ProgramOut:
            p = await tx.fetchrow(
                """INSERT INTO award_programs (county_code, kind, year, name, amount_fen, budget_fen, province_bp,
                       city_bp, county_bp, notice_days, opens_on, closes_on, created_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *""",
                data.county_code,
                data.kind,
                data.year,
                name,
                data.amount_fen,
                data.budget_fen,
                shares.province_bp,
                shares.city_bp,
                shares.county_bp,
                data.notice_days,
                data.opens_on,
                data.closes_on,
                actor.name,
            )
            out = await program_out(tx, p)
            await record(
                tx,
                actor,
                county_code=data.county_code,
                action="award_program.create",
                object_type="award_program",
                object_id=out.id,
                after=msgspec.to_builtins(data),
            )
            return out

        return await run_idempotent(request, conn, principal, work)

    @get("/award-programs/{program_id:str}", guards=[READERS], operation_id="get_award_program")
    async def get_program(self, program_id: str, conn: asyncpg.Connection, principal: Principal) -> ProgramOut:
        return await program_out(conn, await program_for(conn, principal, program_id))

    @post("/award-programs/{program_id:str}/applications", guards=[APPLICANTS], operation_id="apply_for_award")
    async def apply(
        self,
        request: Request,
        program_id: str,
        data: ApplicationCreate,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        if principal.role == "household" and principal.household_id != data.household_id:
            raise forbidden("农户只能为本户申请")
        p = await program_for(conn, principal, program_id)
        household = await household_or_404(conn, principal, data.household_id)
        if household["county_code"] != p["county_code"]:
            raise invalid_field("household_id", "该农户不属于本项目所在县")
        today = clock.today()
        if (p["opens_on"] and today < p["opens_on"]) or (p["closes_on"] and today > p["closes_on"]):
            raise conflict(
                "application-window-closed", f"不在申请期内（{p['opens_on'] or '不限'} 至 {p['closes_on'] or '不限'}）"
            )

        async def work(tx: asyncpg.Connection) -> ApplicationOut:
            (app_id,) = await submit_applications(tx, actor, p, [(household["id"], data.declared_income_fen)])
            return await application_detail(tx, app_id)

        return await run_idempotent(request, conn, principal, work)

    @get("/award-programs/{program_id:str}/applications", guards=[READERS], operation_id="list_award_applications")
    async def list_applications(
        self,
        program_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        status: Annotated[str | None, Parameter(pattern=r"^[a-z_]{1,30}$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[ApplicationOut]:
        p = await program_for(conn, principal, program_id)
        scope = "" if principal.is_admin else region_prefix(principal.region_code or "x")
        after = decode_cursor(cursor, 1)
        rows = await q.applications_page(
            conn, p, scope=scope, status=status, after_seq=after[0] if after else None, limit=limit + 1
        )
        rows, next_cursor = page_of(list(rows), limit, lambda r: [r["seq"]])
        return Page([application_out(r) for r in rows], next_cursor)

    @get("/applications/{application_id:str}", guards=[CERTIFICATE_READERS], operation_id="get_award_application")
    async def get_application(
        self, application_id: str, conn: asyncpg.Connection, principal: Principal
    ) -> ApplicationOut:
        row = await application_for(conn, principal, application_id)
        return await application_detail(conn, row["id"])

    @post("/applications/{application_id:str}/reviews", guards=[REVIEWERS], operation_id="review_award_application")
    async def review(
        self, application_id: str, data: ReviewCreate, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> ApplicationOut:
        row = await application_for(conn, principal, application_id)
        wanted = "village_reviewer" if data.level == "village" else "township_approver"
        if not principal.is_admin and principal.role != wanted:
            raise forbidden(
                f"{LEVEL_WORDS[data.level]}审核须由{'村级审核人' if data.level == 'village' else '乡镇审批人'}进行"
            )
        if data.decision == "reject" and not data.reason.strip():
            raise invalid_field("reason", "不通过须写明理由")
        async with conn.transaction():
            moved = await record_reviews(
                conn, actor, row["county_code"], [row["id"]], data.level, data.decision, data.reason
            )
            if not moved:
                raise conflict("wrong-status", f"申请当前状态为 {row['status']}，不能进行{LEVEL_WORDS[data.level]}审核")
        return await application_detail(conn, row["id"])

    @post(
        "/applications/{application_id:str}/decisions",
        guards=[allow("township_approver")],
        operation_id="decide_held_application",
    )
    async def decide(
        self, application_id: str, data: DecisionCreate, conn: asyncpg.Connection, actor: Actor, principal: Principal
    ) -> ApplicationOut:
        row = await application_for(conn, principal, application_id)
        async with conn.transaction():
            if data.release:
                moved = await change_status(
                    conn,
                    actor,
                    row["county_code"],
                    [row["id"]],
                    "pending_village",
                    f"乡镇书面决定继续办理：{data.reason}",
                    from_statuses=["held"],
                    rechecked=True,
                )
            else:
                moved = await change_status(
                    conn,
                    actor,
                    row["county_code"],
                    [row["id"]],
                    "rejected",
                    f"乡镇书面决定不予奖励：{data.reason}",
                    from_statuses=["held"],
                )
            if not moved:
                raise conflict("wrong-status", f"申请当前状态为 {row['status']}，不是待书面决定")
            await q.insert_reviews(
                conn,
                row["county_code"],
                moved,
                "hold",
                "release" if data.release else "reject",
                data.reason,
                actor.name,
            )
        return await application_detail(conn, row["id"])

    @post(
        "/award-programs/{program_id:str}/notices",
        guards=[allow("township_approver", "finance_officer")],
        operation_id="publish_award_notice",
    )
    async def publish(
        self,
        request: Request,
        program_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        p = await program_for(conn, principal, program_id)
        scope = "" if principal.is_admin else region_prefix(principal.region_code or "x")
        county_name = await conn.fetchval("SELECT name FROM regions WHERE code = $1", p["county_code"]) or ""

        async def work(tx: asyncpg.Connection) -> PublishOut:
            notice, count = await publish_notice(tx, actor, p, scope, clock.today(), county_name)
            if notice is None:
                raise conflict("nothing-to-publish", "没有经乡镇审核通过、待公示的申请")
            return PublishOut(
                NoticeOut(
                    str(notice["id"]),
                    notice["county_code"],
                    notice["kind"],
                    notice["source_id"],
                    notice["title"],
                    notice["starts_on"],
                    notice["ends_on"],
                    count,
                ),
                count,
            )

        return await run_idempotent(request, conn, principal, work)

    @post("/award-programs/{program_id:str}/grants", guards=[FINANCE], operation_id="grant_awards")
    async def grant(
        self,
        request: Request,
        program_id: str,
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        clock: Clock,
    ) -> Response:
        p = await program_for(conn, principal, program_id)
        if principal.role != "admin" and principal.role != "finance_officer":
            raise forbidden()
        body = await request.body()
        try:
            wanted = msgspec.json.decode(body, type=GrantRequest) if body.strip() else GrantRequest()
        except msgspec.ValidationError as exc:
            raise invalid_field("application_ids", str(exc)) from None
        except msgspec.DecodeError:
            raise invalid_field("body", "请求体不是有效的 JSON") from None
        only = None
        if wanted.application_ids is not None:
            only = [q.as_uuid(i) for i in wanted.application_ids]
            if None in only:
                raise invalid_field("application_ids", "申请编号格式无效")

        async def work(tx: asyncpg.Connection) -> GrantOut:
            return await grant_program(tx, actor, p["id"], clock.today(), only)

        return await run_idempotent(request, conn, principal, work, status_code=200)

    @post(
        "/cross-check-lists/import",
        guards=[allow("finance_officer")],
        operation_id="import_cross_check_list",
        opt=UPLOAD,
    )
    async def import_cross_check(
        self,
        data: Annotated[CrossCheckUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        conn: asyncpg.Connection,
        actor: Actor,
        principal: Principal,
        cipher: DataCipher,
    ) -> CrossCheckImportOut:
        county = _import_county(principal, data.county_code)
        table = read_table(await data.file.read(), data.file.filename)
        table.require(["id_number", "source"])
        errors, pairs, seen = [], [], set()
        for number, values in table.rows:
            id_number = normalize_id_number(values.get("id_number", ""))
            source = SOURCE_ALIASES.get(values.get("source", "").strip().lower())
            if problem := id_number_problem(id_number):
                errors.append(field_error("id_number", problem, number))
            if source is None:
                errors.append(field_error("source", "来源应为 vehicle、business 或 payroll", number))
            if errors and errors[-1].get("row") == number:
                continue
            pair = (source, cipher.lookup_hash(id_number, context=ID_CONTEXT))
            if pair not in seen:
                seen.add(pair)
                pairs.append(pair)
        if errors:
            raise bad_input(f"{len({e['row'] for e in errors})} 行有误，未导入任何数据", errors)
        if not table.rows:
            raise invalid_field("file", "文件中没有数据行")
        import_id = uuid.uuid4()
        async with conn.transaction():
            listed = await q.listed_hashes(conn, county, pairs)
            new = [pair for pair in pairs if pair not in listed]
            await conn.execute(
                """INSERT INTO cross_check_imports (county_code, id, filename, rows, added, imported_by)
                   VALUES ($1, $2, $3, $4, $5, $6)""",
                county,
                import_id,
                data.file.filename or "",
                len(table.rows),
                len(new),
                actor.name,
            )
            try:
                await conn.copy_records_to_table(
                    "cross_check_entries",
                    records=[(county, s, h, import_id) for s, h in new],
                    columns=["county_code", "source", "id_hash", "import_id"],
                )
            except asyncpg.UniqueViolationError:
                raise conflict("concurrent-import", "另一导入同时写入了相同记录，请重试") from None
            by_source: dict[str, int] = {}
            for source, _ in new:
                by_source[source] = by_source.get(source, 0) + 1
            await record(
                conn,
                actor,
                county_code=county,
                action="cross_check.import",
                object_type="cross_check_import",
                object_id=str(import_id),
                detail={"rows": len(table.rows), "added": len(new), "by_source": by_source},
            )
        return CrossCheckImportOut(str(import_id), county, len(table.rows), len(new), len(pairs) - len(new), by_source)

    @get("/certificates/{serial:str}", guards=[CERTIFICATE_READERS], operation_id="get_award_certificate")
    async def certificate(
        self, serial: str, conn: asyncpg.Connection, principal: Principal, settings: Settings
    ) -> Response:
        county = county_of_serial(serial)
        award = county and await q.award_by_serial(conn, county, serial)
        if not award:
            raise not_found("证书")
        if principal.role == "household":
            allowed = principal.household_id == str(award["household_id"])
        else:
            allowed = principal.covers_county(award["county_code"])
        if not allowed:
            raise not_found("证书")
        pdf = award_certificate_pdf(
            CertificateData(
                kind=award["kind"],
                holder_name_masked=award["head_name_masked"],
                village_name=award["village_name"] or "",
                year=award["year"],
                amount_fen=award["amount_fen"],
                serial=award["serial"],
                verify_url=f"{settings.public_base_url.rstrip('/')}/p/verify/{award['serial']}",
                issuing_county=f"{award['county_name'] or ''}人民政府",
                issued_on=award["granted_on"],
            )
        )
        return Response(
            content=pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{award["serial"]}.pdf"'},
        )

    @get("/verify/{serial:str}", opt=PUBLIC, operation_id="verify_award_certificate")
    async def verify(self, serial: str, conn: asyncpg.Connection) -> VerifyOut:
        county = county_of_serial(serial)
        award = county and await q.award_by_serial(conn, county, serial)
        if not award:
            raise not_found("证书")
        return VerifyOut(
            serial=award["serial"],
            valid=True,
            holder=award["head_name_masked"],
            village_name=award["village_name"] or "",
            award=CERTIFICATE_TITLES[award["kind"]],
            kind=award["kind"],
            year=award["year"],
            amount_fen=award["amount_fen"],
            county_code=award["county_code"],
            county_name=award["county_name"] or "",
            granted_on=award["granted_on"],
        )


ROUTES = [AwardController]
