"""From the register to a plan, and from a plan to the books (利润分配 / 盈余分配).

The rules themselves are pure (service/domain/distribution.py); this module gathers their inputs
from the register, member accounts and the ledger of earlier years, and turns a plan into one
journal entry and the payables it creates. The API, the CLI and the benchmark all use it.

Posting, company (enterprise chart; debit +, credit −):
    close the year's profit   Dr 4103 本年利润       / Cr 4104 利润分配      (a loss: the reverse)
    statutory reserve         Dr 4104                / Cr 410101 法定盈余公积
    discretionary reserve     Dr 4104                / Cr 410102 任意盈余公积
    each line                 Dr 4104                / Cr 2232 应付股利 (party: household or member)
Cooperative (财会〔2021〕37号): 331 本年盈余 / 332 盈余分配 / 322 盈余公积, patronage lines credit
221 应付盈余返还, all other lines 222 应付剩余盈余.
Preferred arrears owed are a memorandum pair 9101/9102 per member, so they too live in the ledger:
the balance of 4104 (332) carries losses forward, 410101 (322) the reserve, 9101 the arrears.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import msgspec

from db import ledger
from db import ventures as vq
from db.ledger import AccountSpec, EntryDraft, Line, NewPayable
from schemas.ventures import Charter as CharterIn
from service.domain.distribution import (
    CarriedState, Charter, HolderInput, MemberAccountInput, Plan, company_plan, cooperative_plan,
)
from service.domain.holdings import ShareMovement, holdings_as_of, prorated_floor_fen, year_weights
from service.domain.money import percent_of

ARREARS_MEMO, ARREARS_CONTRA = "9101", "9102"

COMPANY_ACCOUNTS = {
    "bank": ("1002", "银行存款"), "profit": ("4103", "本年利润"), "appropriation": ("4104", "利润分配"),
    "statutory": ("410101", "法定盈余公积"), "discretionary": ("410102", "任意盈余公积"),
    "payable": ("2232", "应付股利"), "arrears": (ARREARS_MEMO, "优先股欠付保底（备查）"),
    "arrears_contra": (ARREARS_CONTRA, "欠付保底备查对应"),
}
COOPERATIVE_ACCOUNTS = {
    "bank": ("102", "银行存款"), "profit": ("331", "本年盈余"), "appropriation": ("332", "盈余分配"),
    "statutory": ("322", "盈余公积"), "discretionary": ("322", "盈余公积"),
    "patronage_payable": ("221", "应付盈余返还"), "payable": ("222", "应付剩余盈余"),
    "arrears": (ARREARS_MEMO, "欠付保底（备查）"), "arrears_contra": (ARREARS_CONTRA, "欠付保底备查对应"),
}


@dataclass(frozen=True)
class Member:
    member_id: str
    household_id: str | None
    name: str
    kind: str


@dataclass(frozen=True)
class VentureFacts:
    """Everything a plan needs about one venture, read from the database once."""

    venture_id: str
    county_code: str
    village_code: str
    model: str
    registered_capital_fen: int
    record_date_mmdd: str
    charter: Charter
    members: Mapping[str, Member]
    movements: Sequence[ShareMovement]
    # cooperative member accounts: member_id → (capital, reserve share before this year, subsidy share)
    member_accounts: Mapping[str, tuple[int, int, int]]
    volumes: Mapping[str, int]
    carried: CarriedState


def account_keys(model: str) -> dict[str, tuple[str, str]]:
    return COOPERATIVE_ACCOUNTS if model == "cooperative" else COMPANY_ACCOUNTS


def account_specs(venture_id: str, model: str) -> dict[str, AccountSpec]:
    return {k: AccountSpec("venture", venture_id, code, name) for k, (code, name) in account_keys(model).items()}


def record_date(year: int, mmdd: str) -> dt.date:
    month, day = int(mmdd[:2]), int(mmdd[3:])
    if (month, day) == (2, 29) and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        day = 28  # a 29 February record date falls on the 28th in common years
    return dt.date(year, month, day)


def holders_for(facts: VentureFacts, year: int) -> list[HolderInput]:
    charter = facts.charter
    floors = charter.floor_mode != "none"
    holders: list[HolderInput] = []
    if charter.weighting == "share_days":
        for (mid, cls), w in sorted(year_weights(facts.movements, year).items()):
            if w.share_days == 0:
                continue
            m = facts.members[mid]
            floor = prorated_floor_fen(w.capital_days, charter.floor_bp, year) if floors and cls == "poverty" else 0
            holders.append(HolderInput(mid, m.household_id, m.name, cls, w.shares_at_year_end,
                                       w.capital_at_year_end_fen, w.share_days, floor))
    else:
        for (mid, cls), h in sorted(holdings_as_of(facts.movements, record_date(year, facts.record_date_mmdd)).items()):
            if h.shares == 0:
                continue
            m = facts.members[mid]
            floor = percent_of(h.capital_fen, charter.floor_bp) if floors and cls == "poverty" else 0
            holders.append(HolderInput(mid, m.household_id, m.name, cls, h.shares, h.capital_fen, h.shares, floor))
    return holders


def compute_plan(facts: VentureFacts, year: int, profit_fen: int) -> Plan:
    holders = holders_for(facts, year)
    if facts.model == "cooperative":
        accounts = [
            MemberAccountInput(mid, m.household_id, m.name, *facts.member_accounts.get(mid, (0, 0, 0)),
                               facts.volumes.get(mid, 0))
            for mid, m in sorted(facts.members.items())
        ]
        return cooperative_plan(profit_fen, facts.charter, facts.carried, accounts, holders)
    return company_plan(profit_fen, facts.registered_capital_fen, facts.charter, facts.carried, holders)


async def carried_state(conn: asyncpg.Connection, county_code: str, venture_id: str, model: str) -> CarriedState:
    """What earlier years left, read from the ledger rather than taken from anyone's word."""
    specs = account_specs(venture_id, model)
    ids = await ledger.accounts(conn, county_code, [specs["appropriation"], specs["statutory"], specs["arrears"]])
    bal = await ledger.balances(conn, county_code, list(ids.values()))
    appropriation = bal[ids[specs["appropriation"]]]
    reserve = -bal[ids[specs["statutory"]]]
    arrears = await ledger.party_balances(conn, county_code, ids[specs["arrears"]])
    return CarriedState(losses_carried_fen=max(0, appropriation), statutory_reserve_balance_fen=reserve,
                        arrears_by_member={str(k): v for k, v in arrears.items()})


