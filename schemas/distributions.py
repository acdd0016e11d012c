"""Distributions: the draft plan, its lines, and the workflow answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from schemas.common import RequestBody, SignedFen, Year


class DistributionCreate(RequestBody):
    fiscal_year: Year
    profit_fen: SignedFen


class Approve(RequestBody):
    notice_days: Annotated[int, msgspec.Meta(ge=1, le=90)] | None = None


class Waterfall(msgspec.Struct):
    """The plan's figures. floor_paid_fen is the year's floors paid in any mode; floor_expense_fen
    the year's `fixed` guaranteed returns (保底), a finance cost the profit is already net of: owed
    on top of distributable_fen, in a loss year too."""

    losses_covered_fen: int
    loss_added_fen: int
    statutory_reserve_fen: int
    discretionary_reserve_fen: int
    reserve_fen: int
    distributable_fen: int
    patronage_fen: int
    floor_paid_fen: int
    floor_expense_fen: int
    arrears_paid_fen: int
    arrears_fen: int
    undistributed_fen: int


class DistributionOut(msgspec.Struct):
    id: str
    venture_id: str
    fiscal_year: int
    profit_fen: int
    status: str
    waterfall: Waterfall
    carried_in: dict
    carried_out: dict
    lines_total: int
    lines_total_fen: int
    payables_created: int = 0
    notice_id: str | None = None
    notice_ends_on: dt.date | None = None
    entry_id: str | None = None
    reversal_entry_id: str | None = None


class DistributionLine(msgspec.Struct):
    line_no: int
    member_id: str
    household_id: str | None
    basis: str
    weight: int
    amount_fen: int
    explanation: str


class ReturnRequest(RequestBody):
    """The township returns a submitted plan to its accountant (退回), saying why."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
