"""Ventures, members, the share register, member accounts, subsidies and trades."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from schemas.common import BasisPoints, Fen, RegionCode, RequestBody

Model = Literal["branch_company", "cooperative", "enterprise"]
ShareClass = Literal["ordinary", "poverty"]
Shares = Annotated[int, msgspec.Meta(gt=0, le=10**12)]


class Charter(RequestBody):
    weighting: Literal["record_date", "share_days"] = "record_date"
    reserve_bp: BasisPoints = 1000
    discretionary_bp: BasisPoints = 0
    patronage_bp: BasisPoints = 6000
    floor_mode: Literal["none", "fixed", "preferred", "minimum"] = "none"
    floor_bp: BasisPoints = 0
    poverty_participates: bool = True
    poverty_follows_status: bool = False


class VentureCreate(RequestBody):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    model: Model
    village_code: RegionCode
    registered_capital_fen: Fen
    record_date_mmdd: Annotated[str, msgspec.Meta(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")] = "12-31"
    charter: Charter = msgspec.field(default_factory=Charter)


class VentureOut(msgspec.Struct):
    id: str
    name: str
    model: str
    county_code: str
    village_code: str
    registered_capital_fen: int
    record_date_mmdd: str
    charter: Charter


class MemberCreate(RequestBody):
    kind: Literal["collective", "household", "person", "organization"]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    household_id: str | None = None


class MemberOut(msgspec.Struct):
    id: str
    venture_id: str
    member_no: int
    kind: str
    household_id: str | None
    name: str


class ShareMovementCreate(RequestBody):
    kind: Literal["subscribe", "allocate", "transfer", "redeem"]
    share_class: ShareClass
    shares: Shares
    capital_fen: Fen
    effective_date: dt.date
    from_member_id: str | None = None
    to_member_id: str | None = None
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ShareMovementOut(msgspec.Struct):
    id: str
    venture_id: str
    register_no: int
    kind: str
    from_member_id: str | None
    to_member_id: str | None
    share_class: str
    shares: int
    capital_fen: int
    effective_date: dt.date
    entry_id: str | None


class RegisterItem(msgspec.Struct):
    member_id: str
    member_name: str
    household_id: str | None
    share_class: str
    shares: int
    capital_fen: int
    certificate_no: str


class Register(msgspec.Struct):
    """A page of the register (API.md pagination: items and next_cursor); the totals are the whole
    register's."""

    venture_id: str
    as_of: dt.date
    items: list[RegisterItem]
    total_shares: int
    total_capital_fen: int
    next_cursor: str | None = None


class MemberAccount(msgspec.Struct):
    """成员账户 (Farmers' Professional Cooperatives Law art. 43): one member's own figures.

    Non-members' trades never enter a member's account (they are kept apart, art. 41), so the
    account carries no note about them.
    """

    venture_id: str
    member_id: str
    year: int
    capital_fen: int
    reserve_share_fen: int
    subsidy_share_fen: int
    transaction_volume_fen: int


class SubsidyCreate(RequestBody):
    amount_fen: Annotated[int, msgspec.Meta(gt=0, le=10**13)]
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    received_on: dt.date


class SubsidyOut(msgspec.Struct):
    id: str
    venture_id: str
    amount_fen: int
    source: str
    received_on: dt.date
    shares: dict[str, int]
    entry_id: str


class TradeCreate(RequestBody):
    traded_on: dt.date
    product: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    quantity_g: Annotated[int, msgspec.Meta(ge=0, le=10**12)]
    amount_fen: Fen
    member_id: str | None = None


class TradeOut(msgspec.Struct):
    id: str
    venture_id: str
    member_id: str | None
    traded_on: dt.date
    product: str
    quantity_g: int
    amount_fen: int


class ReallocationItem(RequestBody):
    member_id: str
    shares: Shares


class ReallocationConfirm(RequestBody):
    items: list[ReallocationItem] | None = None


class ReallocationOut(msgspec.Struct):
    id: str
    venture_id: str
    exited_household_id: str
    shares: int
    capital_fen: int
    effective_date: dt.date
    status: str
    items: list[dict]


class ShareMovementItem(msgspec.Struct):
    """A movement as the register lists it (GET /ventures/{id}/share-movements)."""

    id: str
    register_no: int
    kind: str
    from_member_id: str | None
    to_member_id: str | None
    share_class: str
    shares: int
    capital_fen: int
    effective_date: dt.date
    reason: str
    entry_id: str | None


class SubsidyListed(msgspec.Struct):
    id: str
    amount_fen: int
    source: str
    received_on: dt.date
