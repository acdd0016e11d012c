"""From the register to a plan, and from a plan to the books (利润分配 / 盈余分配).

The rules themselves are pure (service/distributions/rules.py); this module gathers their inputs
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

import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import msgspec

from db import ventures as vq
from schemas.ventures import Charter as CharterIn
from service.core.money import percent_of
from service.distributions.rules import (
    CarriedState,
    Charter,
    HolderInput,
    MemberAccountInput,
    Plan,
    company_plan,
    cooperative_plan,
)
from service.ledger.rules import AccountSpec, EntryDraft, Line, NewPayable
from service.ventures.rules import ShareMovement, holdings_as_of, prorated_floor_fen, year_weights

ARREARS_MEMO, ARREARS_CONTRA = "9101", "9102"
LINE_COLUMNS = [
    "county_code",
    "distribution_id",
    "line_no",
    "member_id",
    "household_id",
    "basis",
    "weight",
    "amount_fen",
    "explanation",
]

COMPANY_ACCOUNTS = {
    "bank": ("1002", "银行存款"),
    "profit": ("4103", "本年利润"),
    "appropriation": ("4104", "利润分配"),
    "statutory": ("410101", "法定盈余公积"),
    "discretionary": ("410102", "任意盈余公积"),
    "payable": ("2232", "应付股利"),
    "arrears": (ARREARS_MEMO, "优先股欠付保底（备查）"),
    "arrears_contra": (ARREARS_CONTRA, "欠付保底备查对应"),
}
COOPERATIVE_ACCOUNTS = {
    "bank": ("102", "银行存款"),
    "profit": ("331", "本年盈余"),
    "appropriation": ("332", "盈余分配"),
    "statutory": ("322", "盈余公积"),
    "discretionary": ("322", "盈余公积"),
    "patronage_payable": ("221", "应付盈余返还"),
    "payable": ("222", "应付剩余盈余"),
    "arrears": (ARREARS_MEMO, "欠付保底（备查）"),
    "arrears_contra": (ARREARS_CONTRA, "欠付保底备查对应"),
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
    # the UUID of every member and household id above, so posting a million lines parses none
    ids: Mapping[str, uuid.UUID] = dataclasses.field(default_factory=dict)

    def uuid(self, key: str) -> uuid.UUID:
        found = self.ids.get(key)
        return found if found is not None else uuid.UUID(key)


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
            holders.append(
                HolderInput(
                    mid,
                    m.household_id,
                    m.name,
                    cls,
                    w.shares_at_year_end,
                    w.capital_at_year_end_fen,
                    w.share_days,
                    floor,
                )
            )
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
            MemberAccountInput(
                mid, m.household_id, m.name, *facts.member_accounts.get(mid, (0, 0, 0)), facts.volumes.get(mid, 0)
            )
            for mid, m in sorted(facts.members.items())
        ]
        return cooperative_plan(profit_fen, facts.charter, facts.carried, accounts, holders)
    return company_plan(profit_fen, facts.registered_capital_fen, facts.charter, facts.carried, holders)


async def carried_states(conn: asyncpg.Connection, ventures: Sequence[asyncpg.Record]) -> dict[str, CarriedState]:
    """What earlier years left each venture, read from the ledger rather than taken from anyone's word:
    the debit balance of 4104 (332) is the loss carried forward, 410101 (322) the reserve, 9101 the
    arrears owed per member."""
    out: dict[str, CarriedState] = {}
    by_county: dict[str, list[asyncpg.Record]] = {}
    for v in ventures:
        by_county.setdefault(v["county_code"], []).append(v)
    for county, vs in by_county.items():
        wanted = {str(v["id"]): account_specs(str(v["id"]), v["model"]) for v in vs}
        rows = await conn.fetch(
            """SELECT a.owner_id, a.code, a.id, coalesce(b.balance_fen, 0) AS balance
               FROM accounts a LEFT JOIN account_balances b ON b.county_code = a.county_code AND b.account_id = a.id
               WHERE a.county_code = $1 AND a.owner_type = 'venture' AND a.owner_id = ANY($2::text[])
                 AND a.code = ANY($3::text[])""",
            county,
            list(wanted),
            ["4104", "332", "410101", "322", ARREARS_MEMO],
        )
        balance = {(r["owner_id"], r["code"]): r["balance"] for r in rows}
        arrears_ids = {r["id"]: r["owner_id"] for r in rows if r["code"] == ARREARS_MEMO}
        arrears: dict[str, dict[str, int]] = {}
        if arrears_ids:
            for r in await conn.fetch(
                """SELECT account_id, party_id, sum(amount_fen)::bigint AS balance FROM journal_lines
                       WHERE county_code = $1 AND account_id = ANY($2::uuid[]) AND party_id IS NOT NULL
                       GROUP BY account_id, party_id HAVING sum(amount_fen) <> 0""",
                county,
                list(arrears_ids),
            ):
                arrears.setdefault(arrears_ids[r["account_id"]], {})[str(r["party_id"])] = r["balance"]
        for vid, specs in wanted.items():
            out[vid] = CarriedState(
                losses_carried_fen=max(0, balance.get((vid, specs["appropriation"].code), 0)),
                statutory_reserve_balance_fen=-balance.get((vid, specs["statutory"].code), 0),
                arrears_by_member=arrears.get(vid, {}),
            )
    return out


async def load_facts_many(
    conn: asyncpg.Connection, ventures: Sequence[asyncpg.Record], year: int
) -> list[VentureFacts]:
    """Facts for many ventures in a handful of queries (a province runs 10,000 ventures at once)."""
    ids = [v["id"] for v in ventures]
    members: dict[uuid.UUID, dict[str, Member]] = {i: {} for i in ids}
    uuids: dict[uuid.UUID, dict[str, uuid.UUID]] = {i: {} for i in ids}
    for m in await conn.fetch(
        "SELECT venture_id, id, household_id, name, kind FROM venture_members WHERE venture_id = ANY($1::uuid[]) "
        "ORDER BY venture_id, member_no",
        ids,
    ):
        mid, hid = str(m["id"]), str(m["household_id"]) if m["household_id"] else None
        members[m["venture_id"]][mid] = Member(mid, hid, m["name"], m["kind"])
        uuids[m["venture_id"]][mid] = m["id"]
        if hid:
            uuids[m["venture_id"]][hid] = m["household_id"]
    movements: dict[uuid.UUID, list[ShareMovement]] = {i: [] for i in ids}
    for r in await conn.fetch(
        """SELECT venture_id, kind, from_member_id, to_member_id, share_class, shares, capital_fen, effective_date
               FROM share_movements WHERE venture_id = ANY($1::uuid[]) AND effective_date <= make_date($2, 12, 31)
               ORDER BY venture_id, effective_date, register_no""",
        ids,
        year,
    ):
        movements[r["venture_id"]].append(vq.to_movement(r))
    coop_ids = [v["id"] for v in ventures if v["model"] == "cooperative"]
    accounts: dict[uuid.UUID, dict[str, tuple[int, int, int]]] = {i: {} for i in ids}
    volumes: dict[uuid.UUID, dict[str, int]] = {i: {} for i in ids}
    if coop_ids:
        for r in await conn.fetch(
            """SELECT venture_id, member_id,
                      coalesce(sum(amount_fen) FILTER (WHERE kind = 'capital' AND year <= $2), 0)::bigint AS capital,
                      coalesce(sum(amount_fen) FILTER (WHERE kind = 'reserve' AND year < $2), 0)::bigint AS reserve,
                      coalesce(sum(amount_fen) FILTER (WHERE kind = 'subsidy' AND year <= $2), 0)::bigint AS subsidy
                   FROM member_account_movements WHERE venture_id = ANY($1::uuid[]) GROUP BY venture_id, member_id""",
            coop_ids,
            year,
        ):
            accounts[r["venture_id"]][str(r["member_id"])] = (r["capital"], r["reserve"], r["subsidy"])
        for r in await conn.fetch(
            """SELECT venture_id, member_id, sum(amount_fen)::bigint AS volume FROM trades
                   WHERE venture_id = ANY($1::uuid[]) AND member_id IS NOT NULL
                     AND traded_on BETWEEN make_date($2, 1, 1) AND make_date($2, 12, 31)
                   GROUP BY venture_id, member_id""",
            coop_ids,
            year,
        ):
            volumes[r["venture_id"]][str(r["member_id"])] = r["volume"]
    carried = await carried_states(conn, ventures)
    facts = []
    for v in ventures:
        charter = Charter(**msgspec.structs.asdict(msgspec.convert(v["charter"], CharterIn)))
        facts.append(
            VentureFacts(
                venture_id=str(v["id"]),
                county_code=v["county_code"],
                village_code=v["village_code"],
                model=v["model"],
                registered_capital_fen=v["registered_capital_fen"],
                record_date_mmdd=v["record_date_mmdd"],
                charter=charter,
                members=members[v["id"]],
                movements=movements[v["id"]],
                member_accounts=accounts[v["id"]],
                volumes=volumes[v["id"]],
                carried=carried[str(v["id"])],
                ids={**uuids[v["id"]], str(v["id"]): v["id"]},
            )
        )
    return facts


async def load_facts(conn: asyncpg.Connection, venture: asyncpg.Record, year: int) -> VentureFacts:
    return (await load_facts_many(conn, [venture], year))[0]


def posting_for(
    distribution_id: uuid.UUID,
    facts: VentureFacts,
    year: int,
    profit_fen: int,
    plan: Plan,
    accounts: Mapping[str, uuid.UUID],
    posted_on: dt.date,
) -> tuple[EntryDraft, list[tuple]]:
    """The one journal entry a plan posts, and (line, payable account) pairs for its payables."""
    a = accounts
    lines: list[Line] = []
    if profit_fen:
        lines += [Line(a["profit"], profit_fen), Line(a["appropriation"], -profit_fen)]
    appropriated = 0
    for key, amount in (
        ("statutory", plan.statutory_reserve_fen + (plan.reserve_fen if facts.model == "cooperative" else 0)),
        ("discretionary", plan.discretionary_reserve_fen),
    ):
        if amount:
            lines.append(Line(a[key], -amount))
            appropriated += amount
    payable_lines: list[tuple] = []
    for pl in plan.lines:
        if pl.amount_fen == 0:
            continue
        key = "patronage_payable" if pl.basis == "patronage" and "patronage_payable" in a else "payable"
        party = facts.uuid(pl.household_id or pl.member_id)
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
            lines += [Line(a["arrears"], delta, facts.uuid(mid)), Line(a["arrears_contra"], -delta, facts.uuid(mid))]
    entry = EntryDraft(
        source_type="distribution",
        source_id=str(distribution_id),
        idempotency_key=f"distribution:{distribution_id}",
        posted_on=posted_on,
        memo=f"{year} 年度{'盈余' if facts.model == 'cooperative' else '利润'}分配",
        lines=lines,
    )
    return entry, payable_lines


def payables_for(
    distribution_id: uuid.UUID,
    facts: VentureFacts,
    entry_id: uuid.UUID,
    payable_lines: list[tuple],
    bank_account: uuid.UUID,
    villages: Mapping[str, str],
) -> list[NewPayable]:
    return [
        NewPayable(
            household_id=facts.uuid(pl.household_id),
            source="distribution",
            source_id=str(distribution_id),
            source_ref=f"{pl.member_id}:{pl.basis}",
            amount_fen=pl.amount_fen,
            explanation=pl.explanation,
            entry_id=entry_id,
            payable_account_id=account_id,
            paying_account_id=bank_account,
            village_code=villages.get(pl.household_id, facts.village_code),
            venture_id=facts.uuid(facts.venture_id),
        )
        for pl, account_id in payable_lines
    ]


def waterfall_of(plan: Plan) -> dict[str, int]:
    return {
        "losses_covered_fen": plan.losses_covered_fen,
        "loss_added_fen": plan.loss_added_fen,
        "statutory_reserve_fen": plan.statutory_reserve_fen,
        "discretionary_reserve_fen": plan.discretionary_reserve_fen,
        "reserve_fen": plan.reserve_fen,
        "distributable_fen": plan.distributable_fen,
        "patronage_fen": plan.patronage_fen,
        "floor_paid_fen": plan.floor_paid_fen,
        "floor_expense_fen": plan.floor_expense_fen,
        "arrears_paid_fen": plan.arrears_paid_fen,
        "arrears_fen": plan.arrears_fen,
        "undistributed_fen": plan.undistributed_fen,
    }


def carried_json(c: CarriedState) -> dict:
    return {
        "losses_carried_fen": c.losses_carried_fen,
        "statutory_reserve_balance_fen": c.statutory_reserve_balance_fen,
        "arrears_by_member": dict(sorted(c.arrears_by_member.items())),
    }
