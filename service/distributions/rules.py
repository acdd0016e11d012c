"""Year-end distribution plans (收益分配方案) for companies and cooperatives, as pure functions.

Company (Company Law of the PRC, 2023, art. 210), from the year's after-tax profit in order:
cover losses carried forward (弥补亏损); set aside the statutory reserve (法定公积金) at 10% of what
remains until the reserve balance reaches 50% of registered capital; set aside the discretionary
reserve (任意公积金) the shareholders resolved; distribute the rest by shares held.

Cooperative (Farmers' Professional Cooperatives Law, 2017, art. 40-44): cover losses; set aside
the reserve fund (公积金) and quantify it into each member's account by transaction volume; of the
distributable surplus (可分配盈余) return at least 60% by transaction volume (按交易量/额返还) and the
rest by member account (capital + reserve share + share of subsidy-formed assets). Non-member
trades (art. 41) are the caller's to leave out of `transaction_volume_fen`.

Guaranteed returns on poverty shares (贫困户股保底), by charter.floor_mode:

- `none`: no floor; every share shares alike.
- `fixed` (资产收益保底): an obligation owed whatever the result, and a cost the income statement
  already carries: `profit_fen` is the profit after it, so the waterfall runs on it unchanged
  (nothing is deducted twice). The year's guaranteed returns are lines of their own (basis
  `floor`), owed in a loss year too, posted against the finance-cost account, never against the
  appropriation of profit.
- `preferred`: paid first out of the distributable amount; what it cannot pay becomes arrears,
  cumulative and paid before the year's own floors in later years.
- `minimum`: a poverty holding gets the larger of its floor and its pro-rata share, and the
  final amounts are one largest-remainder split (minimum_split): a holding whose pro-rata share
  of what is left falls below its floor gets its floor and is set aside, until none falls
  below; what is left is split by weight over the holdings not set aside, poverty holdings above
  their floors included. Below the sum of floors, the amount is split in proportion to floors.

A floor belongs to a poor household's holding: poverty shares reclaimed to the village collective
(谁贫困谁享受) and not yet reallocated carry no floor and count as the collective's ordinary shares
(holders_for).

Arrears carried from earlier years are a debt whatever the current mode, so they are always
paid first out of the distributable amount.

Conservation, checked by `assert_conserved` on every plan this module returns:

    distributed = Σ lines − guaranteed
    profit + loss_added = losses_covered + statutory_reserve + discretionary_reserve
                          + reserve + distributed + undistributed
    distributable = distributed + undistributed
    guaranteed = Σ floor lines under `fixed`, else 0

where guaranteed (floor_expense_fen) is the year's `fixed` guaranteed returns: lines and payables
like the others, but a cost of the year rather than a part of its profit. Every term is a
non-negative integer of fen, and a loss year has losses_covered = reserves = distributable =
distributed = 0 (its only lines are the guaranteed returns still owed).

Lines are per member and basis. Lines of zero fen are left out: a payable of nothing helps
nobody, and a preferred floor left unpaid is visible as arrears in the carried state.

The last part of the module goes from a venture's facts (VentureFacts: its register, member
accounts, trades and what earlier years carried, as db/distributions.py reads them) to a plan
(holders_for, compute_plan), and from a plan to the books: the one journal entry it posts
(posting_for), the payables of its household lines (payables_for), and the figures stored with it
(waterfall_of, carried_json).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, TypeVar, cast

from service.core.allocation import allocate
from service.core.money import (
    BP_WHOLE,
    format_bp,
    format_count,
    format_percent,
    format_yuan,
    percent_of,
)
from service.ledger import chart
from service.ledger.rules import AccountSpec, EntryDraft, Line, NewPayable
from service.ventures.charter import (
    MIN_PATRONAGE_BP,
    STATUTORY_RESERVE_BP,
    STATUTORY_RESERVE_CAP_BP,
    Charter,
)
from service.ventures.rules import ShareMovement, holdings_as_of, prorated_floor_fen, year_weights

ShareClass = Literal["ordinary", "poverty"]
Basis = Literal["patronage", "capital", "shares", "floor", "arrears"]


@dataclass(frozen=True)
class CarriedState:
    """What one year hands to the next: losses not yet covered, the statutory reserve balance
    (for a cooperative, the reserve fund balance) and preferred floors still owed per member."""

    losses_carried_fen: int = 0
    statutory_reserve_balance_fen: int = 0
    arrears_by_member: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class HolderInput:
    """One holding (member × share class) as the distribution counts it.

    weight is shares at the record date or share-days, by charter.weighting. floor_base_fen is
    the floor owed for the year before any mode logic (already pro-rated by days under
    share_days); it must be 0 for ordinary shares.
    """

    member_id: str
    household_id: str | None
    member_name: str
    share_class: ShareClass
    shares: int
    capital_fen: int
    weight: int
    floor_base_fen: int = 0


@dataclass(frozen=True)
class MemberAccountInput:
    """A cooperative member's account (成员账户, art. 43) before this year's distribution."""

    member_id: str
    household_id: str | None
    name: str
    capital_fen: int
    reserve_share_fen: int
    subsidy_share_fen: int
    transaction_volume_fen: int


@dataclass(frozen=True)
class PlanLine:
    """An amount owed to one member on one basis. weight is what the amount was split by: shares
    or share-days, transaction volume, member account, the floor owed, or the arrears owed."""

    member_id: str
    household_id: str | None
    basis: Basis
    weight: int
    amount_fen: int
    explanation: str


@dataclass(frozen=True)
class Plan:
    losses_covered_fen: int
    loss_added_fen: int
    statutory_reserve_fen: int
    discretionary_reserve_fen: int
    reserve_fen: int  # the cooperative reserve fund (公积金); 0 for a company
    distributable_fen: int
    patronage_fen: int
    floor_paid_fen: int  # this year's floors paid, in any mode (fixed ones included)
    arrears_fen: int  # preferred arrears still owed after this year
    undistributed_fen: int
    floor_expense_fen: int  # the year's `fixed` guaranteed returns: a cost, not a part of the profit
    arrears_paid_fen: int
    lines: tuple[PlanLine, ...]
    reserve_quantified: Mapping[str, int]
    carried: CarriedState
    floor_mode: str = "none"  # the charter's, which says what the floor lines are

    @property
    def distributed_fen(self) -> int:
        """What the lines take out of the profit: every line but the guaranteed returns."""
        return sum(line.amount_fen for line in self.lines) - self.floor_expense_fen


class ConservationError(AssertionError):
    """A plan does not account for every fen; never expected, always a bug.

    The message says which identity failed and for what profit, never the plan itself (a plan of a
    large register runs to megabytes, and its figures are internal state); the plan stays on the
    exception for whoever debugs it."""

    def __init__(self, message: str, plan: Plan | None = None) -> None:
        super().__init__(message)
        self.plan = plan


def assert_conserved(plan: Plan, profit_fen: int) -> None:
    """Raise ConservationError unless the identities in the module docstring hold to the fen.

    Written with explicit raises rather than `assert` so that running Python with -O cannot turn
    the check off.
    """
    distributed = plan.distributed_fen

    def require(ok: bool, what: str) -> None:
        if not ok:
            raise ConservationError(f"{what} (profit {profit_fen} fen, {len(plan.lines)} lines)", plan)

    require(
        profit_fen + plan.loss_added_fen
        == plan.losses_covered_fen
        + plan.statutory_reserve_fen
        + plan.discretionary_reserve_fen
        + plan.reserve_fen
        + distributed
        + plan.undistributed_fen,
        "profit is not fully accounted for",
    )
    require(
        plan.distributable_fen == distributed + plan.undistributed_fen,
        "distributable amount is not fully accounted for",
    )
    # Under `fixed` every floor line is a guaranteed return, and nothing else is.
    guaranteed = _basis_total(plan.lines, "floor") if plan.floor_mode == "fixed" else 0
    require(plan.floor_expense_fen == guaranteed, "guaranteed returns disagree with the floor lines")
    require(
        plan.floor_paid_fen == _basis_total(plan.lines, "floor"),
        "floor_paid_fen disagrees with lines",
    )
    require(
        plan.arrears_paid_fen == _basis_total(plan.lines, "arrears"),
        "arrears_paid_fen disagrees with lines",
    )
    require(
        plan.arrears_fen == sum(plan.carried.arrears_by_member.values()),
        "arrears_fen disagrees with the carried arrears",
    )
    require(
        not plan.reserve_quantified or sum(plan.reserve_quantified.values()) == plan.reserve_fen,
        "quantified reserve does not sum to the reserve",
    )
    amounts = (
        plan.losses_covered_fen,
        plan.loss_added_fen,
        plan.statutory_reserve_fen,
        plan.discretionary_reserve_fen,
        plan.reserve_fen,
        plan.distributable_fen,
        plan.patronage_fen,
        plan.undistributed_fen,
        plan.floor_expense_fen,
        plan.arrears_fen,
        distributed,
        *(line.amount_fen for line in plan.lines),
        *plan.reserve_quantified.values(),
    )
    require(all(amount >= 0 for amount in amounts), "negative amount in plan")
    if plan.loss_added_fen:
        require(
            plan.losses_covered_fen
            == plan.statutory_reserve_fen
            == plan.discretionary_reserve_fen
            == plan.reserve_fen
            == plan.distributable_fen
            == distributed
            == 0,
            "a loss year set something aside or distributed something",
        )


def _basis_total(lines: Iterable[PlanLine], basis: Basis) -> int:
    return sum(line.amount_fen for line in lines if line.basis == basis)


# --- validation -----------------------------------------------------------------------------


def _check_bp(name: str, bp: int) -> None:
    if not 0 <= bp <= BP_WHOLE:
        raise ValueError(f"{name} must be between 0 and {BP_WHOLE} bp, got {bp}")


def _check_charter(charter: Charter) -> None:
    if charter.weighting not in ("record_date", "share_days"):
        raise ValueError(f"unknown weighting {charter.weighting!r}")
    if charter.floor_mode not in ("none", "fixed", "preferred", "minimum"):
        raise ValueError(f"unknown floor mode {charter.floor_mode!r}")
    for name in ("reserve_bp", "discretionary_bp", "patronage_bp", "floor_bp"):
        _check_bp(name, getattr(charter, name))


def _check_carried(carried: CarriedState) -> None:
    if carried.losses_carried_fen < 0 or carried.statutory_reserve_balance_fen < 0:
        raise ValueError("carried losses and reserve balance must not be negative")
    if any(amount < 0 for amount in carried.arrears_by_member.values()):
        raise ValueError("carried arrears must not be negative")


def _check_holders(holders: Sequence[HolderInput]) -> None:
    seen: set[tuple[str, str]] = set()
    for holder in holders:
        key = (holder.member_id, holder.share_class)
        if holder.share_class not in ("ordinary", "poverty"):
            raise ValueError(f"unknown share class {holder.share_class!r} for {holder.member_id}")
        if key in seen:
            raise ValueError(f"{holder.member_id} has two {holder.share_class} holdings")
        seen.add(key)
        if min(holder.shares, holder.capital_fen, holder.weight, holder.floor_base_fen) < 0:
            raise ValueError(f"negative figure in the holding of {holder.member_id}")
        if holder.share_class == "ordinary" and holder.floor_base_fen:
            raise ValueError(f"ordinary shares of {holder.member_id} carry no floor")


# --- the shared split of a distributable pool -----------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """One claimant on the pool: a holding for a company, a member for a cooperative."""

    key: tuple[str, str]
    member_id: str
    household_id: str | None
    weight: int
    floor_fen: int
    poverty: bool
    capital_fen: int
    shares: int


@dataclass
class _Pending:
    """A line being gathered: a member's holdings of both classes merge into one shares line."""

    member_id: str
    household_id: str | None
    basis: Basis
    weight: int = 0
    amount_fen: int = 0
    pro_rata_fen: int = 0
    shares: int = 0
    owed_fen: int = 0
    capital_fen: int = 0
    note: str = ""


