"""The ledger's rules on plain data: what an entry, a line, an account and a payable are, and
the invariants every entry must meet before it is written (the database checks them again at
commit, migration 0002).

Amounts are integer fen, debit positive and credit negative, so an entry balances when its lines
sum to zero.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass


class LedgerError(Exception):
    pass


class AlreadyReversed(LedgerError):
    pass


@dataclass(frozen=True)
class Line:
    account_id: uuid.UUID
    amount_fen: int  # debit positive, credit negative
    party_id: uuid.UUID | None = None


@dataclass(frozen=True)
class AccountSpec:
    owner_type: str
    owner_id: str
    code: str
    name: str


@dataclass(frozen=True)
class EntryDraft:
    source_type: str
    source_id: str
    idempotency_key: str
    memo: str
    posted_on: dt.date
    lines: Sequence[Line]
    reverses: uuid.UUID | None = None


def checked_lines(draft: EntryDraft) -> list[Line]:
    """The non-zero lines of a balanced entry of at least two lines; raises LedgerError otherwise."""
    lines = [line for line in draft.lines if line.amount_fen != 0]
    if len(lines) < 2:
        raise LedgerError(f"entry for {draft.source_type} {draft.source_id} needs at least two non-zero lines")
    if sum(line.amount_fen for line in lines) != 0:
        raise LedgerError(f"entry for {draft.source_type} {draft.source_id} does not balance")
    return lines


@dataclass(frozen=True)
class NewPayable:
    household_id: uuid.UUID
    source: str
    source_id: str
    source_ref: str
    amount_fen: int
    explanation: str
    entry_id: uuid.UUID
    payable_account_id: uuid.UUID
    paying_account_id: uuid.UUID
    village_code: str | None = None
    venture_id: uuid.UUID | None = None
    program_id: uuid.UUID | None = None
