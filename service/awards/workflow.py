"""Use cases of award programmes: the exit award (脱贫奖) and the 小康 award.

A county finance office opens a programme (amount per household, budget shared by province, city
and county); households apply, or a village clerk applies for them; eligibility is computed from
the registry and shown check by check; the village then the township review; the approved list is
published (公示) and may be objected to; after the notice the finance office grants within the
budget — a hard cap even under concurrent grants — posting the expense by level, a payable to the
household and a numbered certificate.

Every function runs in the caller's transaction and scopes objects through service.core.policy.
The stage functions (submit_applications, record_reviews, publish_notice, grant_program) take
already-authorised inputs and work on any number of applications, so the one-application use
cases and the county-scale benchmark run the same code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from db import awards as q
from db import ledger
from db.ids import as_uuid
from schemas.awards import (
    ApplicationBrief,
    ApplicationCreate,
    ApplicationOut,
    CheckOut,
    CommitmentOut,
    CrossCheckImportOut,
    DecisionCreate,
    GrantedAward,
    GrantOut,
    LevelFigures,
    NoticeOut,
    ObjectionBrief,
    OpenProgramOut,
    PaymentOut,
    ProgramCreate,
    ProgramOut,
    PublishOut,
    RecordedIncome,
    ReviewCreate,
    ReviewOut,
    VerifyOut,
)
from schemas.awards import IncomeBreakdown as IncomeBreakdownOut
from schemas.common import Page
from service.awards.rules import (
    COMMITMENT_TEXT,
    COMMITMENT_TITLE,
    KIND_WORDS,
    LEVEL_WORDS,
    LEVELS,
    LIVE_EXCLUDED,
    REVIEW_FROM,
    REVIEWER_ROLE,
    REVIEWER_WORDS,
    WITHDRAWABLE,
    Eligibility,
    EligibilityFacts,
    GrantCandidate,
    GrantSelection,
    IncomeBreakdown,
    application_problems,
    check_eligibility,
    county_of_serial,
    held_decision,
    income_line,
    level_split,
    may_apply,
    outside_window,
    program_problems,
    recorded_income,
    review_outcome,
    select_grants,
    serial_for,
    source_of,
    split_awards,
    stage_of,
    status_for,
)
from service.awards.sheets import CROSS_CHECK_SHEET
from service.core.audit import Actor, record
from service.core.crypto import ID_CONTEXT, DataCipher
from service.core.errors import DomainError, bad_input, conflict, field_error, forbidden, invalid_field, not_found
from service.core.hooks import ObjectionHooks
from service.core.identity import id_number_problem, normalize_id_number
from service.core.imported import record_import
from service.core.money import format_yuan
from service.core.pagination import checked_limit, decode_cursor, page_of
from service.core.policy import application_for, household_or_404, program_for
from service.core.principal import Principal, Role, county_of, region_prefix
from service.core.settings import Settings
from service.core.tabular import Table, read_sheet
from service.documents.pdf import CERTIFICATE_TITLES, CertificateData, award_certificate_pdf
from service.ledger import chart
from service.ledger.rules import AccountSpec, Line, NewPayable
from service.notices.workflow import open_notice, open_objections_for
from service.statements.workflow import EveryYear, every_year

GRANT_FROM = ["in_notice", "over_budget"]  # the statuses a grant run takes applications from

# ---- audit of many rows at once -------------------------------------------------------------

AUDIT_BATCH = 1_000


async def audit_each(
    conn: asyncpg.Connection,
    actor: Actor,
    county_code: str,
    action: str,
    object_type: str,
    changes: Sequence[tuple[str, Any]],
    detail: dict[str, Any] | None = None,
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


def _scope(principal: Principal) -> str:
    """The region prefix a caller works in ('' for the admin: the whole county)."""
    return "" if principal.is_admin else region_prefix(principal.region_code or "x")


# ---- programmes -------------------------------------------------------------------------------


def cost_shares(p: asyncpg.Record) -> dict[str, int]:
    """A programme's cost shares by level, in basis points."""
    return {level: int(p[f"{level}_bp"]) for level in LEVELS}


def level_budgets(p: asyncpg.Record) -> dict[str, int]:
    """Each level's share of the programme's budget (stored at creation: level_split of budget_fen)."""
    return {level: int(p[f"{level}_budget_fen"]) for level in LEVELS}


def level_committed(p: asyncpg.Record) -> dict[str, int]:
    return {level: int(p[f"{level}_committed_fen"]) for level in LEVELS}


async def program_out(conn: asyncpg.Connection, p: asyncpg.Record) -> ProgramOut:
    budget, committed = level_budgets(p), level_committed(p)
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
        by_level={
            level: LevelFigures(p[f"{level}_bp"], budget[level], committed[level], budget[level] - committed[level])
            for level in LEVELS
        },
        notice_days=p["notice_days"],
        opens_on=p["opens_on"],
        closes_on=p["closes_on"],
        counts=await q.program_counts(conn, p),
    )