class _Lines:
    def __init__(self) -> None:
        self._pending: dict[tuple[str, Basis], _Pending] = {}

    def add(self, member_id: str, household_id: str | None, basis: Basis, **figures: int | str) -> None:
        pending = self._pending.get((member_id, basis))
        if pending is None:
            pending = self._pending[(member_id, basis)] = _Pending(member_id, household_id, basis)
        for name, value in figures.items():
            if name == "note":
                pending.note = str(value)
            else:
                setattr(pending, name, getattr(pending, name) + value)

    def build(self, explain: Mapping[Basis, Callable[[_Pending], str]]) -> tuple[PlanLine, ...]:
        order = {"arrears": 0, "floor": 1, "patronage": 2, "shares": 3, "capital": 4}
        ready = sorted(self._pending.values(), key=lambda p: (p.member_id, order[p.basis]))
        return tuple(
            PlanLine(p.member_id, p.household_id, p.basis, p.weight, p.amount_fen, explain[p.basis](p))
            for p in ready
            if p.amount_fen
        )


@dataclass
class _PoolResult:
    undistributed_fen: int
    arrears_by_member: dict[str, int]


def _split_by_weight(amount: int, slots: Sequence[_Slot], lines: _Lines, basis: Basis) -> int:
    """Pro-rata split over slots; returns what could not be split (no weight to split it by)."""
    weighted = [(s.key, s.weight) for s in slots if s.weight]
    if not amount or not weighted:
        return amount
    parts = allocate(amount, weighted)
    for slot in slots:
        if slot.weight:
            part = parts[slot.key]
            lines.add(
                slot.member_id,
                slot.household_id,
                basis,
                weight=slot.weight,
                amount_fen=part,
                pro_rata_fen=part,
                shares=slot.shares,
            )
    return 0