async def load_facts(conn: asyncpg.Connection, venture: asyncpg.Record, year: int) -> VentureFacts:
    vid = venture["id"]
    members = {str(m["id"]): Member(str(m["id"]), str(m["household_id"]) if m["household_id"] else None,
                                    m["name"], m["kind"]) for m in await vq.members(conn, vid)}
    movements = await vq.movements(conn, vid, until=dt.date(year, 12, 31))
    accounts: dict[str, tuple[int, int, int]] = {}
    volumes: dict[str, int] = {}
    if venture["model"] == "cooperative":
        rows = await conn.fetch(
            """SELECT member_id,
                      coalesce(sum(amount_fen) FILTER (WHERE kind = 'capital' AND year <= $2), 0)::bigint AS capital,
                      coalesce(sum(amount_fen) FILTER (WHERE kind = 'reserve' AND year < $2), 0)::bigint AS reserve,
                      coalesce(sum(amount_fen) FILTER (WHERE kind = 'subsidy' AND year <= $2), 0)::bigint AS subsidy
               FROM member_account_movements WHERE venture_id = $1 GROUP BY member_id""", vid, year)
        accounts = {str(r["member_id"]): (r["capital"], r["reserve"], r["subsidy"]) for r in rows}
        rows = await conn.fetch(
            """SELECT member_id, sum(amount_fen)::bigint AS volume FROM trades
               WHERE venture_id = $1 AND member_id IS NOT NULL
                 AND traded_on BETWEEN make_date($2, 1, 1) AND make_date($2, 12, 31) GROUP BY member_id""", vid, year)
        volumes = {str(r["member_id"]): r["volume"] for r in rows}
    charter = Charter(**msgspec.structs.asdict(msgspec.convert(venture["charter"], CharterIn)))
    return VentureFacts(
        venture_id=str(vid), county_code=venture["county_code"], village_code=venture["village_code"],
        model=venture["model"], registered_capital_fen=venture["registered_capital_fen"],
        record_date_mmdd=venture["record_date_mmdd"], charter=charter, members=members, movements=movements,
        member_accounts=accounts, volumes=volumes,
        carried=await carried_state(conn, venture["county_code"], str(vid), venture["model"]),
    )