async def create_program(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, settings: Settings, data: ProgramCreate
) -> ProgramOut:
    """A county finance office opens a programme for its own county."""
    if not principal.covers_county(data.county_code) or (
        not principal.is_admin and data.county_code != county_of(principal.region_code or "")
    ):
        raise forbidden("只能为本县设立奖励项目")
    county_name = await q.county_name(conn, data.county_code)
    if county_name is None:
        raise invalid_field("county_code", f"县级区域 {data.county_code} 不存在")
    shares = {level: getattr(data.cost_shares, f"{level}_bp") for level in LEVELS}
    errors = program_problems(
        kind=data.kind,
        shares=shares,
        notice_days=data.notice_days,
        opens_on=data.opens_on,
        closes_on=data.closes_on,
        exit_notice_days=settings.notice_days_exit_award,
    )
    if errors:
        raise bad_input("；".join(e["message"] for e in errors), errors)
    budgets = level_split(data.budget_fen, shares)
    p = await q.insert_program(
        conn,
        {
            **{f"{level}_bp": bp for level, bp in shares.items()},
            **{f"{level}_budget_fen": fen for level, fen in budgets.items()},
            "county_code": data.county_code,
            "kind": data.kind,
            "year": data.year,
            "name": data.name or f"{county_name}{data.year}年度{KIND_WORDS[data.kind]}",
            "amount_fen": data.amount_fen,
            "budget_fen": data.budget_fen,
            "notice_days": data.notice_days,
            "opens_on": data.opens_on,
            "closes_on": data.closes_on,
            "created_by": actor.name,
        },
    )
    out = await program_out(conn, p)
    await record(
        conn,
        actor,
        county_code=data.county_code,
        action="award_program.create",
        object_type="award_program",
        object_id=out.id,
        after=msgspec.to_builtins(data),
    )
    return out


async def get_program(conn: asyncpg.Connection, principal: Principal, program_id: str) -> ProgramOut:
    return await program_out(conn, await program_for(conn, principal, program_id))


async def list_programs(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    county_code: str | None = None,
    year: int | None = None,
    kind: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[ProgramOut]:
    """A county's programmes, newest first (the caller's own county unless it names one it covers;
    the admin sees every county's when it names none)."""
    checked_limit(limit)
    if principal.role in (Role.ACCOUNTANT, Role.HOUSEHOLD):
        raise forbidden("奖励项目由县财政和村、乡镇经办人查看")
    if county_code is not None and not principal.covers_county(county_code):
        raise forbidden("只能查看本县的奖励项目")
    county = county_code or (None if principal.is_admin else county_of(principal.region_code or ""))
    after = decode_cursor(cursor, dt.datetime, uuid.UUID)
    key = (after[0], after[1]) if after else None
    rows = await q.programs_page(conn, county_code=county, year=year, kind=kind, after=key, limit=limit + 1)
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["created_at"].isoformat(), str(r["id"])])
    return Page([await program_out(conn, r) for r in page], next_cursor)


# ---- applications -----------------------------------------------------------------------------


def _payment(row: asyncpg.Record) -> PaymentOut | None:
    if row["payable_id"] is None:
        return None
    return PaymentOut(
        str(row["payable_id"]), row["payable_fen"], row["payable_status"], row["paid_on"], row["failure_reason"]
    )


def _commitment(row: asyncpg.Record) -> CommitmentOut | None:
    if row["commitment_accepted_at"] is None:
        return None
    return CommitmentOut(COMMITMENT_TITLE[row["program_kind"]], row["commitment_text"], row["commitment_accepted_at"])


def application_out(
    row: asyncpg.Record, reviews: Sequence[asyncpg.Record] = (), objections: Sequence[asyncpg.Record] = ()
) -> ApplicationOut:
    breakdown, recorded = row["income_breakdown"], row["income_recorded"]
    return ApplicationOut(
        id=str(row["id"]),
        program_id=str(row["program_id"]),
        household_id=str(row["household_id"]),
        household_name=row["head_name_masked"],
        household_no=row["household_no"],
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
        program_kind=row["program_kind"],
        program_year=row["program_year"],
        stage=stage_of(row["status"]),
        filed_by_household=row["filed_by_household"],
        income_breakdown=msgspec.convert(breakdown, IncomeBreakdownOut) if breakdown is not None else None,
        income_recorded=msgspec.convert(recorded, RecordedIncome) if recorded is not None else None,
        commitment=_commitment(row),
        notice_starts_on=row["notice_starts_on"],
        notice_ends_on=row["notice_ends_on"],
        payment=_payment(row),
    )


async def application_detail(conn: asyncpg.Connection, application_id: uuid.UUID) -> ApplicationOut:
    row = await q.application(conn, application_id)
    if row is None:
        raise not_found("申请")
    return application_out(
        row,
        await q.reviews(conn, row["county_code"], row["id"]),
        await q.objections(conn, row["county_code"], row["id"]),
    )