def _pay_floors(amount: int, slots: Sequence[_Slot], lines: _Lines, note: str) -> dict[tuple[str, str], int]:
    """Pay floors out of amount, in proportion to the floors when it falls short."""
    owed = [(s.key, s.floor_fen) for s in slots if s.floor_fen]
    if not owed:
        return {}
    paid = allocate(min(amount, sum(f for _, f in owed)), owed)
    for slot in slots:
        if slot.floor_fen:
            lines.add(
                slot.member_id,
                slot.household_id,
                "floor",
                weight=slot.floor_fen,
                amount_fen=paid[slot.key],
                owed_fen=slot.floor_fen,
                capital_fen=slot.capital_fen,
                note=note,
            )
    return paid


K = TypeVar("K", bound=Hashable)


def minimum_split(amount_fen: int, claims: Sequence[tuple[K, int, int]]) -> tuple[dict[K, int], frozenset[K]]:
    """`minimum` floors (保底 DESIGN.md): split amount_fen over (key, weight, floor) claims.

    Returns each key's amount and the keys set aside (paid by their floors). Below the sum of
    floors, the amount is split in proportion to the floors, every claim with a floor is set
    aside and the others get nothing. Otherwise a claim whose pro-rata share of what is left
    falls below its floor gets its floor and is set aside, until none falls below; the rest is
    then split by weight over the claims not set aside in one largest-remainder step (allocate),
    so no second rounding moves a fen between them. A fen is left unsplit only when no claim
    that is not set aside has a weight.

    The claims set aside are always those with the highest floor per unit of weight: setting one
    aside lowers what is left per unit of weight for the rest, so whoever fell below still does.
    Taking them in that order, one at a time, reaches the same set as repeating rounds of "set
    aside every claim below", in one sort rather than a round per claim.
    """
    floors_total = sum(floor for _, _, floor in claims)
    if amount_fen < floors_total:
        by_floor = allocate(amount_fen, [(key, floor) for key, _, floor in claims if floor])
        return {key: by_floor.get(key, 0) for key, _, _ in claims}, frozenset(by_floor)
    left = amount_fen
    weight_left = sum(weight for _, weight, _ in claims)
    set_aside: set[K] = set()
    for key, weight, floor in sorted((c for c in claims if c[2]), key=_floor_per_weight, reverse=True):
        # Its pro-rata share of what is left, left × weight / weight_left, falls below its floor
        # (compared in integers); with no weight left to share by, its share is nothing.
        if weight_left and left * weight >= floor * weight_left:
            break
        set_aside.add(key)
        left -= floor
        weight_left -= weight
    amounts = {key: floor for key, _, floor in claims if key in set_aside}
    sharing = [(key, weight) for key, weight, _ in claims if key not in set_aside and weight]
    by_weight = allocate(left, sharing) if sharing else {}
    for key, _, _ in claims:
        if key not in set_aside:
            amounts[key] = by_weight.get(key, 0)
    return amounts, frozenset(set_aside)


def _floor_per_weight(claim: tuple[Any, int, int]) -> tuple[bool, Fraction]:
    """A claim's floor per unit of weight; a floor with no weight first of all."""
    _, weight, floor = claim
    return (weight == 0, Fraction(floor, weight) if weight else Fraction(0))


