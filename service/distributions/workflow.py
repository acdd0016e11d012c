"""The use cases of a distribution plan (收益分配方案): draft → submit → approve (公示) → post → reverse.

Each runs in the caller's transaction, checks the caller's access through service.core.policy, and
answers with the wire Structs of schemas/distributions.py. The API, the CLI (`distribute`) and the
benchmark call these functions; the arithmetic is service/distributions/rules.py, the queries
db/distributions.py.

A rule's bug (ConservationError, or any other error the rules raise on facts the service itself
gathered) is not the user's to act on: it is left to surface as a 500 with a short detail and a log
line. Only a genuine input problem (a year or profit out of range, a year before one already
posted) is a 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from msgspec.structs import replace as replace_struct

from db import distributions as q
from db import ledger
from db import ventures as ventures_q
from schemas.common import Page
from schemas.distributions import DistributionCreate, DistributionLine, DistributionOut, IncomeStatement, Waterfall
from service.core.audit import Actor, record
from service.core.errors import conflict, forbidden, invalid_field, not_found
from service.core.hooks import ObjectionHooks
from service.core.pagination import Int4, checked_limit, decode_cursor, page_of
from service.core.policy import can_read_venture, distribution_for, venture_for
from service.core.principal import Principal, Role, county_of, region_prefix
from service.core.settings import Settings
from service.distributions import rules
from service.distributions.rules import STATUS_WORDS, PayableLine, Plan, VentureFacts
from service.ledger.rules import EntryDraft, NewPayable
from service.notices.workflow import open_notice, open_objections_for
from service.reports.rules import IncomeFigures, check_income_statement

Progress = Callable[[str, int], None]  # (stage, count): "facts" (members read), "lines" (lines written)


def distribution_out(row: asyncpg.Record, payables_created: int = 0) -> DistributionOut:
    return DistributionOut(
        id=str(row["id"]),
        venture_id=str(row["venture_id"]),
        fiscal_year=row["fiscal_year"],
        profit_fen=row["profit_fen"],
        status=row["status"],
        waterfall=msgspec.convert(row["waterfall"], Waterfall),
        carried_in=row["carried_in"],
        carried_out=row["carried_out"],
        lines_total=row["lines_count"],
        lines_total_fen=row["lines_total_fen"],
        payables_created=payables_created,
        notice_id=str(row["notice_id"]) if row["notice_id"] else None,
        notice_ends_on=row["notice_ends_on"],
        entry_id=str(row["entry_id"]) if row["entry_id"] else None,
        reversal_entry_id=str(row["reversal_entry_id"]) if row["reversal_entry_id"] else None,
    )


def notice_days_for(model: str, settings: Settings) -> int:
    """The least 公示 period of a plan: a cooperative's plan 15 days (art. 40), a company's funds 10."""
    return rules.notice_days_for(model, settings.notice_days_cooperative_plan, settings.notice_days_fund)


# ---- draft ------------------------------------------------------------------------------------


def _check_request(fiscal_year: int, profit_fen: int) -> None:
    """The bounds the API's schema declares, for callers that do not come through it (the CLI)."""
    try:
        msgspec.convert({"fiscal_year": fiscal_year, "profit_fen": profit_fen}, DistributionCreate)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = "fiscal_year" if "fiscal_year" in message else "profit_fen"
        raise invalid_field(field, f"{field}: {message}") from None