async def _eligibility(
    conn: asyncpg.Connection, p: asyncpg.Record, lines: asyncpg.Record, items: Sequence[tuple[uuid.UUID, int]]
) -> list[Eligibility]:
    """Each household's checks, from the facts the database holds (household id, declared income)."""
    ids = [h for h, _ in items]
    events = await q.status_events(conn, ids)
    earlier = await q.earlier_exit_awards(conn, p["county_code"], ids) if p["kind"] == "exit" else {}
    hits = await q.cross_check_hits(conn, p["county_code"], ids)
    split = await q.split_after_registration(conn, ids) if p["kind"] == "exit" else set()
    return [
        check_eligibility(
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
        for household_id, income in items
    ]


@dataclass(frozen=True)
class Filing:
    """How one application was filed: by the household itself (with its breakdown and the
    commitment it accepted) or by a clerk (a breakdown optional)."""

    by_household: bool = False
    breakdown: IncomeBreakdown | None = None
    recorded: dict[str, int] | None = None  # what the service knew of the year's income
    commitment_text: str | None = None
    accepted_at: dt.datetime | None = None  # when the commitment was accepted


def _record_of(
    p: asyncpg.Record,
    applied_by: str,
    household: asyncpg.Record,
    income: int,
    result: Eligibility,
    filing: Filing,
) -> tuple[Any, ...]:
    """One new application's row, in the order of db.awards.APPLICATION_COLUMNS."""
    status, reason = status_for(result)
    checks = [
        {"name": c.name, "passed": c.passed, "detail": c.detail, "effect": c.effect, "plain": c.plain}
        for c in result.checks
    ]
    breakdown = dataclasses.asdict(filing.breakdown) if filing.breakdown else None
    return (
        *(p["county_code"], uuid.uuid4(), p["id"], household["id"], household["village_code"], income),
        *(result.outcome, checks, status, reason, applied_by),
        *(filing.by_household, breakdown, filing.recorded, filing.commitment_text, filing.accepted_at),
    )


async def submit_applications(
    conn: asyncpg.Connection,
    actor: Actor,
    p: asyncpg.Record,
    items: Sequence[tuple[uuid.UUID, int]],
    filing: Filing = Filing(),
) -> list[uuid.UUID]:
    """Check and record applications (household id, declared per-capita income); returns their ids.

    Facts come from the database, never from the applicant: status events, the year's line,
    earlier exit awards in the split family, cross-check list hits and whether it split after
    registration. Households must already be known to be in the programme's county. `filing`
    says how they were filed (the same for every item).
    """
    lines = await q.lines_for(conn, p["year"])
    if lines is None:
        raise conflict("no-poverty-line", f"{p['year']} 年的脱贫标准和小康标准尚未设置")
    ids = [h for h, _ in items]
    if len(set(ids)) != len(ids):
        raise invalid_field("household_id", "同一农户重复申请")
    if live := await q.live_applications(conn, p, ids):
        raise _already_applied(next(iter(live.values())))
    households = await q.households(conn, ids)
    records: list[tuple[Any, ...]] = []
    changes: list[tuple[str, Any]] = []
    for (household_id, income), result in zip(items, await _eligibility(conn, p, lines, items), strict=True):
        row = _record_of(p, actor.name, households[household_id], income, result, filing)
        records.append(row)
        change: dict[str, Any] = {"household_id": str(household_id), "declared_income_fen": income, "status": row[8]}
        if filing.breakdown:
            change |= {"filed_by_household": filing.by_household, "income_breakdown": row[12]}
        if filing.commitment_text:
            change["commitment_accepted_at"] = row[15].isoformat()
        changes.append((str(row[1]), change))
    try:
        async with conn.transaction():
            await q.insert_applications(conn, records)
    except asyncpg.UniqueViolationError:
        live = await q.live_applications(conn, p, ids)
        raise _already_applied(next(iter(live.values()), None)) from None
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


def _already_applied(application_id: uuid.UUID | None) -> DomainError:
    """Applying again answers with the application in progress."""
    extra = {"application_id": str(application_id)} if application_id else {}
    return conflict("already-applied", "该农户在本项目中已有申请，正在办理", **extra)


def _filing(principal: Principal, data: ApplicationCreate, recorded: dict[str, int], now: dt.datetime) -> Filing:
    """How this application is filed; every problem with its breakdown or commitment is a 422."""
    by_household = principal.role == Role.HOUSEHOLD
    breakdown = IncomeBreakdown(**msgspec.to_builtins(data.income_breakdown)) if data.income_breakdown else None
    errors = application_problems(
        declared_income_fen=data.declared_income_fen,
        breakdown=breakdown,
        by_household=by_household,
        commitment_accepted=data.commitment_accepted,
    )
    if errors:
        raise bad_input("；".join(e["message"] for e in errors), errors)
    accepted = data.commitment_accepted is True
    return Filing(
        by_household=by_household,
        breakdown=breakdown,
        recorded=recorded if breakdown else None,
        commitment_text=COMMITMENT_TEXT if accepted else None,
        accepted_at=now if accepted else None,
    )


async def apply(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    today: dt.date,
    program_id: str,
    data: ApplicationCreate,
    now: dt.datetime | None = None,
) -> ApplicationOut:
    """A household applies for itself (with its income breakdown and the commitment, accepted at
    `now`, the service clock's time), or a village clerk for a household of its village."""
    if principal.role == Role.HOUSEHOLD and principal.household_id != data.household_id:
        raise forbidden("农户只能为本户申请")
    p = await program_for(conn, principal, program_id)
    household = await household_or_404(conn, principal, data.household_id)
    if household["county_code"] != p["county_code"]:
        raise invalid_field("household_id", "该农户不属于本项目所在县")
    if outside_window(today, p["opens_on"], p["closes_on"]):
        raise conflict(
            "application-window-closed", f"不在申请期内（{p['opens_on'] or '不限'} 至 {p['closes_on'] or '不限'}）"
        )
    recorded = _recorded_income(await every_year(conn, household), p["year"], today)
    filing = _filing(principal, data, recorded, now or dt.datetime.now(dt.UTC))
    (app_id,) = await submit_applications(conn, actor, p, [(household["id"], data.declared_income_fen)], filing)
    return await application_detail(conn, app_id)


async def list_applications(
    conn: asyncpg.Connection,
    principal: Principal,
    program_id: str,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[ApplicationOut]:
    """A programme's applications in the caller's region, first applied first."""
    p = await program_for(conn, principal, program_id)
    after = decode_cursor(cursor, int)
    rows = await q.applications_page(
        conn, p, scope=_scope(principal), status=status, after_seq=after[0] if after else None, limit=limit + 1
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["seq"]])
    return Page([application_out(r) for r in page], next_cursor)


async def get_application(conn: asyncpg.Connection, principal: Principal, application_id: str) -> ApplicationOut:
    row = await application_for(conn, principal, application_id)
    return await application_detail(conn, row["id"])


async def withdraw(conn: asyncpg.Connection, actor: Actor, principal: Principal, application_id: str) -> ApplicationOut:
    """The household takes its application back before the village has reviewed it (撤回)."""
    row = await application_for(conn, principal, application_id)
    moved = await change_status(
        conn, actor, row["county_code"], [row["id"]], "withdrawn", "农户撤回申请", from_statuses=WITHDRAWABLE
    )
    if not moved:
        raise conflict("wrong-status", "村里已经审核过这份申请（或申请已结束），不能再撤回")
    return await application_detail(conn, row["id"])


# ---- what a household may apply for ---------------------------------------------------------------


def _recorded_income(years: EveryYear, year: int, today: dt.date) -> dict[str, int]:
    """What the household's statement of the year holds, by part of the income breakdown."""
    return recorded_income(years.statement(year, today).totals_by_kind)


def _current_applications(rows: Sequence[asyncpg.Record]) -> dict[uuid.UUID, asyncpg.Record]:
    """Per programme, the household's application in progress, else its latest one."""
    current: dict[uuid.UUID, asyncpg.Record] = {}
    for row in rows:  # first filed first
        before = current.get(row["program_id"])
        if before is None or before["status"] in LIVE_EXCLUDED:
            current[row["program_id"]] = row
    return current


async def household_offers(
    conn: asyncpg.Connection, household: asyncpg.Record, today: dt.date, years: EveryYear | None = None
) -> list[OpenProgramOut]:
    """The programmes of the household's county open to it today, and those it has applied to,
    each with the line it must reach and what the service recorded of its income that year (from
    `years`, the household's statement lines a page has read already; else read here, once)."""
    county, household_id = household["county_code"], household["id"]
    current = _current_applications(await q.household_applications(conn, county, household_id))
    events = (await q.status_events(conn, [household_id])).get(household_id, [])
    had_exit_award = bool((await q.earlier_exit_awards(conn, county, [household_id])).get(household_id))
    recorded: dict[int, dict[str, int]] = {}
    offers = []
    for p in await q.county_programs(conn, county):
        app = current.get(p["id"])
        live = app is not None and app["status"] not in LIVE_EXCLUDED
        window = {"today": today, "opens_on": p["opens_on"], "closes_on": p["closes_on"]}
        open_now = p["poverty_line_fen"] is not None and may_apply(
            p["kind"], p["year"], events, had_exit_award=had_exit_award, **window
        )
        if app is None and not open_now:
            continue
        if p["year"] not in recorded:
            years = years or await every_year(conn, household)
            recorded[p["year"]] = _recorded_income(years, p["year"], today)
        line, line_name = income_line(p["kind"], p["poverty_line_fen"] or 0, p["xiaokang_line_fen"] or 0)
        offers.append(
            OpenProgramOut(
                id=str(p["id"]),
                kind=p["kind"],
                year=p["year"],
                name=p["name"],
                amount_fen=p["amount_fen"],
                opens_on=p["opens_on"],
                closes_on=p["closes_on"],
                line_fen=line,
                line_name=line_name,
                people=household["members"],
                recorded_income=RecordedIncome(**recorded[p["year"]]),
                can_apply=open_now and not live,
                application=ApplicationBrief(str(app["id"]), app["status"], stage_of(app["status"])) if app else None,
            )
        )
    return offers


async def household_programs(
    conn: asyncpg.Connection, principal: Principal, today: dt.date, household_id: str
) -> Page[OpenProgramOut]:
    """GET /households/{id}/award-programs: for the household itself, or staff who may read it."""
    household = await household_or_404(conn, principal, household_id)
    return Page(await household_offers(conn, household, today), None)


# ---- reviews and decisions ----------------------------------------------------------------------


async def change_status(
    conn: asyncpg.Connection,
    actor: Actor,
    county_code: str,
    ids: Sequence[uuid.UUID],
    status: str,
    reason: str = "",
    *,
    from_statuses: Sequence[str],
    notice_id: uuid.UUID | None = None,
    rechecked: bool = False,
) -> list[uuid.UUID]:
    """Move applications from `from_statuses` to `status`, audited; returns those moved."""
    moved = await q.set_status(
        conn,
        county_code,
        ids,
        status,
        reason,
        from_statuses=from_statuses,
        notice_id=notice_id,
        rechecked=rechecked,
    )
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
    target, note = review_outcome(level, decision, reason)
    moved = await change_status(conn, actor, county_code, ids, target, note, from_statuses=[REVIEW_FROM[level]])
    await q.insert_reviews(conn, county_code, moved, level, decision, reason, actor.name)
    return moved


async def review(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, application_id: str, data: ReviewCreate
) -> ApplicationOut:
    """The village, then the township, approves or rejects (with a reason) one application."""
    row = await application_for(conn, principal, application_id)
    if not principal.is_admin and principal.role != REVIEWER_ROLE[data.level]:
        raise forbidden(f"{LEVEL_WORDS[data.level]}审核须由{REVIEWER_WORDS[data.level]}进行")
    if data.decision == "reject" and not data.reason.strip():
        raise invalid_field("reason", "不通过须写明理由")
    moved = await record_reviews(conn, actor, row["county_code"], [row["id"]], data.level, data.decision, data.reason)
    if not moved:
        raise conflict("wrong-status", f"申请当前状态为 {row['status']}，不能进行{LEVEL_WORDS[data.level]}审核")
    return await application_detail(conn, row["id"])


async def decide(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, application_id: str, data: DecisionCreate
) -> ApplicationOut:
    """The township's written decision on a held application: release it to the village, or reject it."""
    if principal.role not in (Role.ADMIN, Role.TOWNSHIP_APPROVER):
        raise forbidden("书面核实决定须由乡镇审批人作出")
    row = await application_for(conn, principal, application_id)
    status, note = held_decision(data.release, data.reason)
    moved = await change_status(
        conn, actor, row["county_code"], [row["id"]], status, note, from_statuses=["held"], rechecked=data.release
    )
    if not moved:
        raise conflict("wrong-status", f"申请当前状态为 {row['status']}，不是待书面决定")
    decision = "release" if data.release else "reject"
    await q.insert_reviews(conn, row["county_code"], moved, "hold", decision, data.reason, actor.name)
    return await application_detail(conn, row["id"])


async def review_each(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, application_ids: Sequence[str], data: ReviewCreate
) -> list[ApplicationOut]:
    """A checked batch reviewed with one decision and reason: every application or none (the
    caller's transaction rolls back at the first refusal, which names the application)."""
    if not application_ids:
        raise invalid_field("application_ids", "请至少勾选一份申请")
    reviewed = []
    for application_id in application_ids:
        try:
            reviewed.append(await review(conn, actor, principal, application_id, data))
        except DomainError as problem:
            problem.detail = f"申请 {application_id[:8]}：{problem.detail}"
            raise
    return reviewed


# What waits for each reviewer: the village reviews what the checks passed; the township reviews
# what the village passed and decides in writing on what the checks held.
WAITING_FOR: dict[str, tuple[str, ...]] = {
    Role.VILLAGE_REVIEWER: ("pending_village",),
    Role.TOWNSHIP_APPROVER: ("pending_township", "held"),
}
# The queries find what waits through a partial index of exactly these statuses (db/awards.py).
assert {s for waiting in WAITING_FOR.values() for s in waiting} <= set(q.WAITING_STATUSES)


async def review_queue(
    conn: asyncpg.Connection, principal: Principal, *, limit: int = 100, cursor: str | None = None
) -> Page[ApplicationOut]:
    """A page of the applications of the caller's county waiting for the caller's level, in its
    region, first filed first (every one reachable, however long the queue at year end)."""
    checked_limit(limit)
    statuses = WAITING_FOR.get(principal.role)
    after = decode_cursor(cursor, int)
    if not statuses:
        return Page([], None)
    county, scope = county_of(principal.region_code or ""), _scope(principal)
    rows = await q.applications_waiting(conn, county, scope, statuses, after[0] if after else 0, limit + 1)
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["seq"]])
    return Page([application_out(r) for r in page], next_cursor)