def _split_with_minimum(amount: int, slots: Sequence[_Slot], lines: _Lines, basis: Basis) -> int:
    """The pool under `minimum` floors (minimum_split); returns what no weight could take.

    Each line also carries the holding's pro-rata share of the whole amount (pro_rata_fen), which
    its explanation compares with what it gets: the floor it was topped up to, or the part of its
    share that went to topping up the floors of others."""
    amounts, set_aside = minimum_split(amount, [(s.key, s.weight, s.floor_fen) for s in slots])
    weighted = [(s.key, s.weight) for s in slots if s.weight]
    pro_rata = allocate(amount, weighted) if weighted else {}
    short = amount < sum(s.floor_fen for s in slots)
    for slot in slots:
        if slot.key in set_aside:
            lines.add(
                slot.member_id,
                slot.household_id,
                "floor",
                weight=slot.floor_fen,
                amount_fen=amounts[slot.key],
                owed_fen=slot.floor_fen,
                pro_rata_fen=pro_rata.get(slot.key, 0),
                capital_fen=slot.capital_fen,
                note="short" if short else "topped_up",
            )
        elif slot.weight:
            lines.add(
                slot.member_id,
                slot.household_id,
                basis,
                weight=slot.weight,
                amount_fen=amounts[slot.key],
                pro_rata_fen=pro_rata[slot.key],
                shares=slot.shares,
            )
    return amount - sum(amounts.values())


def _distribute_pool(
    amount: int,
    slots: Sequence[_Slot],
    charter: Charter,
    arrears: Mapping[str, int],
    households: Mapping[str, str | None],
    lines: _Lines,
    basis: Basis,
    participates: bool,
) -> _PoolResult:
    """Split the distributable amount: arrears first, then floors by mode, then by weight."""
    remaining = amount
    still_owed = {member: owed for member, owed in arrears.items() if owed}
    if still_owed:
        owed_items = sorted(still_owed.items())
        paid = allocate(min(remaining, sum(still_owed.values())), owed_items)
        for member, owed in owed_items:
            lines.add(
                member,
                households.get(member),
                "arrears",
                weight=owed,
                amount_fen=paid[member],
                owed_fen=owed,
            )
            still_owed[member] = owed - paid[member]
            remaining -= paid[member]

    mode = charter.floor_mode
    if mode == "minimum":
        undistributed = _split_with_minimum(remaining, slots, lines, basis)
    else:
        if mode == "preferred":
            paid_floors = _pay_floors(remaining, slots, lines, "preferred")
            for slot in slots:
                if slot.floor_fen:
                    remaining -= paid_floors[slot.key]
                    shortfall = slot.floor_fen - paid_floors[slot.key]
                    still_owed[slot.member_id] = still_owed.get(slot.member_id, 0) + shortfall
        pool = [s for s in slots if participates or not s.poverty or mode == "none"]
        undistributed = _split_by_weight(remaining, pool, lines, basis)
    return _PoolResult(undistributed, {m: owed for m, owed in sorted(still_owed.items()) if owed})


# --- explanations ---------------------------------------------------------------------------


def _yuan(fen: int) -> str:
    return format_yuan(fen, thousands=True) + " 元"


def _pool_sentence(subject: str, p: _Pending, pool_weight: int, verb: str) -> str:
    text = f"{subject}占 {format_percent(p.weight, pool_weight)}，{verb} {_yuan(p.amount_fen)}"
    if p.pro_rata_fen > p.amount_fen:
        text += (
            f"（按比例应得 {_yuan(p.pro_rata_fen)}，其中 {_yuan(p.pro_rata_fen - p.amount_fen)}"
            "用于补足贫困户股保底收益）"
        )
    return text


def _floor_explainer(charter: Charter) -> Callable[[_Pending], str]:
    days = "，按持有天数折算" if charter.weighting == "share_days" else ""

    def explain(p: _Pending) -> str:
        text = (
            f"贫困户股保底收益：本金 {_yuan(p.capital_fen)} × 年 {format_bp(charter.floor_bp)}{days}，"
            f"应得 {_yuan(p.owed_fen)}"
        )
        paid = _yuan(p.amount_fen)
        if p.note == "fixed":
            return text + f"；固定保底，无论当年盈亏都支付，列入财务费用，实付 {paid}"
        if p.note == "topped_up" and p.pro_rata_fen < p.owed_fen:
            return text + f"；按持股比例只应分 {_yuan(p.pro_rata_fen)}，补足到保底，实付 {paid}"
        if p.note == "topped_up":
            # Set aside in a later round: its share of what the other floors left fell below it.
            return text + f"；补足其他贫困户股保底后按持股比例分得的低于保底，按保底实付 {paid}"
        if p.note == "short":
            return text + f"；可分配利润不够付全部保底，按各户保底额比例分得 {paid}"
        if p.amount_fen < p.owed_fen:
            return (
                text + f"；可分配利润不够，本年实付 {paid}，欠付 {_yuan(p.owed_fen - p.amount_fen)}结转以后年度优先补付"
            )
        return text + f"，实付 {paid}"

    return explain


def _explain_arrears(p: _Pending) -> str:
    text = f"补付以前年度欠付的保底收益：累计欠付 {_yuan(p.owed_fen)}，本年补付 {_yuan(p.amount_fen)}"
    if p.amount_fen < p.owed_fen:
        text += f"，仍欠 {_yuan(p.owed_fen - p.amount_fen)}"
    return text


def _shares_explainer(charter: Charter, pool_weight: int) -> Callable[[_Pending], str]:
    def explain(p: _Pending) -> str:
        if charter.weighting == "share_days":
            subject = f"按持股积数（股数×持有天数）{format_count(p.weight)} 股·天"
        else:
            subject = f"按持股 {format_count(p.shares)} 股"
        return _pool_sentence(subject, p, pool_weight, "分得")

    return explain


