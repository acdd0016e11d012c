"""The rules of payments on plain data: what a batch may be built from, who may approve it, how
a bank's return file is matched to its lines (回盘匹配), what settling them posts, and how a
batch (or a county) reconciles with the bank and the ledger (对账).

Nothing here reads a database or a clock; the workflow (service/payments/workflow.py) brings the
rows and writes the outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from service.core import identity
from service.core.errors import conflict, forbidden, invalid_field
from service.core.money import format_yuan
from service.ledger.rules import Line

NO_REASON = "银行未注明原因"
FILTERS = ("source", "village_code", "venture_id", "program_id")

Outcome = Literal["paid", "failed", "unmatched", "already_paid", "already_failed"]
OUTCOMES: tuple[Outcome, ...] = ("paid", "failed", "unmatched", "already_paid", "already_failed")


# ---- building, approving, cancelling, exporting ----------------------------------------------------


def selection_problem(payable_ids: Sequence[str] | None, filters: Mapping[str, str | None]) -> tuple[str, str] | None:
    """(field, message) when a batch request is malformed, else None: a list of payables or
    filters, never both; the ids given are ids."""
    if payable_ids is not None and any(filters.get(name) is not None for name in FILTERS):
        return "payable_ids", "按清单建批次时不能同时填写筛选条件"
    for name in ("venture_id", "program_id"):
        value = filters.get(name)
        if value is not None and canonical_id(value) is None:
            return name, f"{name} 格式无效"
    if payable_ids is not None and any(canonical_id(i) is None for i in payable_ids):
        return "payable_ids", "应付款编号格式无效"
    return None


def check_selection(payable_ids: Sequence[str] | None, filters: Mapping[str, str | None]) -> None:
    """Raise Invalid naming the field when a batch request is malformed."""
    problem = selection_problem(payable_ids, filters)
    if problem is not None:
        raise invalid_field(*problem)


def recorded_selection(fields: Mapping[str, Any], payable_count: int | None) -> dict[str, Any]:
    """What a batch keeps of the request that built it: the filters, and how many ids were listed."""
    selection = {k: v for k, v in fields.items() if k not in ("county_code", "payable_ids")}
    if payable_count is not None:
        selection["payable_count"] = payable_count
    return selection


def check_approval(status: str, maker_id: str, approver_id: str) -> None:
    """Maker-checker (审批): only a draft, and only by someone other than the one who built it."""
    if maker_id == approver_id:
        raise forbidden("建立批次的人不能审批自己的批次")
    if status != "draft":
        raise conflict("batch-not-draft", f"批次状态为 {status}，只有草稿批次可以审批")


def check_cancellable(status: str) -> None:
    if status != "draft":
        raise conflict("batch-not-draft", f"批次状态为 {status}，只有草稿批次可以撤销")


def check_exportable(status: str) -> None:
    """A bank file is made only of an approved batch not yet settled."""
    if status != "approved":
        raise conflict("batch-not-approved", f"批次状态为 {status}，只有已审批且未结清的批次可以导出银行文件")


def check_importable(status: str) -> None:
    """A return file settles an approved batch; a closed one takes repeats (which change nothing)."""
    if status not in ("approved", "closed"):
        raise conflict("batch-not-approved", f"批次状态为 {status}，只有已审批的批次可以导入回盘")


def max_payable_fen(paid_fen: int, pending_fen: int) -> int:
    """The most a batch can still pay out in all: what it has paid plus what is still with the
    bank. Its total while nothing is settled; less once lines fail (a failed payable goes back to
    unpaid and is paid, if at all, by another batch); zero once it is cancelled."""
    return paid_fen + pending_fen


# ---- return files ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReturnLine:
    """One line of a bank's return file: which payment (序号 and/or 流水号), and its outcome."""

    seq: int | None
    payable_id: str | None
    account_last4: str | None
    amount_fen: int
    ok: bool
    reason: str


@dataclass(frozen=True, slots=True)
class BatchLine:
    """A line of a batch as settling it needs it: its payment and the payable's two accounts."""

    seq: int
    payable_id: uuid.UUID
    household_id: uuid.UUID
    amount_fen: int
    status: str  # pending | paid | failed
    card_last4: str
    payable_account_id: uuid.UUID
    paying_account_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Match:
    returned: ReturnLine
    line: BatchLine | None  # the batch line it settles, or None when unmatched
    outcome: Outcome
    reason: str = ""


def canonical_id(text: str) -> str | None:
    """A payable id as the batch writes it (lower case, hyphenated), or None when it is not a uuid."""
    try:
        return str(uuid.UUID(text))
    except (ValueError, AttributeError, TypeError):
        return None


def _find_line(
    r: ReturnLine, by_seq: Mapping[int, BatchLine], by_payable: Mapping[str, BatchLine]
) -> tuple[BatchLine | None, str]:
    """The batch line a return line names, by 序号 (checked against its 流水号 when both are given)
    or by 流水号 alone; or None and why not."""
    named = canonical_id(r.payable_id) if r.payable_id is not None else None
    if r.seq is not None:
        line = by_seq.get(r.seq)
        if line is None:
            return None, f"批次中没有序号 {r.seq}"
        if r.payable_id is not None and named != str(line.payable_id):
            return None, f"序号 {r.seq} 与流水号 {r.payable_id} 不是同一笔"
        return line, ""
    line = by_payable.get(named) if named else None
    if line is None:
        return None, f"批次中没有流水号 {r.payable_id}"
    return line, ""