@dataclass(frozen=True, slots=True)
class QueueCount:
    """What the reviewer's home says of its queue: how many wait, how many of them are held."""

    waiting: int
    held: int


async def review_queue_count(conn: asyncpg.Connection, principal: Principal) -> QueueCount:
    """The size of review_queue without reading it (the console home shows only the counts)."""
    statuses = WAITING_FOR.get(principal.role)
    if not statuses:
        return QueueCount(0, 0)
    row = await q.applications_waiting_count(conn, county_of(principal.region_code or ""), _scope(principal), statuses)
    return QueueCount(row["waiting"], row["held"])


# ---- 公示 --------------------------------------------------------------------------------------


async def publish_notice(
    conn: asyncpg.Connection, actor: Actor, p: asyncpg.Record, scope: str, today: dt.date, county_name: str
) -> tuple[asyncpg.Record | None, int]:
    """公示 of every township-approved application in scope (a region prefix; '' for the county)."""
    rows = await q.approved_for_notice(conn, p, scope)
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


async def publish(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, today: dt.date, program_id: str
) -> PublishOut:
    """The township (or the county) publishes the approved applications of its region."""
    if principal.role not in (Role.ADMIN, Role.TOWNSHIP_APPROVER, Role.FINANCE_OFFICER):
        raise forbidden("公示须由乡镇审批人或县财政发布")
    p = await program_for(conn, principal, program_id)
    county_name = await q.region_name(conn, p["county_code"]) or ""
    notice, count = await publish_notice(conn, actor, p, _scope(principal), today, county_name)
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