# --- company --------------------------------------------------------------------------------


def _floors_apply(charter: Charter) -> bool:
    return charter.floor_mode != "none"


def company_plan(
    profit_fen: int,
    registered_capital_fen: int,
    charter: Charter,
    carried: CarriedState,
    holders: Sequence[HolderInput],
) -> Plan:
    """The year's distribution plan of a company (公司利润分配方案). profit_fen < 0 is a loss.

    The statutory reserve cap is floor(registered capital / 2), so the balance never exceeds 50%;
    a year that reaches the cap sets aside only the part up to it.
    """
    _check_charter(charter)
    _check_carried(carried)
    _check_holders(holders)
    if registered_capital_fen < 0:
        raise ValueError("registered capital must not be negative")

    slots = _company_slots(charter, holders)
    lines = _Lines()
    guaranteed = _pay_fixed_floors(charter, slots, lines)
    steps = _company_waterfall(profit_fen, registered_capital_fen, charter, carried)

    households = {h.member_id: h.household_id for h in holders}
    pool = _distribute_pool(
        steps.distributable,
        slots,
        charter,
        carried.arrears_by_member,
        households,
        lines,
        "shares",
        charter.poverty_participates,
    )
    pool_weight = _pool_weight(slots, charter)
    built = lines.build(
        {
            "shares": _shares_explainer(charter, pool_weight),
            "floor": _floor_explainer(charter),
            "arrears": _explain_arrears,
        }
    )
    return _assemble(
        profit_fen,
        carried,
        pool,
        built,
        covered=steps.covered,
        loss_added=steps.loss_added,
        statutory=steps.statutory,
        discretionary=steps.discretionary,
        reserve=0,
        distributable=steps.distributable,
        patronage=0,
        undistributed=pool.undistributed_fen,
        floor_expense=guaranteed,
        quantified={},
        floor_mode=charter.floor_mode,
    )


def _company_slots(charter: Charter, holders: Sequence[HolderInput]) -> list[_Slot]:
    """One claimant per holding (member × share class); floors only where the charter has them."""
    return [
        _Slot(
            key=(h.member_id, h.share_class),
            member_id=h.member_id,
            household_id=h.household_id,
            weight=h.weight,
            floor_fen=h.floor_base_fen if _floors_apply(charter) else 0,
            poverty=h.share_class == "poverty",
            capital_fen=h.capital_fen,
            shares=h.shares,
        )
        for h in holders
    ]


@dataclass(frozen=True)
class _CompanySteps:
    covered: int = 0
    loss_added: int = 0
    statutory: int = 0
    discretionary: int = 0
    distributable: int = 0


def _company_waterfall(
    result: int, registered_capital_fen: int, charter: Charter, carried: CarriedState
) -> _CompanySteps:
    """Art. 210 in order: a loss is carried; a profit covers losses, then the statutory reserve up
    to its cap, then the discretionary reserve; the rest is distributable."""
    if result < 0:
        return _CompanySteps(loss_added=-result)
    covered = min(result, carried.losses_carried_fen)
    after_losses = result - covered
    cap = registered_capital_fen * STATUTORY_RESERVE_CAP_BP // BP_WHOLE
    room = max(0, cap - carried.statutory_reserve_balance_fen)
    rate = max(STATUTORY_RESERVE_BP, charter.reserve_bp)
    statutory = min(percent_of(after_losses, rate), room)
    discretionary = percent_of(after_losses - statutory, charter.discretionary_bp)
    return _CompanySteps(
        covered=covered,
        statutory=statutory,
        discretionary=discretionary,
        distributable=after_losses - statutory - discretionary,
    )


def _assemble(
    profit_fen: int,
    carried: CarriedState,
    pool: _PoolResult,
    lines: tuple[PlanLine, ...],
    *,
    covered: int,
    loss_added: int,
    statutory: int,
    discretionary: int,
    reserve: int,
    distributable: int,
    patronage: int,
    undistributed: int,
    floor_expense: int,
    quantified: Mapping[str, int],
    floor_mode: str,
) -> Plan:
    """The plan with its totals and the state handed to next year, checked to the fen."""
    plan = Plan(
        losses_covered_fen=covered,
        loss_added_fen=loss_added,
        statutory_reserve_fen=statutory,
        discretionary_reserve_fen=discretionary,
        reserve_fen=reserve,
        distributable_fen=distributable,
        patronage_fen=patronage,
        floor_paid_fen=_basis_total(lines, "floor"),
        arrears_fen=sum(pool.arrears_by_member.values()),
        undistributed_fen=undistributed,
        floor_expense_fen=floor_expense,
        arrears_paid_fen=_basis_total(lines, "arrears"),
        lines=lines,
        reserve_quantified=quantified,
        carried=CarriedState(
            losses_carried_fen=carried.losses_carried_fen - covered + loss_added,
            # A company's statutory reserve or a cooperative's reserve fund; a plan has only one.
            statutory_reserve_balance_fen=carried.statutory_reserve_balance_fen + statutory + reserve,
            arrears_by_member=pool.arrears_by_member,
        ),
        floor_mode=floor_mode,
    )
    assert_conserved(plan, profit_fen)
    return plan


def _pay_fixed_floors(charter: Charter, slots: Sequence[_Slot], lines: _Lines) -> int:
    """The year's `fixed` guaranteed returns, owed in full whatever the year's result: a cost the
    profit is already net of, so they never come out of the distributable amount."""
    if charter.floor_mode != "fixed":
        return 0
    paid = _pay_floors(sum(s.floor_fen for s in slots), slots, lines, "fixed")
    return sum(paid.values())