async def draft_distribution(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    venture_id: str,
    fiscal_year: int,
    profit_fen: int,
    *,
    progress: Progress | None = None,
    income_statement: IncomeStatement | None = None,
) -> DistributionOut:
    """Compute the year's plan from the register and store it as a draft, replacing an earlier
    draft of the same year; audited as distribution.draft. The income-statement figures entered
    with the profit (lines 1–11 of 会农社02表), when given, must yield it as line 12, and are kept
    with the plan."""
    _check_request(fiscal_year, profit_fen)
    if income_statement is not None:
        check_income_statement(income_figures(income_statement), profit_fen)
    venture = await venture_for(conn, principal, venture_id, write=True, for_update=True)
    facts = await q.load_facts(conn, venture, fiscal_year)
    if progress:
        progress("facts", len(facts.members))
    plan = rules.compute_plan(facts, fiscal_year, profit_fen)  # a failure here is a bug: a 500
    await _make_room_for_draft(conn, venture, fiscal_year)
    row = await _store_draft(conn, venture, facts, fiscal_year, profit_fen, plan, actor.name)
    if progress:
        progress("lines", row["lines_count"])
    if income_statement is not None:
        await q.insert_income_statement(
            conn, venture["county_code"], row["id"], msgspec.structs.asdict(income_statement), actor.name
        )
    await record(
        conn,
        actor,
        county_code=venture["county_code"],
        action="distribution.draft",
        object_type="distribution",
        object_id=str(row["id"]),
        after={
            "profit_fen": profit_fen,
            "waterfall": row["waterfall"],
            "lines_total_fen": row["lines_total_fen"],
            "income_statement": msgspec.to_builtins(income_statement),
        },
    )
    return replace_struct(distribution_out(row), income_statement=income_statement)


def income_figures(statement: IncomeStatement) -> IncomeFigures:
    return IncomeFigures(**msgspec.structs.asdict(statement))


async def _make_room_for_draft(conn: asyncpg.Connection, venture: asyncpg.Record, year: int) -> None:
    """Only a draft may be recomputed, and never for a year before one already posted."""
    existing = await q.open_plan_for_update(conn, venture["county_code"], venture["id"], year)
    if existing and existing["status"] != "draft":
        raise conflict("distribution-exists", f"{year} 年度的分配方案已{STATUS_WORDS[existing['status']]}，不能重算")
    later = await q.later_posted_year(conn, venture["id"], year)
    if later:
        raise invalid_field("fiscal_year", f"{later} 年度已入账，不能再为更早的 {year} 年度分配")
    if existing:
        await q.delete_plan(conn, venture["county_code"], existing["id"])


async def _store_draft(
    conn: asyncpg.Connection,
    venture: asyncpg.Record,
    facts: VentureFacts,
    year: int,
    profit_fen: int,
    plan: Plan,
    created_by: str,
) -> asyncpg.Record:
    """The plan row and its lines (COPY); lines of zero fen are not stored."""
    distribution_id = uuid.uuid4()
    lines = [line for line in plan.lines if line.amount_fen]
    row = await q.insert_plan(
        conn,
        county_code=venture["county_code"],
        distribution_id=distribution_id,
        venture_id=venture["id"],
        year=year,
        profit_fen=profit_fen,
        waterfall=rules.waterfall_of(plan),
        carried_in=rules.carried_json(facts.carried),
        carried_out=rules.carried_json(plan.carried),
        reserve_quantified=plan.reserve_quantified,
        lines_count=len(lines),
        lines_total_fen=sum(line.amount_fen for line in lines),
        created_by=created_by,
    )
    await q.copy_lines(conn, q.line_records(venture["county_code"], distribution_id, facts, lines))
    return row


# ---- read -------------------------------------------------------------------------------------


async def get_distribution(conn: asyncpg.Connection, principal: Principal, distribution_id: str) -> DistributionOut:
    row, _ = await distribution_for(conn, principal, distribution_id)
    out = await _with_payables(conn, row)
    figures = await q.income_statement(conn, row["county_code"], row["id"])
    return replace_struct(out, income_statement=msgspec.convert(figures, IncomeStatement) if figures else None)


async def _with_payables(conn: asyncpg.Connection, row: asyncpg.Record) -> DistributionOut:
    """The plan as it stands, with the payables its posting created (none before it is posted)."""
    if row["status"] not in ("posted", "reversed"):
        return distribution_out(row)
    return distribution_out(row, await q.payables_created(conn, row["county_code"], row["id"]))


async def distribution_lines(
    conn: asyncpg.Connection, principal: Principal, distribution_id: str, limit: int, cursor: str | None
) -> Page[DistributionLine]:
    """One page of a plan's lines, in line order."""
    row, _ = await distribution_for(conn, principal, distribution_id)
    after = decode_cursor(cursor, Int4)
    rows = await q.lines_page(conn, row["county_code"], row["id"], after[0] if after else 0, limit + 1)
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["line_no"]])
    return Page(
        [
            DistributionLine(
                r["line_no"],
                str(r["member_id"]),
                str(r["household_id"]) if r["household_id"] else None,
                r["basis"],
                r["weight"],
                r["amount_fen"],
                r["explanation"],
            )
            for r in page
        ],
        next_cursor,
    )