# ---- grants -------------------------------------------------------------------------------------


async def grant(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    today: dt.date,
    program_id: str,
    application_ids: Sequence[str] | None = None,
) -> GrantOut:
    """The county finance office grants a programme (all that are due, or only the applications named)."""
    p = await program_for(conn, principal, program_id)
    if principal.role not in (Role.ADMIN, Role.FINANCE_OFFICER):
        raise forbidden()
    only = None
    if application_ids is not None:
        keys = [as_uuid(i) for i in application_ids]
        only = [k for k in keys if k is not None]
        if len(only) != len(keys):
            raise invalid_field("application_ids", "申请编号格式无效")
    return await grant_program(conn, actor, p["id"], today, only)


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
    if p is None:
        raise not_found("奖励项目")
    if p["kind"] == "exit":
        await q.lock_exit_awards(conn, p["county_code"])
    rows = await q.grant_candidates(conn, p, today, only)
    selection = select_grants(
        await _grant_candidates(conn, p, rows),
        amount_fen=p["amount_fen"],
        remaining_fen=p["budget_fen"] - p["committed_fen"],
        one_per_family=p["kind"] == "exit",
    )
    held, rejected = await _set_aside(conn, actor, p, selection)
    if not selection.granted:
        remaining = p["budget_fen"] - p["committed_fen"]
        over = len(selection.over_budget)
        return GrantOut(str(p["id"]), 0, 0, over, held, rejected, p["committed_fen"], remaining, None, [])
    villages = {r["id"]: r["village_code"] for r in rows}
    return await _award(conn, actor, p, today, selection, villages, held, rejected)


