"""Payables (应付款), payment batches (代发批次), return imports (回盘) and reconciliation (对账)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from schemas.common import RegionCode, RequestBody

PayableSource = Literal["distribution", "settlement", "award"]
PayableStatus = Literal["unpaid", "in_batch", "paid", "cancelled"]
BatchStatus = Literal["draft", "approved", "cancelled", "closed"]
LineStatus = Literal["pending", "paid", "failed", "cancelled"]
ReturnOutcome = Literal["paid", "failed", "unmatched", "already_paid", "already_failed"]
Uuid = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F-]{32,36}$")]


class PayableOut(msgspec.Struct):
    id: str
    household_id: str
    source: str
    source_id: str
    amount_fen: int
    status: str
    batch_id: str | None
    failure_reason: str | None
    paid_on: dt.date | None
    village_code: str | None
    venture_id: str | None
    program_id: str | None
    explanation: str


class BatchCreate(RequestBody):
    """A selection of unpaid payables: an explicit list, or filters (all of them must match)."""

    county_code: RegionCode
    payable_ids: Annotated[list[Uuid], msgspec.Meta(min_length=1, max_length=200_000)] | None = None
    source: PayableSource | None = None
    village_code: RegionCode | None = None
    venture_id: Uuid | None = None
    program_id: Uuid | None = None


class Settled(msgspec.Struct, kw_only=True):
    """How a batch's lines (or a county's) stand with the bank."""

    paid_count: int
    paid_fen: int
    failed_count: int
    failed_fen: int
    pending_count: int
    pending_fen: int


class BatchOut(Settled, kw_only=True):
    id: str
    county_code: str
    status: str
    count: int
    total_fen: int
    # The most this batch can still pay out in all: paid + pending. Its total until lines settle;
    # less once lines fail (their payables go back to unpaid for another batch); 0 once cancelled.
    max_payable_fen: int
    largest_line_fen: int
    selection: dict
    created_by: str
    approved_by: str | None
    created_at: dt.datetime
    approved_at: dt.datetime | None
    closed_at: dt.datetime | None


class BatchLineOut(msgspec.Struct):
    seq: int
    payable_id: str
    household_id: str
    payee_name: str  # masked: 张*三
    bank_name: str
    bank_account: str  # masked: 6228 **** **** 1234
    amount_fen: int
    status: str
    failure_reason: str | None
    settled_on: dt.date | None


class BatchDetail(BatchOut, kw_only=True):
    """The batch and a page of its lines (?limit=, ?cursor=)."""

    lines: list[BatchLineOut] = []
    next_cursor: str | None = None


class ReturnLineOut(msgspec.Struct, omit_defaults=True):
    outcome: ReturnOutcome
    amount_fen: int
    seq: int | None = None
    payable_id: str | None = None
    reason: str = ""


class ReturnResult(msgspec.Struct):
    return_id: str
    batch_id: str
    batch_status: str
    paid: int
    failed: int
    unmatched: int
    already_paid: int
    already_failed: int
    paid_fen: int
    failed_fen: int
    entry_id: str | None
    lines: list[ReturnLineOut]


class Reconciliation(Settled, kw_only=True):
    """对账: what was sent to the bank = paid + failed + pending, and paid agrees with the ledger."""

    county_code: str
    batch_id: str | None
    sent_count: int
    sent_fen: int
    difference_fen: int  # sent − paid − failed − pending: must be 0
    payments_fen: int  # the payables recorded as paid (payable_payments)
    ledger_fen: int  # the payment entries' debits in the journal
    ledger_difference_fen: int  # paid − ledger: must be 0
    ok: bool


class BankAccountPut(RequestBody):
    bank_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    bank_account: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