async def _locked(conn: asyncpg.Connection, row: asyncpg.Record) -> asyncpg.Record:
    """The plan as it stands now, locked; gone if a new draft replaced it meanwhile."""
    current = await q.locked(conn, row["county_code"], row["id"])
    if current is None:
        raise not_found("分配方案")
    return current


# ---- submit, approve --------------------------------------------------------------------------


async def submit_distribution(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, distribution_id: str
) -> DistributionOut:
    """draft → submitted, by the venture's accountant; audited as distribution.submitted."""
    row, venture = await distribution_for(conn, principal, distribution_id)
    if not principal.covers_venture(str(venture["id"])):
        raise forbidden("只有本经营主体的会计可以提交")
    updated = await q.mark_submitted(conn, row["county_code"], row["id"], actor.name)
    if updated is None:
        current = await q.status(conn, row["county_code"], row["id"])
        if current is None:  # replaced by a new draft meanwhile
            raise not_found("分配方案")
        raise conflict("distribution-status", f"方案当前{STATUS_WORDS[current]}，不能提交")
    await record(
        conn,
        actor,
        county_code=row["county_code"],
        action="distribution.submitted",
        object_type="distribution",
        object_id=str(row["id"]),
        before={"status": "draft"},
        after={"status": "submitted"},
    )
    return distribution_out(updated)


async def approve_distribution(
    conn: asyncpg.Connection,
    actor: Actor,
    principal: Principal,
    distribution_id: str,
    notice_days: int | None,
    settings: Settings,
    today: dt.date,
) -> DistributionOut:
    """submitted → in_notice, by a township approver who did not submit it: publishes the 公示 of
    what each household gets, for at least the least period of the venture's kind. A plan with no
    household line (a loss year, a year with nothing to distribute) is noticed all the same: the
    public sees the plan, and the year is posted only after its notice."""
    row, venture = await distribution_for(conn, principal, distribution_id)
    if principal.role == Role.TOWNSHIP_APPROVER and not principal.covers_region(venture["village_code"]):
        raise not_found("分配方案")
    if row["submitted_by"] == actor.name:
        raise forbidden("审批人不能是提交人")
    minimum = notice_days_for(venture["model"], settings)
    days = notice_days or minimum
    if days < minimum:
        raise invalid_field("notice_days", f"公示期不得少于 {minimum} 天")
    current = await _locked(conn, row)
    if current["status"] != "submitted":
        raise conflict("distribution-status", f"方案当前{STATUS_WORDS[current['status']]}，不能审批")
    subjects = await q.household_totals(conn, row["county_code"], row["id"])
    notice = await open_notice(
        conn,
        actor,
        county_code=row["county_code"],
        kind="distribution",
        source_id=str(row["id"]),
        title=f"{venture['name']} {row['fiscal_year']} 年度分配方案公示",
        subjects=[(str(s["household_id"]), s["household_id"], s["amount"]) for s in subjects],
        days=days,
        today=today,
    )
    updated = await q.mark_in_notice(conn, row["county_code"], row["id"], actor.name, notice["id"], notice["ends_on"])
    await record(
        conn,
        actor,
        county_code=row["county_code"],
        action="distribution.approve",
        object_type="distribution",
        object_id=str(row["id"]),
        before={"status": "submitted"},
        after={"status": "in_notice", "notice_id": str(notice["id"])},
    )
    return distribution_out(updated)


# ---- post -------------------------------------------------------------------------------------


async def post_distribution(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, distribution_id: str, today: dt.date
) -> DistributionOut:
    """in_notice → posted, once the 公示 has ended with no open objection: one journal entry, a
    payable per household line, and (cooperatives) the reserve quantified into member accounts."""
    row, venture = await distribution_for(conn, principal, distribution_id)
    if not principal.covers_venture(str(venture["id"])):
        raise forbidden("只有本经营主体的会计可以入账")
    locked_venture = await ventures_q.venture(conn, str(venture["id"]), for_update=True)
    if locked_venture is None:
        raise not_found("分配方案")
    current = await _locked(conn, row)
    await _check_postable(conn, current, today)
    entry_id, payables = await _write_books(conn, current, locked_venture, today)
    updated = await q.mark_posted(conn, row["county_code"], row["id"], entry_id)
    await record(
        conn,
        actor,
        county_code=row["county_code"],
        action="distribution.post",
        object_type="distribution",
        object_id=str(row["id"]),
        after={"entry_id": str(entry_id), "payables": payables},
    )
    return distribution_out(updated, payables)


