"""Order-farming (订单农业) purchase pricing and year-end settlement, as pure functions.

An enterprise contracts a household's harvest at no less than a floor price. At year end each
weighed delivery is priced, advances of seed and fertiliser given on credit are deducted, and what
remains is payable to the household.

Units: weights in grams, prices in fen per kilogram, the premium in basis points, amounts in fen.
A price after the premium is generally not a whole number of fen per kilogram, so it is carried
exactly as an integer in units of 1/10000 fen per kilogram (``price_fen_per_kg_x10000``); that
scale is exact because the premium is in basis points (1 bp = 1/10000).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Literal, NamedTuple

from service.core.clock import future_date_error
from service.core.errors import FieldErrors, field_error
from service.core.money import BP_WHOLE, format_bp, format_yuan, round_half_up_div

PriceReason = Literal["floor", "market_premium", "beyond_contract"]

_GRAMS_PER_KG = 1_000
_PRICE_SCALE = BP_WHOLE  # price_fen_per_kg_x10000 / _PRICE_SCALE = fen per kg


@dataclass(frozen=True)
class Contract:
    contract_id: str
    household_id: str
    contracted_g: int
    floor_price_fen_per_kg: int
    premium_bp: int

    def __post_init__(self) -> None:
        _require_int(
            contracted_g=self.contracted_g,
            floor_price_fen_per_kg=self.floor_price_fen_per_kg,
            premium_bp=self.premium_bp,
        )
        if self.contracted_g < 0 or self.floor_price_fen_per_kg < 0:
            raise ValueError("contracted quantity and floor price cannot be negative")
        # A discount below market (premium down to -100%) is allowed; below that the price would
        # turn negative.
        if self.premium_bp < -BP_WHOLE:
            raise ValueError("premium_bp cannot be below -10000")


@dataclass(frozen=True)
class Purchase:
    purchase_id: str
    bought_on: date
    grade: str
    weight_g: int
    market_price_fen_per_kg: int

    def __post_init__(self) -> None:
        _require_int(weight_g=self.weight_g, market_price_fen_per_kg=self.market_price_fen_per_kg)
        if self.weight_g <= 0:
            raise ValueError(f"purchase {self.purchase_id}: weight_g must be positive")
        if self.market_price_fen_per_kg < 0:
            raise ValueError(f"purchase {self.purchase_id}: market price cannot be negative")


@dataclass(frozen=True)
class Advance:
    """An advance on credit (赊销农资: seed, seedlings, fertiliser) against a contract."""

    amount_fen: int
    given_on: date
    item: str

    def __post_init__(self) -> None:
        _require_int(amount_fen=self.amount_fen)
        if self.amount_fen < 0:
            raise ValueError("an advance cannot be negative")


@dataclass(frozen=True)
class PricedLine:
    """One priced part of a delivery; a delivery crossing the contracted quantity gives two.

    ``weight_g`` is this part's weight, which is the purchase's whole weight unless it was split.
    """

    purchase: Purchase
    weight_g: int
    price_fen_per_kg_x10000: int
    reason: PriceReason
    amount_fen: int
    explanation: str

    @property
    def within_contract(self) -> bool:
        return self.reason != "beyond_contract"

    @property
    def price_fen_per_kg(self) -> Fraction:
        """The exact price used, in fen per kilogram."""
        return Fraction(self.price_fen_per_kg_x10000, _PRICE_SCALE)


@dataclass(frozen=True)
class Settlement:
    contract_id: str
    household_id: str
    gross_fen: int
    advances_deducted_fen: int
    payable_fen: int
    advance_carried_fen: int
    lines: tuple[PricedLine, ...]
    explanation: str


def _require_int(**values: object) -> None:
    for name, value in values.items():
        # bool is an int subclass, and a float would silently bring rounding into money.
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")


def _kg_text(weight_g: int) -> str:
    kg, g = divmod(weight_g, _GRAMS_PER_KG)
    return f"{kg}.{g:03d}"


def _price_text(price_x10000: int) -> str:
    """Yuan per kg: two decimals, more only when the exact price needs them (e.g. 10.5105)."""
    # yuan/kg = price_x10000 / 10000 / 100, so six decimals are always exact.
    whole, rest = divmod(price_x10000, 100 * _PRICE_SCALE)
    decimals = f"{rest:06d}".rstrip("0").ljust(2, "0")
    return f"{whole}.{decimals}"


def _market_text(purchase: Purchase, contract: Contract, price_x10000: int) -> str:
    market = f"市场价 {format_yuan(purchase.market_price_fen_per_kg)} 元/公斤"
    if contract.premium_bp == 0:
        return market
    change = "加价" if contract.premium_bp > 0 else "减价"
    return f"{market}{change} {format_bp(abs(contract.premium_bp))} 即 {_price_text(price_x10000)} 元/公斤"


def _line(contract: Contract, purchase: Purchase, weight_g: int, within: bool) -> PricedLine:
    market_with_premium = purchase.market_price_fen_per_kg * (BP_WHOLE + contract.premium_bp)
    floor = contract.floor_price_fen_per_kg * _PRICE_SCALE
    market = _market_text(purchase, contract, market_with_premium)
    floor_text = f"保底价 {_price_text(floor)} 元/公斤"
    if not within:
        reason: PriceReason = "beyond_contract"
        price = market_with_premium
        how, why = f"超出合同数量，按{market}", "超出部分不享受保底价"
    elif floor > market_with_premium:
        reason = "floor"
        price = floor
        how, why = f"合同内按{floor_text}", f"当日{market}，低于保底价"
    else:
        reason = "market_premium"
        price = market_with_premium
        how, why = f"合同内按{market}", f"不低于{floor_text}"
    # One division over the whole product: rounding the price first would move the amount.
    amount = round_half_up_div(weight_g * price, _PRICE_SCALE * _GRAMS_PER_KG)
    return PricedLine(
        purchase=purchase,
        weight_g=weight_g,
        price_fen_per_kg_x10000=price,
        reason=reason,
        amount_fen=amount,
        explanation=f"交售 {_kg_text(weight_g)} 公斤，{how}，计 {format_yuan(amount)} 元（{why}）",
    )


def price_purchases(contract: Contract, purchases_in_order: Iterable[Purchase]) -> list[PricedLine]:
    """Price deliveries in the order given; earlier deliveries fill the contracted quantity first.

    Within the contracted quantity the price is max(floor, market x (1 + premium)); beyond it,
    market x (1 + premium). The delivery that crosses the contracted quantity is split into a line
    within and a line beyond. Each line's amount is weight x price rounded half up to the fen.
    """
    lines: list[PricedLine] = []
    room_g = contract.contracted_g
    for purchase in purchases_in_order:
        within_g = min(room_g, purchase.weight_g)
        room_g -= within_g
        if within_g:
            lines.append(_line(contract, purchase, within_g, within=True))
        if purchase.weight_g > within_g:
            lines.append(_line(contract, purchase, purchase.weight_g - within_g, within=False))
    return lines


def total_advances_fen(advances: Iterable[Advance]) -> int:
    return sum(advance.amount_fen for advance in advances)


def floor_amount_fen(lines: Iterable[PricedLine], floor_price_fen_per_kg: int) -> int:
    """What the lines within the contract would come to at the floor price, rounded line by line.

    This is the guarantee a settlement must meet. It is rounded per line, as the lines are: the
    floor on the whole contracted-and-delivered weight rounded once can exceed it by up to half a
    fen per line (three lines of 1.001 kg at 12.00 yuan/kg are 12.01 yuan each, 36.03 in all,
    while 3.003 kg x 12.00 is 36.036, i.e. 36.04).
    """
    return sum(
        round_half_up_div(line.weight_g * floor_price_fen_per_kg, _GRAMS_PER_KG)
        for line in lines
        if line.within_contract
    )


def settle(contract: Contract, purchases: Sequence[Purchase], advances_outstanding_fen: int) -> Settlement:
    """Settle a contract's season: price the purchases, deduct advances up to the gross.

    Purchases are taken in order of (bought_on, purchase_id), so the deliveries that fill the
    contracted quantity do not depend on the order the caller happened to load them in.
    ``advances_outstanding_fen`` is every advance not yet recovered, including any carried in from
    an earlier season; what the gross cannot cover is carried to the next season.
    """
    _require_int(advances_outstanding_fen=advances_outstanding_fen)
    if advances_outstanding_fen < 0:
        raise ValueError("advances outstanding cannot be negative")
    ordered = sorted(purchases, key=lambda p: (p.bought_on, p.purchase_id))
    lines = tuple(price_purchases(contract, ordered))
    gross = sum(line.amount_fen for line in lines)
    deducted = min(advances_outstanding_fen, gross)
    payable = gross - deducted
    carried = advances_outstanding_fen - deducted

    assert gross == deducted + payable
    assert payable >= 0 and carried >= 0
    assert gross >= floor_amount_fen(lines, contract.floor_price_fen_per_kg)

    delivered_g = sum(p.weight_g for p in ordered)
    explanation = (
        f"共交售 {_kg_text(delivered_g)} 公斤（合同数量 {_kg_text(contract.contracted_g)} 公斤），"
        f"货款合计 {format_yuan(gross)} 元；扣除赊销农资款 {format_yuan(deducted)} 元，"
        f"实付 {format_yuan(payable)} 元"
    )
    if carried:
        explanation += f"；尚欠农资款 {format_yuan(carried)} 元结转下季"
    return Settlement(
        contract_id=contract.contract_id,
        household_id=contract.household_id,
        gross_fen=gross,
        advances_deducted_fen=deducted,
        payable_fen=payable,
        advance_carried_fen=carried,
        lines=lines,
        explanation=explanation,
    )


# ---- a household's season: the carried-advance pool ----------------------------------------------


@dataclass(frozen=True)
class ContractSeason:
    """What one contract brings to the season's settlement: its terms, its weighed deliveries and
    the advances given on it this season."""

    contract: Contract
    crop: str
    season_year: int
    purchases: tuple[Purchase, ...]
    advances: tuple[Advance, ...]

    @property
    def own_advances_fen(self) -> int:
        return total_advances_fen(self.advances)


@dataclass(frozen=True)
class HouseholdSettlement:
    """One contract settled: what it took in of the carried pool, and the summary a household reads."""

    carried_in_fen: int
    own_advances_fen: int
    settlement: Settlement
    summary: str


def split_carried_pool(pool_fen: int, grosses_fen: Sequence[int]) -> list[int]:
    """How much of the advances carried from earlier seasons each contract takes in.

    The contracts are a household's contracts of the season in the order they were signed: each
    takes in as much of the pool as its gross covers, in that order, and the last takes whatever
    is left, even beyond its gross (its settlement then carries that on to the next season).
    """
    _require_int(pool_fen=pool_fen, **{f"grosses_fen[{i}]": g for i, g in enumerate(grosses_fen)})
    if pool_fen < 0 or any(g < 0 for g in grosses_fen):
        raise ValueError("the carried pool and the grosses cannot be negative")
    if pool_fen and not grosses_fen:
        raise ValueError("a carried pool needs a contract to be recovered from")
    shares: list[int] = []
    for position, gross in enumerate(grosses_fen):
        take = pool_fen if position == len(grosses_fen) - 1 else min(pool_fen, gross)
        shares.append(take)
        pool_fen -= take
    return shares


def settle_household(pool_fen: int, seasons: Sequence[ContractSeason]) -> list[HouseholdSettlement]:
    """Settle a household's contracts of the season (in the order signed) with its carried pool.

    Advances carried from earlier seasons are recovered first, from the contracts in the order
    they were signed (split_carried_pool); each contract then deducts what it took in and its own
    advances, up to its gross.
    """
    grosses = [settle(s.contract, s.purchases, 0).gross_fen for s in seasons] if pool_fen else [0] * len(seasons)
    settled = []
    for season, carried_in in zip(seasons, split_carried_pool(pool_fen, grosses), strict=True):
        own = season.own_advances_fen
        result = settle(season.contract, season.purchases, carried_in + own)
        settled.append(HouseholdSettlement(carried_in, own, result, settlement_summary(season, result, carried_in)))
    return settled


# ---- the sentences a household reads ------------------------------------------------------------


def advances_text(carried_in_fen: int, own: Sequence[Advance]) -> str:
    """The advances a settlement deducts, in words: what was carried in and each advance given."""
    if not carried_in_fen and not own:
        return "本合同没有赊销农资"
    parts = []
    if carried_in_fen:
        parts.append(f"往季结转未扣清的农资款 {format_yuan(carried_in_fen)} 元")
    if own:
        detail = "、".join(f"{a.given_on:%Y-%m-%d} {a.item} {format_yuan(a.amount_fen)} 元" for a in own)
        parts.append(f"本合同赊销农资 {format_yuan(total_advances_fen(own))} 元（{detail}）")
    text = "农资款：" + "，".join(parts)
    if carried_in_fen and own:
        text += "；先扣往季结转的部分"
    return text + "，从货款中扣除，最多扣到货款为止"


def settlement_summary(season: ContractSeason, settlement: Settlement, carried_in_fen: int) -> str:
    """The settlement's explanation as stored: the contract's terms, the advances, the figures."""
    c = season.contract
    terms = f"保底价 {format_yuan(c.floor_price_fen_per_kg)} 元/公斤"
    if c.premium_bp:
        terms += f"，按市场价{'加' if c.premium_bp > 0 else '减'}价 {format_bp(abs(c.premium_bp))}"
    return (
        f"{season.season_year}年{season.crop}订单（{terms}；合同内按保底价与市场价中较高者收购，超出合同数量按市场价）。"
        f"{advances_text(carried_in_fen, season.advances)}。{settlement.explanation}。"
    )


class LineWords(NamedTuple):
    """A settlement line as the detail sentence names it."""

    bought_on: date
    grade: str
    explanation: str


def settlement_detail(summary: str, lines: Sequence[LineWords], reversed_on: date | None) -> str:
    """One settlement read in full: its summary, every priced line, and whether it was reversed."""
    text = summary
    if lines:
        text += "明细：" + "；".join(f"{l.bought_on:%Y-%m-%d} {l.grade} {l.explanation}" for l in lines) + "。"
    if reversed_on is not None:
        text += f"该结算已于 {reversed_on:%Y-%m-%d} 冲销作废。"
    return text


# ---- the weighing station's sheet ----------------------------------------------------------------

PURCHASE_SHEET_COLUMNS = ["contract_id", "bought_on", "grade", "weight_g", "market_price_fen_per_kg"]
_WHOLE = re.compile(r"[0-9]{1,13}")
_MAX_WEIGHT_G, _MAX_PRICE = 10**12, 10**9


class PurchaseRow(NamedTuple):
    """One checked row of the sheet, ready to be written."""

    contract_id: uuid.UUID
    bought_on: date
    grade: str
    weight_g: int
    market_price_fen_per_kg: int


def parse_purchase_rows(
    rows: Iterable[tuple[int, Mapping[str, str]]],
    contracts: Mapping[str, uuid.UUID],
    settled: AbstractSet[str],
    today: date,
) -> tuple[list[PurchaseRow], FieldErrors]:
    """Check every row of the weighing station's sheet (numbered as a spreadsheet shows them).

    ``contracts`` are the venture's contract ids by their text (lower case), ``settled`` the ids
    of those with a live settlement. Returns the good rows and every bad field of every bad row;
    the caller writes nothing when there is any (all rows or none).
    """
    records: list[PurchaseRow] = []
    errors: FieldErrors = []
    for number, row in rows:
        bad = len(errors)
        ref = row["contract_id"]
        contract_id = contracts.get(ref.lower())
        if contract_id is None:
            errors.append(
                field_error("contract_id", f"本经营主体没有订单合同 {ref}" if ref else "合同编号不能为空", number)
            )
        elif ref.lower() in settled:
            errors.append(field_error("contract_id", "该合同本季已结算，不能再录入交售", number))
        bought_on = _sheet_date(row["bought_on"], today, number, errors)
        grade = row["grade"]
        if not 1 <= len(grade) <= 50:
            errors.append(field_error("grade", "等级不能为空，且不超过50个字", number))
        weight, price = row["weight_g"], row["market_price_fen_per_kg"]
        if not _WHOLE.fullmatch(weight) or not 0 < int(weight) <= _MAX_WEIGHT_G:
            errors.append(field_error("weight_g", "重量应为正整数（克）", number))
        if not _WHOLE.fullmatch(price) or int(price) > _MAX_PRICE:
            errors.append(field_error("market_price_fen_per_kg", "市场价应为非负整数（分/公斤）", number))
        if len(errors) == bad and contract_id is not None and bought_on is not None:
            records.append(PurchaseRow(contract_id, bought_on, grade, int(weight), int(price)))
    return records, errors


def _sheet_date(text: str, today: date, number: int, errors: FieldErrors) -> date | None:
    try:
        bought_on = date.fromisoformat(text)
    except ValueError:
        errors.append(field_error("bought_on", "日期应为 YYYY-MM-DD", number))
        return None
    if late := future_date_error(bought_on, today):
        errors.append(field_error("bought_on", "收购" + late, number))
    return bought_on