async def _grant_candidates(
    conn: asyncpg.Connection, p: asyncpg.Record, rows: Sequence[asyncpg.Record]
) -> list[GrantCandidate]:
    """What the grant rule needs of each candidate: its split family, new list hits, earlier awards."""
    county = p["county_code"]
    households = await q.households(conn, [r["household_id"] for r in rows])
    since = {r["household_id"]: r["checked_at"] for r in rows}
    hits = await q.cross_check_hits(conn, county, list(since), since=since)
    clean = [r["household_id"] for r in rows if r["household_id"] not in hits]
    earlier = await q.earlier_exit_awards(conn, county, clean) if p["kind"] == "exit" and clean else {}
    return [
        GrantCandidate(
            application_id=r["id"],
            household_id=r["household_id"],
            split_from=households[r["household_id"]]["split_from"],
            new_hit=r["household_id"] in hits,
            earlier_award=bool(earlier.get(r["household_id"])),
        )
        for r in rows
    ]


async def _set_aside(
    conn: asyncpg.Connection, actor: Actor, p: asyncpg.Record, selection: GrantSelection
) -> tuple[int, int]:
    """Hold, reject and mark over budget what the run does not grant; returns (held, rejected) moved."""
    county = p["county_code"]
    held: list[uuid.UUID] = []
    rejected: list[uuid.UUID] = []
    if selection.held:
        ids = [c.application_id for c in selection.held]
        reason = "发放前比对发现新记录，须乡镇书面核实决定"
        held = await change_status(conn, actor, county, ids, "held", reason, from_statuses=GRANT_FROM)
    if selection.rejected:
        ids = [c.application_id for c in selection.rejected]
        reason = "脱贫奖每户只发一次：本户或分户关联户已领取"
        rejected = await change_status(conn, actor, county, ids, "rejected", reason, from_statuses=GRANT_FROM)
    if selection.over_budget:
        ids = [c.application_id for c in selection.over_budget]
        reason = f"预算不足：剩余 {format_yuan(selection.left_fen)} 元"
        await change_status(conn, actor, county, ids, "over_budget", reason, from_statuses=["in_notice"])
    return len(held), len(rejected)


async def _grant_accounts(conn: asyncpg.Connection, p: asyncpg.Record) -> dict[str, uuid.UUID]:
    """The programme's funding accounts by level, what it owes households, and the county treasury."""
    owner = str(p["id"])
    specs = {
        level: AccountSpec("program", owner, f"funding.{level}", chart.PUBLIC_FUNDS[f"funding.{level}"])
        for level in LEVELS
    }
    specs["payable"] = AccountSpec("program", owner, "award_payable", chart.PUBLIC_FUNDS["award_payable"])
    specs["treasury"] = AccountSpec("county", p["county_code"], "treasury", chart.PUBLIC_FUNDS["treasury"])
    accounts = await ledger.accounts(conn, p["county_code"], specs.values())
    return {key: accounts[spec] for key, spec in specs.items()}