async def _check_postable(conn: asyncpg.Connection, current: asyncpg.Record, today: dt.date) -> None:
    if current["status"] != "in_notice":
        raise conflict("distribution-status", f"方案当前{STATUS_WORDS[current['status']]}，不能入账")
    if today <= current["notice_ends_on"]:
        raise conflict("notice-not-ended", f"公示期至 {current['notice_ends_on']} 结束，届满后才能入账")
    objections = await open_objections_for(conn, current["notice_id"])
    if objections:
        raise conflict("open-objection", f"公示期内有 {len(objections)} 条异议尚未处理，处理后才能入账")


async def _write_books(
    conn: asyncpg.Connection, row: asyncpg.Record, venture: asyncpg.Record, posted_on: dt.date
) -> tuple[uuid.UUID | None, int]:
    """Write the plan's journal entry and one payable per household line; the plan is recomputed
    from today's facts and must be the one approved, to the fen."""
    facts = await q.load_facts(conn, venture, row["fiscal_year"])
    if rules.carried_json(facts.carried) != row["carried_in"]:
        raise conflict("distribution-stale", "往年结转数据在方案编制后发生了变化，请重新计算方案")
    plan = rules.compute_plan(facts, row["fiscal_year"], row["profit_fen"])
    stored = await q.stored_line_keys(conn, row["county_code"], row["id"])
    if rules.line_keys(stored) != rules.plan_line_keys(plan):
        raise conflict("distribution-stale", "股权或成员账户在方案编制后发生了变化，请重新计算方案")
    planned = Planned(row["id"], facts, row["fiscal_year"], row["profit_fen"], plan)
    (posting,) = await postings_for(conn, venture["county_code"], [planned], posted_on)
    entry_id = None
    if len([line for line in posting.entry.lines if line.amount_fen]) >= 2:
        (entry_id,) = await ledger.post_entries(conn, venture["county_code"], [posting.entry])
    households = [facts.uuid(pl.household_id) for pl, _ in posting.payable_lines if pl.household_id]
    villages = await q.household_villages(conn, households)
    payables = posting.payables(entry_id, villages) if entry_id else []
    await ledger.create_payables(conn, venture["county_code"], payables)
    if venture["model"] == "cooperative" and plan.reserve_quantified:
        await q.copy_reserve_shares(
            conn, venture["county_code"], venture["id"], row["fiscal_year"], row["id"], plan.reserve_quantified
        )
    return entry_id, len(payables)


# ---- plans and postings in bulk (a province run, the benchmark) ---------------------------------


@dataclass(frozen=True)
class Planned:
    """A plan computed for one venture and year, with the facts it was computed from."""

    distribution_id: uuid.UUID
    facts: VentureFacts
    year: int
    profit_fen: int
    plan: Plan


@dataclass(frozen=True)
class Posting:
    """What posting one plan writes: its journal entry and the household lines that become payables."""

    planned: Planned
    entry: EntryDraft
    payable_lines: Sequence[PayableLine]
    bank_account: uuid.UUID

    def payables(self, entry_id: uuid.UUID, villages: Mapping[str, str]) -> list[NewPayable]:
        p = self.planned
        return rules.payables_for(p.distribution_id, p.facts, entry_id, self.payable_lines, self.bank_account, villages)


async def plan_many(
    conn: asyncpg.Connection,
    principal: Principal,
    venture_ids: Sequence[uuid.UUID],
    year: int,
    profits: Mapping[uuid.UUID, int],
) -> list[Planned]:
    """The plans of many ventures for one year, their facts read in a handful of queries, in
    county then venture order; nothing is written. Each gets a fresh distribution id."""
    ventures = await q.ventures_by_ids(conn, venture_ids)
    if len(ventures) != len(set(venture_ids)) or not all(can_read_venture(principal, v) for v in ventures):
        raise not_found("经营主体")
    planned = []
    for v, facts in zip(ventures, await q.load_facts_many(conn, ventures, year), strict=True):
        profit = profits[v["id"]]
        planned.append(Planned(uuid.uuid4(), facts, year, profit, rules.compute_plan(facts, year, profit)))
    return planned


