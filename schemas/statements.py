"""Wire types of a household's statement (API.md, Statements)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

LineKind = Literal["dividend", "patronage", "guaranteed_return", "settlement", "award"]
PaymentStatus = Literal["unpaid", "in_batch", "paid", "cancelled"]


class StatementLineOut(msgspec.Struct):
    kind: LineKind
    source_id: str
    source_name: str
    amount_fen: int
    explanation: str
    payment_status: PaymentStatus
    paid_on: dt.date | None
    payable_id: str
    income_kind: str  # 财产性收入 | 生产经营性收入 | 转移性收入
    counted: bool  # False for a cancelled (已冲销) line: shown, but not in the totals
    source_type: Literal["distribution", "settlement", "award"]
    failure_reason: str | None = None  # the bank's reason when the last payment attempt failed
    certificate_serial: str | None = None  # an award's certificate


class StatementOut(msgspec.Struct):
    household_id: str
    household_no: str
    year: int
    lines: list[StatementLineOut]
    totals_by_kind: dict[str, int]  # by national income kind of 人均纯收入, all three always present
    total_fen: int
    years: list[int]  # every year the household has lines in, newest first
