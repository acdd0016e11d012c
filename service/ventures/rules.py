"""The rules of ventures on plain data: the share register's arithmetic (holdings on a date,
holding periods 持股期间 within a year), and what the use cases check and split: the charter, the
shape of a share movement, a subsidy quantified to members, the reallocation of poverty shares
(谁贫困谁享受), and the rows of a trades sheet. Faults a user can mend raise the typed errors of
service.core.errors (check_movement turns the arithmetic's ValueErrors into them).

A holding is keyed by (member_id, share_class). Movements are dated and never edited; those on
the same date apply in the order given, so a register replays the same way every time.

Movement kinds:

- `subscribe` (认购): `to_member` is issued new shares of `share_class` against `capital_fen`
  paid in (required).
- `allocate` (配股): shares leave `from_member`'s *ordinary* holding (the village collective's
  original shares) and enter `to_member`'s holding of `share_class`, usually `poverty`.
- `transfer` (转让): shares of `share_class` move from `from_member` to `to_member`.
- `redeem` (退股): `from_member`'s shares of `share_class` are retired.

Capital follows the shares. For allocate, transfer and redeem the capital moved is `capital_fen`
when given (a sale at a price agreed on paper, a redemption at book value), otherwise the
holding's capital pro rata to the shares moved, rounded half up to the fen. Pro rata is the
choice when nothing is said because it keeps capital per share unchanged on both sides, and
moving a whole holding always moves exactly its whole capital.

The fiscal year is the calendar year (会计年度, Accounting Law art. 11).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from service.core.allocation import allocate
from service.core.clock import future_date_error
from service.core.errors import FieldErrors, bad_input, field_error, invalid_field
from service.core.money import BP_WHOLE, round_half_up_div
from service.ventures.charter import MIN_PATRONAGE_BP, STATUTORY_RESERVE_BP, Charter

MovementKind = Literal["subscribe", "allocate", "transfer", "redeem"]
HoldingKey = tuple[str, str]

# The collective's original shares are ordinary; 配股 always draws on them.
ALLOCATION_SOURCE_CLASS = "ordinary"

MOVEMENT_KINDS: frozenset[str] = frozenset({"subscribe", "allocate", "transfer", "redeem"})
# Which side of the register each kind names: shares leave a member (from), enter one (to), or both.
NEEDS_FROM: frozenset[str] = frozenset({"allocate", "transfer", "redeem"})
NEEDS_TO: frozenset[str] = frozenset({"subscribe", "allocate", "transfer"})


class NegativeHoldingError(ValueError):
    """A movement would take a holding below zero shares or zero capital."""

    def __init__(self, member_id: str, share_class: str, detail: str) -> None:
        super().__init__(f"holding of {member_id} in class {share_class} would go negative: {detail}")
        self.member_id = member_id
        self.share_class = share_class


@dataclass(frozen=True)
class ShareMovement:
    kind: MovementKind
    from_member: str | None
    to_member: str | None
    share_class: str
    shares: int
    capital_fen: int | None
    effective_date: date


@dataclass(frozen=True)
class Holding:
    shares: int
    capital_fen: int


@dataclass(frozen=True)
class HoldingYear:
    """A holding over one fiscal year.

    share_days = Σ over each day of the year of the shares held at the end of that day, so a
    movement counts on the day it takes effect and the last day of the year counts too.
    capital_days is the same sum over capital, the base for pro-rating a floor.
    """

    shares_at_year_end: int
    capital_at_year_end_fen: int
    share_days: int
    capital_days: int
    days_held: int


def days_in_year(year: int) -> int:
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days


def prorated_floor_fen(capital_days: int, floor_bp: int, fiscal_year: int) -> int:
    """Floor owed for the year on a holding counted by days: capital × rate × days / days in year.

    capital_days already multiplies capital by the days it was held, so a capital that changed
    during the year is pro-rated piece by piece. Rounded half up to the fen.
    """
    return round_half_up_div(capital_days * floor_bp, BP_WHOLE * days_in_year(fiscal_year))


def _validate(movement: ShareMovement) -> None:
    kind = movement.kind
    if movement.shares <= 0:
        raise ValueError(f"{kind} must move a positive number of shares, got {movement.shares}")
    if movement.capital_fen is not None and movement.capital_fen < 0:
        raise ValueError(f"{kind} capital must not be negative, got {movement.capital_fen}")
    needs_from = kind in NEEDS_FROM
    needs_to = kind in NEEDS_TO
    if kind not in MOVEMENT_KINDS:
        raise ValueError(f"unknown movement kind {kind!r}")
    if needs_from != (movement.from_member is not None):
        raise ValueError(f"{kind} {'needs' if needs_from else 'takes no'} from_member")
    if needs_to != (movement.to_member is not None):
        raise ValueError(f"{kind} {'needs' if needs_to else 'takes no'} to_member")
    if kind == "subscribe" and movement.capital_fen is None:
        raise ValueError("subscribe needs the capital paid in")


class _Register:
    """Mutable holdings while movements replay; callers only see frozen results."""

    def __init__(self) -> None:
        self.shares: dict[HoldingKey, int] = {}
        self.capital: dict[HoldingKey, int] = {}

    def _take(self, key: HoldingKey, shares: int, capital_fen: int | None) -> int:
        held = self.shares.get(key, 0)
        capital_held = self.capital.get(key, 0)
        if shares > held:
            raise NegativeHoldingError(key[0], key[1], f"holds {held} shares, {shares} leave")
        if capital_fen is None:
            capital_fen = round_half_up_div(capital_held * shares, held)
        if capital_fen > capital_held:
            raise NegativeHoldingError(key[0], key[1], f"holds {capital_held} fen of capital, {capital_fen} leave")
        if shares == held and capital_fen != capital_held:
            # Capital with no shares left would be owed to nobody in any later distribution.
            raise ValueError(
                f"{key[0]} gives up all {key[1]} shares but {capital_held - capital_fen} fen of "
                "capital would stay behind"
            )
        self.shares[key] = held - shares
        self.capital[key] = capital_held - capital_fen
        return capital_fen

    def _give(self, key: HoldingKey, shares: int, capital_fen: int) -> None:
        self.shares[key] = self.shares.get(key, 0) + shares
        self.capital[key] = self.capital.get(key, 0) + capital_fen

    def apply(self, movement: ShareMovement) -> None:
        _validate(movement)
        source, target = _touched(movement)
        if source is None:
            # Only a subscription has no source; _validate made sure it names a target.
            assert target is not None
            self._give(target, movement.shares, movement.capital_fen or 0)
            return
        moved = self._take(source, movement.shares, movement.capital_fen)
        if target is not None:
            self._give(target, movement.shares, moved)


def _in_order(movements: Iterable[ShareMovement]) -> list[ShareMovement]:
    # sorted() is stable, so same-day movements keep the order in which they were recorded.
    return sorted(movements, key=lambda m: m.effective_date)


def holdings_as_of(movements: Iterable[ShareMovement], as_of: date) -> dict[HoldingKey, Holding]:
    """Holdings after every movement effective on or before as_of (e.g. the record date 股权登记日).

    Emptied holdings are left out. Raises NegativeHoldingError naming the member and class of the
    first movement that would overdraw a holding.
    """
    register = _Register()
    for movement in _in_order(movements):
        if movement.effective_date > as_of:
            break
        register.apply(movement)
    return {
        key: Holding(shares, register.capital[key])
        for key, shares in register.shares.items()
        if shares or register.capital[key]
    }


def year_weights(movements: Iterable[ShareMovement], fiscal_year: int) -> dict[HoldingKey, HoldingYear]:
    """Share-days and capital-days of every holding held at some point in fiscal_year.

    A holding bought on 2024-07-01 and kept counts 184 days (1 July to 31 December inclusive),
    out of the 366 of leap year 2024. Shares sold on a day count for the buyer on that day, not
    the seller, so each share is counted once per day.
    """
    first = date(fiscal_year, 1, 1)
    after_last = date(fiscal_year + 1, 1, 1)
    register = _Register()
    share_days: dict[HoldingKey, int] = {}
    capital_days: dict[HoldingKey, int] = {}
    days_held: dict[HoldingKey, int] = {}
    since: dict[HoldingKey, date] = {}

    def close_segment(key: HoldingKey, until: date) -> None:
        start = since.get(key, first)
        days = (until - start).days
        shares = register.shares.get(key, 0)
        if days > 0 and shares:
            share_days[key] = share_days.get(key, 0) + shares * days
            capital_days[key] = capital_days.get(key, 0) + register.capital.get(key, 0) * days
            days_held[key] = days_held.get(key, 0) + days
        since[key] = until

    for movement in _in_order(movements):
        if movement.effective_date >= after_last:
            break
        if movement.effective_date < first:
            register.apply(movement)
            continue
        # The holdings this movement touches change at the start of its day: close their
        # previous segment there, before the change, then open the next one.
        _validate(movement)
        for key in _touched(movement):
            if key is not None:
                close_segment(key, movement.effective_date)
        register.apply(movement)

    for key in list(register.shares):
        close_segment(key, after_last)

    return {
        key: HoldingYear(
            shares_at_year_end=register.shares[key],
            capital_at_year_end_fen=register.capital[key],
            share_days=share_days.get(key, 0),
            capital_days=capital_days.get(key, 0),
            days_held=days_held.get(key, 0),
        )
        for key in register.shares
        if share_days.get(key) or register.shares[key]
    }


def _touched(movement: ShareMovement) -> tuple[HoldingKey | None, HoldingKey | None]:
    """(holding shares leave, holding shares enter); None where the kind has no such side."""
    cls = movement.share_class
    source = target = None
    if movement.from_member is not None:
        source_class = ALLOCATION_SOURCE_CLASS if movement.kind == "allocate" else cls
        source = (movement.from_member, source_class)
    if movement.to_member is not None:
        target = (movement.to_member, cls)
    return source, target


def register_rows(
    held: Mapping[HoldingKey, Holding], member_numbers: Mapping[str, int]
) -> list[tuple[HoldingKey, Holding]]:
    """The lines of a register (股权登记簿) as of a day: every holding with shares, by member
    number, then share class. A holding left with capital but no shares is not a line."""
    return sorted(
        ((key, h) for key, h in held.items() if h.shares > 0),
        key=lambda kv: (member_numbers[kv[0][0]], kv[0][1]),
    )


def check_movement(history: Iterable[ShareMovement], movement: ShareMovement) -> None:
    """Refuse a movement that, replayed in date order with every earlier one, would take any
    holding below zero on any day (a back-dated movement can overdraw a later day), or whose
    capital does not fit its shares. Raises Invalid naming `shares` or `capital_fen`."""
    try:
        holdings_as_of([*history, movement], date.max)
    except NegativeHoldingError as exc:
        raise invalid_field("shares", f"持股不足：该变动会使成员在某一日的 {exc.share_class} 类持股为负") from None
    except ValueError as exc:
        raise invalid_field("capital_fen", f"股金与股数不符：{exc}") from None


# ---- the charter (章程) -------------------------------------------------------------------------


def charter_errors(model: str, charter: Charter) -> FieldErrors:
    """What is wrong with a venture's charter, field by field (empty when nothing is).

    A cooperative returns at least MIN_PATRONAGE_BP of its distributable surplus by transaction
    volume (Farmers' Professional Cooperatives Law art. 44); a company sets aside at least
    STATUTORY_RESERVE_BP as statutory reserve (Company Law art. 210). A floor needs a mode and a
    rate together, and poverty shares without a floor must share in the remainder, else they
    would get nothing.
    """
    errors: FieldErrors = []
    if model == "cooperative" and charter.patronage_bp < MIN_PATRONAGE_BP:
        errors.append(
            field_error("charter.patronage_bp", f"合作社按交易量返还比例不得低于{_percent(MIN_PATRONAGE_BP)}")
        )
    if model != "cooperative" and charter.reserve_bp < STATUTORY_RESERVE_BP:
        errors.append(field_error("charter.reserve_bp", f"公司法定公积金比例不得低于{_percent(STATUTORY_RESERVE_BP)}"))
    if charter.floor_mode == "none" and charter.floor_bp != 0:
        errors.append(field_error("charter.floor_bp", "未设保底方式时保底比例应为0"))
    if charter.floor_mode != "none" and charter.floor_bp == 0:
        errors.append(field_error("charter.floor_bp", "设了保底方式就要给出保底比例"))
    if charter.floor_mode == "none" and not charter.poverty_participates:
        errors.append(field_error("charter.poverty_participates", "无保底时贫困户股必须参与分红"))
    if charter.reserve_bp + charter.discretionary_bp > BP_WHOLE:
        errors.append(field_error("charter.discretionary_bp", "公积金与任意公积金合计不得超过100%"))
    return errors


def check_charter(model: str, charter: Charter) -> None:
    """Raise Invalid naming every bad field of the charter (see charter_errors)."""
    errors = charter_errors(model, charter)
    if errors:
        raise bad_input("章程设置有误", errors)


def _percent(bp: int) -> str:
    """6000 → "60%（6000 bp）": a whole percentage as the charter messages say it."""
    return f"{bp * 100 // BP_WHOLE}%（{bp} bp）"


def check_record_date(mmdd: str) -> None:
    """The record date (股权登记日) is a day of the year as MM-DD; 02-29 is allowed (a leap year
    has it; in other years the distribution counts holdings at 02-28's end)."""
    try:
        date(2024, int(mmdd[:2]), int(mmdd[3:]))
    except ValueError:
        raise invalid_field("record_date_mmdd", "股权登记日不是有效日期") from None


# ---- who a movement names ------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """A member a share movement names, as far as the register's rules care."""

    id: str
    kind: str  # collective | household | person | organization


def check_movement_parties(
    kind: str,
    from_member_id: str | None,
    to_member_id: str | None,
    source: Party | None,
    target: Party | None,
) -> None:
    """The shape of a movement (DESIGN.md, Share movements): subscribe names only the member who
    receives, redeem only the one who gives up, allocate and transfer both, never the same one
    twice; allocate (配股) moves shares from the village collective to a household.

    `from_member_id`/`to_member_id` are what the request said; `source`/`target` the members
    they name in this venture (None when absent or unknown). Raises Invalid on the first fault.
    """
    needs_from, needs_to = kind in NEEDS_FROM, kind in NEEDS_TO
    if needs_from and source is None:
        raise invalid_field("from_member_id", "转出成员不存在" if from_member_id else "此类变动须填写转出成员")
    if needs_to and target is None:
        raise invalid_field("to_member_id", "转入成员不存在" if to_member_id else "此类变动须填写转入成员")
    if not needs_from and from_member_id:
        raise invalid_field("from_member_id", "认购不填写转出成员")
    if not needs_to and to_member_id:
        raise invalid_field("to_member_id", "退股不填写转入成员")
    if source is not None and target is not None and source.id == target.id:
        raise invalid_field("to_member_id", "转出与转入不能是同一成员")
    if kind == "allocate":
        if source is None or source.kind != "collective":
            raise invalid_field("from_member_id", "配股只能从村集体的股份中划出")
        if target is None or target.kind != "household":
            raise invalid_field("to_member_id", "配股只能配给农户")


# ---- subsidies (财政补助) --------------------------------------------------------------------------


def quantify_subsidy(model: str, amount_fen: int, member_ids: Sequence[str]) -> dict[str, int]:
    """A state subsidy's assets quantified to a cooperative's members (art. 44): equal shares,
    split by the largest remainder, so the odd fen go one each to the smallest member ids.

    Only a cooperative keeps member accounts; one without members cannot quantify anything.
    """
    if model != "cooperative":
        raise invalid_field("venture_id", "只有合作社把财政补助量化到成员账户")
    if not member_ids:
        raise invalid_field("received_on", "合作社还没有成员，无法量化补助")
    return allocate(amount_fen, [(m, 1) for m in member_ids])


# ---- 谁贫困谁享受: reallocating returned poverty shares ---------------------------------------------


@dataclass(frozen=True)
class ReallocationShare:
    member_id: str
    shares: int


def propose_reallocation(shares: int, poor_member_ids: Sequence[str]) -> list[ReallocationShare]:
    """The poverty shares an exited household returned, proposed equally to the venture's
    households still registered poor (the odd shares one each to the smallest member ids).
    Members whose share rounds to nothing are left out; with no poor household left the
    proposal is empty and the shares stay with the collective until someone decides."""
    if not poor_member_ids:
        return []
    split = allocate(shares, [(m, 1) for m in poor_member_ids])
    return [ReallocationShare(m, n) for m, n in split.items() if n]


def reallocation_capital(shares: int, capital_fen: int, items: Sequence[ReallocationShare]) -> list[int]:
    """The capital each confirmed item takes, pro rata to its shares by the largest remainder,
    in the order of the items; the items must reallocate exactly the proposal's shares.

    Ties are broken by the item's position written as a string ("10" before "2"), as it always was.
    """
    if sum(i.shares for i in items) != shares:
        raise invalid_field("items", f"调整的股数合计应为 {shares} 股")
    split = allocate(capital_fen, [(str(n), item.shares) for n, item in enumerate(items)])
    return [split[str(n)] for n in range(len(items))]


# ---- the trades sheet (交易记录导入) ------------------------------------------------------------------

TRADE_SHEET_COLUMNS = ("traded_on", "product", "quantity_g", "amount_fen")
MAX_TRADE_FIGURE = 10**13
MAX_PRODUCT = 100  # as TradeCreate keeps a trade's 品名 in the API


@dataclass(frozen=True)
class TradeRow:
    """One trade with the cooperative; member_id None is a non-member trade, kept apart (art. 41)."""

    member_id: str | None
    traded_on: date
    product: str
    quantity_g: int
    amount_fen: int


def check_trade_row(
    number: int, row: Mapping[str, str], members: Mapping[str, str], today: date | None = None
) -> tuple[TradeRow | None, FieldErrors]:
    """A sheet row as a trade, or the faults of the row (numbered as the spreadsheet shows it).

    `members` maps what a row may name a member by (the member number, or the member id) to the
    member id. A row naming no member is a non-member trade. A trade is not dated after `today`.
    """
    errors: FieldErrors = []
    member_ref = (row.get("member_no") or row.get("member_id") or "").strip()
    member_id = members.get(member_ref)
    if member_ref and member_id is None:
        errors.append(field_error("member_no", f"成员 {member_ref} 不存在", number))
    traded_on: date | None
    try:
        traded_on = date.fromisoformat(row["traded_on"])
    except ValueError:
        errors.append(field_error("traded_on", "日期应为 YYYY-MM-DD", number))
        traded_on = None
    if traded_on and today and (late := future_date_error(traded_on, today)):
        errors.append(field_error("traded_on", "交易" + late, number))
    values: dict[str, int] = {}
    for name in ("quantity_g", "amount_fen"):
        text = row[name].strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) > MAX_TRADE_FIGURE:
            errors.append(field_error(name, "应为非负整数", number))
        else:
            values[name] = int(text)
    product = row["product"].strip()
    if not product:
        errors.append(field_error("product", "品名不能为空", number))
    elif len(product) > MAX_PRODUCT:
        errors.append(field_error("product", f"品名不超过 {MAX_PRODUCT} 字", number))
    if errors or traded_on is None:
        return None, errors
    return TradeRow(member_id, traded_on, product, values["quantity_g"], values["amount_fen"]), errors


def check_trades_sheet(
    rows: Iterable[tuple[int, Mapping[str, str]]], members: Mapping[str, str], today: date | None = None
) -> list[TradeRow]:
    """Every row of a trades sheet as a trade, or Invalid naming every bad row: all rows or none."""
    trades: list[TradeRow] = []
    errors: FieldErrors = []
    for number, row in rows:
        trade, faults = check_trade_row(number, row, members, today)
        errors += faults
        if trade is not None:
            trades.append(trade)
    if errors:
        raise bad_input(f"{len({e['row'] for e in errors})} 行有误，未导入任何数据", errors)
    return trades