def _pool_weight(slots: Sequence[_Slot], charter: Charter) -> int:
    """Total weight the remainder was split over, for the percentage each line shows."""
    if charter.floor_mode in ("none", "minimum") or charter.poverty_participates:
        return sum(s.weight for s in slots)
    return sum(s.weight for s in slots if not s.poverty)


# --- cooperative ----------------------------------------------------------------------------


def _check_accounts(accounts: Sequence[MemberAccountInput]) -> None:
    seen: set[str] = set()
    for account in accounts:
        if account.member_id in seen:
            raise ValueError(f"member {account.member_id} has two accounts")
        seen.add(account.member_id)
        figures = (
            account.capital_fen,
            account.reserve_share_fen,
            account.subsidy_share_fen,
            account.transaction_volume_fen,
        )
        if min(figures) < 0:
            raise ValueError(f"negative figure in the account of {account.member_id}")


def cooperative_plan(
    surplus_fen: int,
    charter: Charter,
    carried: CarriedState,
    accounts: Sequence[MemberAccountInput],
    holders_for_floors: Sequence[HolderInput] = (),
) -> Plan:
    """The year's surplus distribution of a cooperative (合作社盈余分配方案). surplus_fen < 0 is a loss.

    Floors, when the charter has them, are those of the poverty holdings in holders_for_floors,
    summed per member. `preferred` and `minimum` floors come out of the part distributed by member
    account, never out of the patronage return, whose at-least-60% share is fixed by law; and that
    part goes to every member by account, as art. 44 requires, so poverty_participates does not
    apply to it. The reserve fund balance is carried as statutory_reserve_balance_fen.
    """
    _check_charter(charter)
    _check_carried(carried)
    _check_accounts(accounts)
    _check_holders(holders_for_floors)
    if charter.patronage_bp < MIN_PATRONAGE_BP:
        raise ValueError(
            f"a cooperative returns at least {format_bp(MIN_PATRONAGE_BP)} of the distributable "
            f"surplus by transaction volume; the charter says {format_bp(charter.patronage_bp)}"
        )
    members = {a.member_id: a for a in accounts}
    floors = _member_floors(charter, members, holders_for_floors)
    lines = _Lines()
    guaranteed = _pay_fixed_floors(charter, _member_slots(accounts, floors, {}), lines)
    volumes = [(a.member_id, a.transaction_volume_fen) for a in accounts if a.transaction_volume_fen]
    steps = _cooperative_waterfall(surplus_fen, charter, carried, volumes)
    if steps.patronage and volumes:
        _return_patronage(steps.patronage, volumes, members, lines)

    households = {a.member_id: a.household_id for a in accounts}
    slots = _member_slots(accounts, floors, steps.quantified)
    pool = _distribute_pool(
        steps.distributable - steps.patronage,
        slots,
        charter,
        carried.arrears_by_member,
        households,
        lines,
        "capital",
        True,
    )
    volume_total = sum(v for _, v in volumes)
    account_total = sum(s.weight for s in slots)
    built = lines.build(_cooperative_explainers(charter, members, steps.quantified, volume_total, account_total))
    return _assemble(
        surplus_fen,
        carried,
        pool,
        built,
        covered=steps.covered,
        loss_added=steps.loss_added,
        statutory=0,
        discretionary=0,
        reserve=steps.reserve,
        distributable=steps.distributable,
        patronage=steps.patronage,
        undistributed=steps.undistributed + pool.undistributed_fen,
        floor_expense=guaranteed,
        quantified=steps.quantified,
        floor_mode=charter.floor_mode,
    )


@dataclass(frozen=True)
class _MemberFloors:
    """Per member: the floors of its poverty holdings, and the capital they are owed on."""

    floors: Mapping[str, int]
    capital: Mapping[str, int]


def _member_floors(
    charter: Charter, members: Mapping[str, MemberAccountInput], holders: Sequence[HolderInput]
) -> _MemberFloors:
    floors: dict[str, int] = {}
    capital_with_floor: dict[str, int] = {}
    for holder in holders:
        if holder.member_id not in members:
            raise ValueError(f"{holder.member_id} holds poverty shares but has no member account")
        if holder.share_class == "poverty" and _floors_apply(charter):
            floors[holder.member_id] = floors.get(holder.member_id, 0) + holder.floor_base_fen
            capital_with_floor[holder.member_id] = capital_with_floor.get(holder.member_id, 0) + holder.capital_fen
    return _MemberFloors(floors, capital_with_floor)


def _member_slots(
    accounts: Sequence[MemberAccountInput], floors: _MemberFloors, reserve_now: Mapping[str, int]
) -> list[_Slot]:
    """One claimant per member, weighted by its account as it stands with reserve_now quantified."""
    return [
        _Slot(
            key=(a.member_id, ""),
            member_id=a.member_id,
            household_id=a.household_id,
            weight=_account_total(a, reserve_now),
            floor_fen=floors.floors.get(a.member_id, 0),
            poverty=a.member_id in floors.floors,
            capital_fen=floors.capital.get(a.member_id, 0),
            shares=0,
        )
        for a in accounts
    ]


@dataclass(frozen=True)
class _CooperativeSteps:
    covered: int = 0
    loss_added: int = 0
    reserve: int = 0
    distributable: int = 0
    patronage: int = 0
    undistributed: int = 0
    quantified: Mapping[str, int] = field(default_factory=dict)