async def _post_grant(
    conn: asyncpg.Connection,
    p: asyncpg.Record,
    today: dt.date,
    chosen: Sequence[GrantCandidate],
    splits: Sequence[dict[str, int]],
    account: dict[str, uuid.UUID],
) -> uuid.UUID:
    """One entry for the run: each household's award debited to the three funding levels (by its
    own split) and credited to what the programme owes that household, so every fen names its household."""
    lines = []
    for c, split in zip(chosen, splits, strict=True):
        lines += [Line(account[level], split[level], c.household_id) for level in LEVELS if split[level]]
        lines.append(Line(account["payable"], -p["amount_fen"], c.household_id))
    total = p["amount_fen"] * len(chosen)
    return await ledger.post_entry(
        conn,
        county_code=p["county_code"],
        source_type="award",
        source_id=str(p["id"]),
        idempotency_key=f"award-grant:{uuid.uuid4()}",
        memo=f"{p['name']}：发放 {len(chosen)} 户，计 {format_yuan(total)} 元",
        posted_on=today,
        lines=lines,
    )


async def _write_awards(
    conn: asyncpg.Connection,
    actor: Actor,
    p: asyncpg.Record,
    today: dt.date,
    chosen: Sequence[GrantCandidate],
    villages: dict[uuid.UUID, str],
    serials: Sequence[str],
    splits: Sequence[dict[str, int]],
    entry: uuid.UUID,
    account: dict[str, uuid.UUID],
) -> None:
    """A payable to each household and its award with a numbered certificate, with COPY."""
    payables = await ledger.create_payables(
        conn,
        p["county_code"],
        [
            NewPayable(
                household_id=c.household_id,
                source="award",
                source_id=str(p["id"]),
                source_ref=str(c.application_id),
                amount_fen=p["amount_fen"],
                explanation=f"{p['year']}年度{KIND_WORDS[p['kind']]}（证书编号 {serial}）",
                entry_id=entry,
                payable_account_id=account["payable"],
                paying_account_id=account["treasury"],
                village_code=villages[c.application_id],
                program_id=p["id"],
            )
            for c, serial in zip(chosen, serials, strict=True)
        ],
    )
    head = (p["county_code"], p["id"])
    award = (p["kind"], p["year"], p["amount_fen"])
    await q.insert_awards(
        conn,
        [
            (head[0], uuid.uuid4(), head[1], c.application_id, c.household_id, *award)
            + (split["province"], split["city"], split["county"], serial, entry, payable, today, actor.name)
            for c, serial, payable, split in zip(chosen, serials, payables, splits, strict=True)
        ],
    )


async def _award(
    conn: asyncpg.Connection,
    actor: Actor,
    p: asyncpg.Record,
    today: dt.date,
    selection: GrantSelection,
    villages: dict[uuid.UUID, str],
    held: int,
    rejected: int,
) -> GrantOut:
    """Post, pay and number the granted applications; commit them to the budget; audit the run."""
    county, amount, chosen = p["county_code"], p["amount_fen"], selection.granted
    splits = split_awards(len(chosen), amount, cost_shares(p), level_budgets(p), level_committed(p))
    account = await _grant_accounts(conn, p)
    entry = await _post_grant(conn, p, today, chosen, splits, account)
    first = await q.take_serial_numbers(conn, county, p["kind"], p["year"], len(chosen))
    serials = [serial_for(p["kind"], county, p["year"], first + n) for n in range(len(chosen))]
    await _write_awards(conn, actor, p, today, chosen, villages, serials, splits, entry, account)
    total = amount * len(chosen)
    by_level = {level: sum(split[level] for split in splits) for level in LEVELS}
    committed = (await q.commit_grants(conn, p, by_level))["committed_fen"]
    await change_status(
        conn, actor, county, [c.application_id for c in chosen], "granted", "", from_statuses=GRANT_FROM
    )
    over = len(selection.over_budget)
    await record(
        conn,
        actor,
        county_code=county,
        action="award_program.grant",
        object_type="award_program",
        object_id=str(p["id"]),
        before={"committed_fen": p["committed_fen"], "by_level": level_committed(p)},
        after={"committed_fen": committed, "by_level": {lv: p[f"{lv}_committed_fen"] + by_level[lv] for lv in LEVELS}},
        detail={
            "granted": len(chosen),
            "granted_fen": total,
            "entry_id": str(entry),
            "over_budget": over,
            "held": held,
            "rejected": rejected,
        },
    )
    awards = [
        GrantedAward(str(c.application_id), str(c.household_id), serial, amount)
        for c, serial in zip(chosen, serials, strict=True)
    ]
    remaining = p["budget_fen"] - committed
    return GrantOut(str(p["id"]), len(chosen), total, over, held, rejected, committed, remaining, str(entry), awards)


# ---- objections on an award notice --------------------------------------------------------------


async def _objection_filed(conn: asyncpg.Connection, actor: Actor, objection: asyncpg.Record) -> None:
    """An objection holds the application until the township resolves it."""
    app_id = as_uuid(objection["subject_id"])
    await change_status(
        conn,
        actor,
        objection["county_code"],
        [app_id] if app_id else [],
        "objected",
        "公示期内收到异议，待乡镇核实处理",
        from_statuses=["in_notice", "objected"],
    )