async def postings_for(
    conn: asyncpg.Connection, county_code: str, planned: Sequence[Planned], posted_on: dt.date
) -> list[Posting]:
    """The entries (and payable lines) of plans of one county, with their accounts got or created
    in one round trip."""
    specs = {p.facts.venture_id: rules.account_specs(p.facts.venture_id, p.facts.model) for p in planned}
    ids = await ledger.accounts(conn, county_code, [s for by_key in specs.values() for s in by_key.values()])
    postings = []
    for p in planned:
        accounts = {key: ids[spec] for key, spec in specs[p.facts.venture_id].items()}
        entry, payable_lines = rules.posting_for(
            p.distribution_id, p.facts, p.year, p.profit_fen, p.plan, accounts, posted_on
        )
        postings.append(Posting(p, entry, payable_lines, accounts["bank"]))
    return postings


# ---- reverse ----------------------------------------------------------------------------------


async def reverse_distribution(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, distribution_id: str, today: dt.date
) -> DistributionOut:
    """posted → reversed: a reversing entry, the unpaid payables cancelled, the reserve shares taken
    back; refused while any payable is in payment or a later year is posted."""
    row, venture = await distribution_for(conn, principal, distribution_id)
    if not principal.covers_venture(str(venture["id"])):
        raise forbidden("只有本经营主体的会计可以冲销")
    current = await _locked(conn, row)
    await _check_reversible(conn, current)
    reversal = None
    if current["entry_id"]:
        reversal = await ledger.reverse_entry(
            conn,
            row["county_code"],
            current["entry_id"],
            memo=f"冲销 {current['fiscal_year']} 年度分配",
            posted_on=today,
        )
    cancelled = await ledger.cancel_unpaid_payables(conn, row["county_code"], "distribution", str(row["id"]))
    if current["reserve_quantified"]:
        await q.reverse_reserve_shares(
            conn,
            row["county_code"],
            current["venture_id"],
            current["fiscal_year"],
            row["id"],
            current["reserve_quantified"],
        )
    updated = await q.mark_reversed(conn, row["county_code"], row["id"], reversal)
    await record(
        conn,
        actor,
        county_code=row["county_code"],
        action="distribution.reverse",
        object_type="distribution",
        object_id=str(row["id"]),
        after={"reversal_entry_id": str(reversal) if reversal else None, "payables_cancelled": cancelled},
    )
    return await _with_payables(conn, updated)


async def _check_reversible(conn: asyncpg.Connection, current: asyncpg.Record) -> None:
    if current["status"] != "posted":
        raise conflict("distribution-status", f"方案当前{STATUS_WORDS[current['status']]}，只有已入账的方案可以冲销")
    moving = await q.payables_in_payment(conn, current["county_code"], current["id"])
    if moving:
        raise conflict("payables-in-payment", f"有 {moving} 笔应付款已在付款批次中或已支付，不能整体冲销")
    later = await q.later_posted_year(conn, current["venture_id"], current["fiscal_year"])
    if later:
        raise conflict("later-year-posted", f"{later} 年度已入账，需先冲销以后年度")


# ---- objections on the plan's notice (wired in service/app.py) ----------------------------------


async def objection_filed(conn: asyncpg.Connection, actor: Actor, objection: Any) -> None:
    """An open objection blocks `post` (checked there); nothing else changes until it is resolved."""


async def objection_resolved(conn: asyncpg.Connection, actor: Actor, objection: Any, upheld: bool, reason: str) -> None:
    """An upheld objection sends the plan back to draft: it must be corrected and approved again."""
    if not upheld:
        return
    source = await q.notice_source(conn, objection["county_code"], objection["notice_id"])
    await q.back_to_draft(conn, objection["county_code"], source)
    await record(
        conn,
        actor,
        county_code=objection["county_code"],
        action="distribution.objection_upheld",
        object_type="distribution",
        object_id=str(source),
        after={"status": "draft", "reason": reason},
    )