def _disagreement(r: ReturnLine, line: BatchLine, seen: set[int]) -> str:
    """Why a return line may not settle the line it names ("" when it may)."""
    if r.amount_fen != line.amount_fen:
        return f"金额不符：回盘 {format_yuan(r.amount_fen)} 元，批次 {format_yuan(line.amount_fen)} 元"
    if r.account_last4 is not None and r.account_last4 != line.card_last4:
        return "帐号后四位与批次不符"
    if line.seq in seen:
        return f"回盘文件中序号 {line.seq} 重复出现"
    return ""


def _settle(r: ReturnLine, line: BatchLine) -> Match:
    """What a matched return line does to its batch line; a line settled by an earlier file stays."""
    if line.status == "paid":
        return Match(r, line, "already_paid", "" if r.ok else "回盘为失败，但此笔此前已成功入账，未作更改")
    if line.status == "failed":
        return Match(r, line, "already_failed", "回盘为成功，但此笔此前已退回待付，未作更改" if r.ok else "")
    if r.ok:
        return Match(r, line, "paid")
    return Match(r, line, "failed", r.reason or NO_REASON)


def match_return_lines(lines: Iterable[BatchLine], returned: Iterable[ReturnLine]) -> list[Match]:
    """Pair each line of a return file with a line of the batch, by 序号 or by payable id; one
    Match per return line, in file order.

    Nothing is guessed: a line whose 序号/流水号 is not in the batch, whose amount differs, whose
    card's last four digits differ, or that repeats an earlier line of the file is unmatched. So a
    batch line is matched at most once, whatever the file holds.
    """
    batch = list(lines)
    by_seq = {line.seq: line for line in batch}
    by_payable = {str(line.payable_id): line for line in batch}
    seen: set[int] = set()
    out: list[Match] = []
    for r in returned:
        line, why = _find_line(r, by_seq, by_payable)
        if line is not None:
            why = _disagreement(r, line, seen)
        if line is None or why:
            out.append(Match(r, None, "unmatched", why))
            continue
        seen.add(line.seq)
        out.append(_settle(r, line))
    return out


@dataclass(frozen=True, slots=True)
class ReturnTally:
    """What a return file does: the lines it pays and fails, and how its lines came out."""

    paid: tuple[BatchLine, ...]
    failed: tuple[Match, ...]  # each with its line and the bank's reason
    counts: Mapping[str, int]  # by outcome (OUTCOMES)
    paid_fen: int
    failed_fen: int

    @property
    def repeated(self) -> int:
        """Lines naming a payment an earlier file already settled (they change nothing)."""
        return self.counts["already_paid"] + self.counts["already_failed"]


def tally(matches: Sequence[Match]) -> ReturnTally:
    paid = tuple(m.line for m in matches if m.outcome == "paid" and m.line is not None)
    failed = tuple(m for m in matches if m.outcome == "failed" and m.line is not None)
    counts: dict[str, int] = {o: sum(1 for m in matches if m.outcome == o) for o in OUTCOMES}
    return ReturnTally(
        paid=paid,
        failed=failed,
        counts=counts,
        paid_fen=sum(line.amount_fen for line in paid),
        failed_fen=sum(m.line.amount_fen for m in failed if m.line is not None),
    )


def payment_legs(paid: Iterable[BatchLine]) -> list[Line]:
    """The lines of the one entry paying them: per payable, Dr its payable account / Cr its paying
    (bank) account, both with the household as party."""
    return [
        leg
        for p in paid
        for leg in (
            Line(p.payable_account_id, p.amount_fen, p.household_id),
            Line(p.paying_account_id, -p.amount_fen, p.household_id),
        )
    ]


# ---- reconciliation ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BankFigures:
    """What went to the bank and how it stands, with the two records paying leaves behind."""

    sent_fen: int
    paid_fen: int
    failed_fen: int
    pending_fen: int
    payments_fen: int  # the payables recorded as paid (payable_payments)
    ledger_fen: int  # the debits of the payment entries in the journal


@dataclass(frozen=True, slots=True)
class Differences:
    difference_fen: int  # sent − paid − failed − pending: must be 0
    ledger_difference_fen: int  # paid − ledger: must be 0
    ok: bool  # both zero, and the payments recorded equal what the bank paid


def differences(f: BankFigures) -> Differences:
    """对账: what was sent = paid + failed + pending, and what was paid agrees with the ledger."""
    difference = f.sent_fen - f.paid_fen - f.failed_fen - f.pending_fen
    ledger_difference = f.paid_fen - f.ledger_fen
    ok = difference == 0 and ledger_difference == 0 and f.payments_fen == f.paid_fen
    return Differences(difference, ledger_difference, ok)


# ---- correcting a household's card (改卡) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Card:
    bank_name: str
    number: str  # normalised digits, to be encrypted
    masked: str  # 6228 **** **** 1234


def checked_card(bank_name: str, bank_account: str) -> Card:
    """The card a household is to be paid on, or Invalid naming the field."""
    number = identity.normalize_card_number(bank_account)
    if problem := identity.card_number_problem(number):
        raise invalid_field("bank_account", problem)
    name = bank_name.strip()
    if not name:
        raise invalid_field("bank_name", "开户银行不能为空")
    return Card(name, number, identity.mask_card_number(number))