async def _objection_resolved(
    conn: asyncpg.Connection, actor: Actor, objection: asyncpg.Record, upheld: bool, reason: str
) -> None:
    """Upheld: the application is rejected. Dismissed: back in the notice once no objection is open."""
    app_id = as_uuid(objection["subject_id"])
    ids = [app_id] if app_id else []
    county = objection["county_code"]
    if upheld:
        await change_status(
            conn, actor, county, ids, "rejected", f"公示异议成立：{reason}", from_statuses=["objected", "in_notice"]
        )
        return
    still_open = [
        o for o in await open_objections_for(conn, objection["notice_id"]) if o["subject_id"] == objection["subject_id"]
    ]
    if not still_open:
        await change_status(conn, actor, county, ids, "in_notice", f"异议不成立：{reason}", from_statuses=["objected"])


AWARD_OBJECTION_HOOKS = ObjectionHooks(filed=_objection_filed, resolved=_objection_resolved)


# ---- cross-check lists ---------------------------------------------------------------------------


def _import_county(principal: Principal, requested: str | None) -> str:
    if principal.is_admin:
        if not requested or not (len(requested) == 12 and requested.isascii() and requested.isdigit()):
            raise invalid_field("county_code", "请填写12位县级区域代码")
        return county_of(requested)
    own = county_of(principal.region_code or "")
    if requested and county_of(requested) != own:
        raise forbidden("只能导入本县的比对名单")
    return own


def _listed_pairs(table: Table, cipher: DataCipher) -> list[tuple[str, bytes]]:
    """Each row's (list, keyed hash of the ID number), once each; every bad row refuses the file."""
    errors: list[dict[str, Any]] = []
    pairs: list[tuple[str, bytes]] = []
    seen: set[tuple[str, bytes]] = set()
    for number, values in table.rows:
        id_number = normalize_id_number(values.get("id_number", ""))
        source = source_of(values.get("source", ""))
        if problem := id_number_problem(id_number):
            errors.append(field_error("id_number", problem, number))
        if source is None:
            errors.append(
                field_error("source", "来源应为 车辆、工商/市场主体 或 财政供养（vehicle、business、payroll）", number)
            )
        if source is None or (errors and errors[-1].get("row") == number):
            continue
        pair = (source, cipher.lookup_hash(id_number, context=ID_CONTEXT))
        if pair not in seen:
            seen.add(pair)
            pairs.append(pair)
    if errors:
        raise bad_input(f"{len({e['row'] for e in errors})} 行有误，未导入任何数据", errors)
    return pairs


async def import_cross_check_list(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    cipher: DataCipher,
    content: bytes,
    filename: str | None,
    county_code: str | None = None,
    *,
    new_batch: bool = False,
) -> CrossCheckImportOut:
    """A county's vehicle, business-registration or public-payroll list (columns 身份证号/id_number,
    来源/source). ID numbers are kept only as their keyed hash; entries already listed are counted,
    not doubled; the same rows imported before are refused unless the clerk says new_batch.
    """
    county = _import_county(principal, county_code)
    table = await read_sheet(content, filename, CROSS_CHECK_SHEET)
    with table.checking():
        pairs = _listed_pairs(table, cipher)
    if not table.rows:
        raise invalid_field("file", "文件中没有数据行")
    await record_import(conn, actor, table, county, county, filename, new_batch)
    import_id = uuid.uuid4()
    listed = await q.listed_hashes(conn, county, pairs)
    new = [pair for pair in pairs if pair not in listed]
    await q.insert_cross_check_import(conn, county, import_id, filename or "", len(table.rows), len(new), actor.name)
    try:
        await q.copy_cross_check_entries(conn, county, import_id, new)
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


# ---- certificates ----------------------------------------------------------------------------------


async def _award_by_serial(conn: asyncpg.Connection, serial: str) -> asyncpg.Record:
    county = county_of_serial(serial)
    award = await q.award_by_serial(conn, county, serial) if county else None
    if award is None:
        raise not_found("证书")
    return award


async def certificate_pdf(
    conn: asyncpg.Connection, principal: Principal, settings: Settings, serial: str
) -> tuple[bytes, str]:
    """The certificate (光荣脱贫证 / 小康光荣证) as a PDF, and its serial; a household gets only its own."""
    award = await _award_by_serial(conn, serial)
    if principal.role == Role.HOUSEHOLD:
        allowed = principal.household_id == str(award["household_id"])
    else:
        allowed = principal.covers_county(award["county_code"])
    if not allowed:
        raise not_found("证书")
    pdf = award_certificate_pdf(
        CertificateData(
            kind=award["kind"],
            holder_name=award["head_name"],  # the household's own paper: named in full
            village_name=award["village_name"] or "",
            year=award["year"],
            amount_fen=award["amount_fen"],
            serial=award["serial"],
            verify_url=f"{settings.public_base_url.rstrip('/')}/p/verify/{award['serial']}",
            issuing_county=f"{award['county_name'] or ''}人民政府",
            issued_on=award["granted_on"],
        )
    )
    return pdf, str(award["serial"])


async def verify_certificate(conn: asyncpg.Connection, serial: str) -> VerifyOut:
    """What anyone may read of a certificate to check it is real; an unknown serial is not found."""
    award = await _award_by_serial(conn, serial)
    return VerifyOut(
        serial=award["serial"],
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