DISTRIBUTION_OBJECTION_HOOKS = ObjectionHooks(filed=objection_filed, resolved=objection_resolved)


# ---- lists and the township's return (the console, API.md "Lists the console and clients need") ---


async def list_venture_distributions(
    conn: asyncpg.Connection, principal: Principal, venture_id: str, *, limit: int = 100, cursor: str | None = None
) -> Page[DistributionOut]:
    """A venture's plans, the latest year first."""
    venture = await venture_for(conn, principal, venture_id)
    after = decode_cursor(cursor, Int4, str)
    rows = await q.venture_plans_page(
        conn, venture["id"], after=(after[0], after[1]) if after else None, limit=checked_limit(limit) + 1
    )
    page, next_cursor = page_of(list(rows), limit, lambda r: [r["fiscal_year"], str(r["id"])])
    return Page([distribution_out(r) for r in page], next_cursor)


@dataclass(frozen=True)
class AwaitingApproval:
    """A submitted plan in a township approver's queue (待审批)."""

    plan: DistributionOut
    venture_name: str


async def awaiting_approval(conn: asyncpg.Connection, principal: Principal, limit: int = 200) -> list[AwaitingApproval]:
    """The plans submitted in the caller's region, oldest first (the admin sees every region's)."""
    if principal.role not in (Role.TOWNSHIP_APPROVER, Role.ADMIN):
        return []
    region = principal.region_code
    if principal.is_admin:
        rows = await q.submitted_in_region(conn, None, "", limit)
    elif region:
        rows = await q.submitted_in_region(conn, county_of(region), region_prefix(region), limit)
    else:
        return []
    return [AwaitingApproval(distribution_out(r), r["venture_name"]) for r in rows]


async def return_distribution(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, distribution_id: str, reason: str
) -> DistributionOut:
    """submitted → draft (退回), by a township approver of the venture's region, with the reason
    the accountant reads; audited as distribution.returned."""
    row, venture = await distribution_for(conn, principal, distribution_id)
    if principal.role not in (Role.TOWNSHIP_APPROVER, Role.ADMIN) or not principal.covers_region(
        venture["village_code"]
    ):
        raise forbidden("只有本乡镇的审批人可以退回")
    if not reason.strip():
        raise invalid_field("reason", "请写明退回的理由")
    updated = await q.mark_returned(conn, row["county_code"], row["id"])
    if updated is None:
        current = await q.status(conn, row["county_code"], row["id"])
        if current is None:
            raise not_found("分配方案")
        raise conflict("distribution-status", f"方案当前{STATUS_WORDS[current]}，不能退回")
    await record(
        conn,
        actor,
        county_code=row["county_code"],
        action="distribution.returned",
        object_type="distribution",
        object_id=str(row["id"]),
        before={"status": "submitted"},
        after={"status": "draft"},
        detail={"reason": reason.strip()},
    )
    return distribution_out(updated)


async def plan_remarks(conn: asyncpg.Connection, principal: Principal, distribution_id: str) -> list[tuple[str, str]]:
    """Why a plan was returned or reversed, newest first: (what, reason) as the audit log keeps them."""
    row, _ = await distribution_for(conn, principal, distribution_id)
    words = {"distribution.returned": "乡镇退回", "distribution.reverse_reason": "冲销"}
    return [(words[r["action"]], r["reason"]) for r in await q.plan_remarks(conn, row["county_code"], str(row["id"]))]


async def reverse_distribution_for(
    conn: asyncpg.Connection, actor: Actor, principal: Principal, distribution_id: str, today: dt.date, reason: str
) -> DistributionOut:
    """reverse_distribution with the reason the accountant gives (冲销原因), kept in the audit log."""
    if not reason.strip():
        raise invalid_field("reason", "请写明冲销的原因")
    out = await reverse_distribution(conn, actor, principal, distribution_id, today)
    await record(
        conn,
        actor,
        county_code=(await distribution_for(conn, principal, distribution_id))[0]["county_code"],
        action="distribution.reverse_reason",
        object_type="distribution",
        object_id=out.id,
        detail={"reason": reason.strip()},
    )
    return out