def posting_for(distribution_id: uuid.UUID, facts: VentureFacts, year: int, profit_fen: int, plan: Plan,
                accounts: Mapping[str, uuid.UUID], posted_on: dt.date) -> tuple[EntryDraft, list[tuple]]:
    """The one journal entry a plan posts, and (line, payable account) pairs for its payables."""
    a = accounts
    lines: list[Line] = []
    if profit_fen:
        lines += [Line(a["profit"], profit_fen), Line(a["appropriation"], -profit_fen)]
    appropriated = 0
    for key, amount in (("statutory", plan.statutory_reserve_fen + (plan.reserve_fen if facts.model == "cooperative" else 0)),
                        ("discretionary", plan.discretionary_reserve_fen)):
        if amount:
            lines.append(Line(a[key], -amount))
            appropriated += amount
    payable_lines: list[tuple] = []
    for pl in plan.lines:
        if pl.amount_fen == 0:
            continue
        key = "patronage_payable" if pl.basis == "patronage" and "patronage_payable" in a else "payable"
        party = uuid.UUID(pl.household_id or pl.member_id)
        lines.append(Line(a[key], -pl.amount_fen, party))
        appropriated += pl.amount_fen
        if pl.household_id:
            payable_lines.append((pl, a[key]))
    if appropriated:
        lines.append(Line(a["appropriation"], appropriated))
    old = facts.carried.arrears_by_member
    new = plan.carried.arrears_by_member
    for mid in sorted(set(old) | set(new)):
        delta = new.get(mid, 0) - old.get(mid, 0)
        if delta:
            lines += [Line(a["arrears"], delta, uuid.UUID(mid)), Line(a["arrears_contra"], -delta, uuid.UUID(mid))]
    entry = EntryDraft(source_type="distribution", source_id=str(distribution_id),
                       idempotency_key=f"distribution:{distribution_id}", posted_on=posted_on,
                       memo=f"{year} 年度{'盈余' if facts.model == 'cooperative' else '利润'}分配", lines=lines)
    return entry, payable_lines


def payables_for(distribution_id: uuid.UUID, facts: VentureFacts, entry_id: uuid.UUID,
                 payable_lines: list[tuple], bank_account: uuid.UUID, villages: Mapping[str, str]) -> list[NewPayable]:
    return [
        NewPayable(household_id=uuid.UUID(pl.household_id), source="distribution", source_id=str(distribution_id),
                   source_ref=f"{pl.member_id}:{pl.basis}", amount_fen=pl.amount_fen, explanation=pl.explanation,
                   entry_id=entry_id, payable_account_id=account_id, paying_account_id=bank_account,
                   village_code=villages.get(pl.household_id), venture_id=uuid.UUID(facts.venture_id))
        for pl, account_id in payable_lines
    ]


def waterfall_of(plan: Plan) -> dict[str, int]:
    return {
        "losses_covered_fen": plan.losses_covered_fen, "loss_added_fen": plan.loss_added_fen,
        "statutory_reserve_fen": plan.statutory_reserve_fen,
        "discretionary_reserve_fen": plan.discretionary_reserve_fen, "reserve_fen": plan.reserve_fen,
        "distributable_fen": plan.distributable_fen, "patronage_fen": plan.patronage_fen,
        "floor_paid_fen": plan.floor_paid_fen, "floor_expense_fen": plan.floor_expense_fen,
        "arrears_paid_fen": plan.arrears_paid_fen, "arrears_fen": plan.arrears_fen,
        "undistributed_fen": plan.undistributed_fen,
    }


def carried_json(c: CarriedState) -> dict:
    return {"losses_carried_fen": c.losses_carried_fen,
            "statutory_reserve_balance_fen": c.statutory_reserve_balance_fen,
            "arrears_by_member": dict(sorted(c.arrears_by_member.items()))}