def _cooperative_waterfall(
    result: int, charter: Charter, carried: CarriedState, volumes: Sequence[tuple[str, int]]
) -> _CooperativeSteps:
    """Art. 42-44 in order: a loss is carried; a surplus covers losses, then sets aside the reserve
    fund (quantified by volume), then returns the patronage part of what is distributable."""
    if result < 0:
        return _CooperativeSteps(loss_added=-result)
    covered = min(result, carried.losses_carried_fen)
    after_losses = result - covered
    reserve = percent_of(after_losses, charter.reserve_bp)
    quantified: dict[str, int] = {}
    if reserve and volumes:
        quantified = {m: fen for m, fen in allocate(reserve, volumes).items() if fen}
    distributable = after_losses - reserve
    patronage = patronage_return_fen(distributable, charter.patronage_bp)
    # With no member trade there is nothing to return the surplus by; keep it undivided rather
    # than invent a basis the law does not give.
    undistributed = 0 if patronage and volumes else patronage
    return _CooperativeSteps(covered, 0, reserve, distributable, patronage, undistributed, quantified)


def _return_patronage(
    patronage: int, volumes: Sequence[tuple[str, int]], members: Mapping[str, MemberAccountInput], lines: _Lines
) -> None:
    for member_id, fen in allocate(patronage, volumes).items():
        account = members[member_id]
        lines.add(
            member_id,
            account.household_id,
            "patronage",
            weight=account.transaction_volume_fen,
            amount_fen=fen,
        )


def _cooperative_explainers(
    charter: Charter,
    members: Mapping[str, MemberAccountInput],
    quantified: Mapping[str, int],
    volume_total: int,
    account_total: int,
) -> dict[Basis, Callable[[_Pending], str]]:
    return {
        "patronage": lambda p: (
            _pool_sentence(f"按交易额 {_yuan(p.weight)}", p, volume_total, "返还")
            + f"（可分配盈余的 {format_bp(charter.patronage_bp)} 按交易额返还）"
        ),
        "capital": lambda p: _pool_sentence(
            _account_subject(members[p.member_id], quantified), p, account_total, "分得"
        ),
        "floor": _floor_explainer(charter),
        "arrears": _explain_arrears,
    }


