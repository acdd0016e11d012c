"""Order farming (订单农业): contracts, advances, purchases, settlements."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from schemas.common import RequestBody, Year

Grams = Annotated[int, msgspec.Meta(ge=0, le=10**12, description="weight in grams")]
PricePerKg = Annotated[int, msgspec.Meta(ge=0, le=10**9, description="fen per kilogram")]
# A discount below market is allowed down to -100%, as the pricing rule allows.
PremiumBp = Annotated[int, msgspec.Meta(ge=-10000, le=10000, description="premium over market, basis points")]


class ContractCreate(RequestBody):
    household_id: str
    crop: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    season_year: Year
    contracted_g: Grams
    floor_price_fen_per_kg: PricePerKg
    premium_bp: PremiumBp = 0


class ContractOut(msgspec.Struct):
    id: str
    venture_id: str
    household_id: str
    crop: str
    season_year: int
    contracted_g: int
    floor_price_fen_per_kg: int
    premium_bp: int


class AdvanceCreate(RequestBody):
    amount_fen: Annotated[int, msgspec.Meta(gt=0, le=10**13)]
    given_on: dt.date
    item: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AdvanceOut(msgspec.Struct):
    id: str
    contract_id: str
    amount_fen: int
    given_on: dt.date
    item: str
    entry_id: str


class PurchaseCreate(RequestBody):
    bought_on: dt.date
    grade: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    weight_g: Annotated[int, msgspec.Meta(gt=0, le=10**12)]
    market_price_fen_per_kg: PricePerKg


class PurchaseOut(msgspec.Struct):
    id: str
    contract_id: str
    bought_on: dt.date
    grade: str
    weight_g: int
    market_price_fen_per_kg: int


class SettlementRun(RequestBody):
    season_year: Year


class SettlementLineOut(msgspec.Struct):
    line_no: int
    purchase_id: str
    bought_on: dt.date
    grade: str
    weight_g: int
    market_price_fen_per_kg: int
    price_fen_per_kg_x10000: int
    reason: str
    amount_fen: int
    explanation: str


class SettlementItem(msgspec.Struct, omit_defaults=True):
    id: str
    contract_id: str
    household_id: str
    season_year: int
    gross_fen: int
    advances_deducted_fen: int
    payable_fen: int
    advance_carried_fen: int
    carried_in_fen: int
    own_advances_fen: int
    delivered_g: int
    status: str
    explanation: str
    entry_id: str | None = None
    reversal_entry_id: str | None = None
    lines: list[SettlementLineOut] | None = None


class SettlementRunOut(msgspec.Struct):
    venture_id: str
    season_year: int
    items: list[SettlementItem]


class ReversalOut(msgspec.Struct):
    id: str
    status: str
    reversal_entry_id: str | None
    payables_cancelled: int