def patronage_return_fen(distributable_fen: int, patronage_bp: int) -> int:
    """The part returned by transaction volume: patronage_bp of the distributable surplus, rounded
    half up, but never a fen under 60% of it (at 60% of 502 fen, 301.2 fen rounds to 301, which
    would fall short of the law's minimum, so 302 is returned)."""
    legal_minimum = -(-distributable_fen * MIN_PATRONAGE_BP // BP_WHOLE)
    return max(percent_of(distributable_fen, patronage_bp), legal_minimum)


def _account_total(account: MemberAccountInput, reserve_now: Mapping[str, int]) -> int:
    return (
        account.capital_fen
        + account.reserve_share_fen
        + reserve_now.get(account.member_id, 0)
        + account.subsidy_share_fen
    )


def _account_subject(account: MemberAccountInput, reserve_now: Mapping[str, int]) -> str:
    reserve_share = account.reserve_share_fen + reserve_now.get(account.member_id, 0)
    return (
        f"按成员账户 {_yuan(_account_total(account, reserve_now))}（出资 {_yuan(account.capital_fen)}"
        f" + 公积金份额 {_yuan(reserve_share)} + 补助形成财产份额 {_yuan(account.subsidy_share_fen)}）"
    )


# --- from the register to a plan, and from a plan to the books --------------------------------
#
# Posting, company (enterprise chart; debit +, credit −):
#     close the year's profit   Dr 4103 本年利润       / Cr 4104 利润分配      (a loss: the reverse)
#     statutory reserve         Dr 4104                / Cr 410101 法定盈余公积
#     discretionary reserve     Dr 4104                / Cr 410102 任意盈余公积
#     each line                 Dr 4104                / Cr 2232 应付股利 (party: household or member)
# Cooperative (财会〔2021〕37号): 331 本年盈余 / 332 盈余分配 / 322 盈余公积, patronage lines credit
# 221 应付盈余返还, all other lines 222 应付剩余盈余.
# `fixed` guaranteed returns are a finance cost of the year, not an appropriation of its profit:
#     each guaranteed return    Dr 6603 财务费用 (524)  / Cr 2231 应付利息 (211 应付款) (party)
# so a loss year's entry closes the loss to 4104 (332) and records the guaranteed returns still owed.
# Preferred arrears owed are a memorandum pair 9101/9102 per member, so they too live in the ledger:
# the balance of 4104 (332) carries losses forward, 410101 (322) the reserve, 9101 the arrears.

ARREARS_MEMO, ARREARS_CONTRA = "9101", "9102"

COMPANY_ACCOUNTS = {
    "bank": ("1002", "银行存款"),
    "profit": ("4103", "本年利润"),
    "appropriation": ("4104", "利润分配"),
    "statutory": ("410101", "法定盈余公积"),
    "discretionary": ("410102", "任意盈余公积"),
    "payable": ("2232", "应付股利"),
    "finance_cost": ("6603", chart.COMPANY["6603"]),
    "guaranteed_payable": ("2231", chart.COMPANY["2231"]),
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
    "finance_cost": ("524", chart.COOPERATIVE["524"]),
    "guaranteed_payable": ("211", chart.COOPERATIVE["211"]),
    "arrears": (ARREARS_MEMO, "欠付保底（备查）"),
    "arrears_contra": (ARREARS_CONTRA, "欠付保底备查对应"),
}
# The accounts whose balances are what earlier years carried (losses, reserve, arrears).
CARRIED_CODES = ("4104", "332", "410101", "322", ARREARS_MEMO)

# How a plan's status reads in a sentence: 方案当前{…}，不能…
STATUS_WORDS = {
    "draft": "为草稿",
    "submitted": "提交审核",
    "in_notice": "在公示中",
    "posted": "入账",
    "reversed": "冲销",
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
    ids: Mapping[str, uuid.UUID] = field(default_factory=dict)

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
    """The holdings the year's plan counts, at the record date or by share-days (charter.weighting),
    each poverty holding of a household with its floor for the year.

    Poverty shares the village collective holds were reclaimed from a household that left poverty
    (谁贫困谁享受) and are not yet reallocated: a floor belongs to a poor household's holding, so
    they carry none and count with the collective's ordinary shares until they are reallocated."""
    charter = facts.charter
    floors = charter.floor_mode != "none"
    merged: dict[tuple[str, ShareClass], list[int]] = {}  # shares, capital, weight, floor

    def count(mid: str, cls: str, shares: int, capital: int, weight: int, floor: int) -> None:
        share_class: ShareClass = "ordinary" if facts.members[mid].kind == "collective" else cast(ShareClass, cls)
        figures = merged.setdefault((mid, share_class), [0, 0, 0, 0])
        for i, value in enumerate((shares, capital, weight, floor if share_class == "poverty" else 0)):
            figures[i] += value

    if charter.weighting == "share_days":
        for (mid, cls), w in sorted(year_weights(facts.movements, year).items()):
            if w.share_days == 0:
                continue
            floor = prorated_floor_fen(w.capital_days, charter.floor_bp, year) if floors and cls == "poverty" else 0
            count(mid, cls, w.shares_at_year_end, w.capital_at_year_end_fen, w.share_days, floor)
    else:
        for (mid, cls), h in sorted(holdings_as_of(facts.movements, record_date(year, facts.record_date_mmdd)).items()):
            if h.shares == 0:
                continue
            floor = percent_of(h.capital_fen, charter.floor_bp) if floors and cls == "poverty" else 0
            count(mid, cls, h.shares, h.capital_fen, h.shares, floor)
    return [
        HolderInput(mid, facts.members[mid].household_id, facts.members[mid].name, cls, *figures)
        for (mid, cls), figures in sorted(merged.items())
    ]


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


def line_keys(lines: Iterable[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """(member, basis, amount) of lines in a canonical order, to compare a stored plan with a fresh one."""
    return sorted(lines)


def plan_line_keys(plan: Plan) -> list[tuple[str, str, int]]:
    return line_keys((pl.member_id, pl.basis, pl.amount_fen) for pl in plan.lines if pl.amount_fen)


PayableLine = tuple[PlanLine, uuid.UUID]  # a household's line and the payable account it credits


def posting_for(
    distribution_id: uuid.UUID,
    facts: VentureFacts,
    year: int,
    profit_fen: int,
    plan: Plan,
    accounts: Mapping[str, uuid.UUID],
    posted_on: dt.date,
) -> tuple[EntryDraft, list[PayableLine]]:
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
    payable_lines: list[PayableLine] = []
    guaranteed = 0
    for pl in plan.lines:
        if pl.amount_fen == 0:
            continue
        key = _payable_key(pl, plan, a)
        party = facts.uuid(pl.household_id or pl.member_id)
        lines.append(Line(a[key], -pl.amount_fen, party))
        if key == "guaranteed_payable":
            guaranteed += pl.amount_fen
        else:
            appropriated += pl.amount_fen
        if pl.household_id:
            payable_lines.append((pl, a[key]))
    if appropriated:
        lines.append(Line(a["appropriation"], appropriated))
    if guaranteed:
        lines.append(Line(a["finance_cost"], guaranteed))
    lines += _arrears_lines(facts, plan, a)
    entry = EntryDraft(
        source_type="distribution",
        source_id=str(distribution_id),
        idempotency_key=f"distribution:{distribution_id}",
        posted_on=posted_on,
        memo=f"{year} 年度{'盈余' if facts.model == 'cooperative' else '利润'}分配",
        lines=lines,
    )
    return entry, payable_lines


def _payable_key(line: PlanLine, plan: Plan, a: Mapping[str, uuid.UUID]) -> str:
    """The account a line credits: a guaranteed return is owed as a finance cost, a patronage
    refund (cooperatives) apart from the rest of the surplus."""
    if line.basis == "floor" and plan.floor_mode == "fixed":
        return "guaranteed_payable"
    if line.basis == "patronage" and "patronage_payable" in a:
        return "patronage_payable"
    return "payable"


def _arrears_lines(facts: VentureFacts, plan: Plan, a: Mapping[str, uuid.UUID]) -> list[Line]:
    """The memorandum pair that moves each member's arrears from what was owed to what is owed now."""
    lines: list[Line] = []
    old = facts.carried.arrears_by_member
    new = plan.carried.arrears_by_member
    for mid in sorted(set(old) | set(new)):
        delta = new.get(mid, 0) - old.get(mid, 0)
        if delta:
            lines += [Line(a["arrears"], delta, facts.uuid(mid)), Line(a["arrears_contra"], -delta, facts.uuid(mid))]
    return lines


def payables_for(
    distribution_id: uuid.UUID,
    facts: VentureFacts,
    entry_id: uuid.UUID,
    payable_lines: Sequence[PayableLine],
    bank_account: uuid.UUID,
    villages: Mapping[str, str],
) -> list[NewPayable]:
    payables = []
    for pl, account_id in payable_lines:
        if pl.household_id is None:  # posting_for pairs only the lines of households
            continue
        payables.append(
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
        )
    return payables


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


def carried_json(c: CarriedState) -> dict[str, object]:
    return {
        "losses_carried_fen": c.losses_carried_fen,
        "statutory_reserve_balance_fen": c.statutory_reserve_balance_fen,
        "arrears_by_member": dict(sorted(c.arrears_by_member.items())),
    }


def notice_days_for(model: str, cooperative_plan_days: int, fund_days: int) -> int:
    """公示 (DESIGN.md): a cooperative's plan 15 days (art. 40), a company's funds 10, by default;
    the two figures are the settings' least periods."""
    return cooperative_plan_days if model == "cooperative" else fund_days
