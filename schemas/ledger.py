"""Wire types of the ledger's own endpoints (API.md, Statements, checks: GET /ledger/verify)."""

from __future__ import annotations

import datetime as dt

import msgspec


class Check(msgspec.Struct):
    name: str
    ok: bool
    detail: str  # what holds, or the first rows where it fails


class Verification(msgspec.Struct):
    ok: bool
    checks: list[Check]
    county_code: str | None = None  # the county verified; None: every county (the admin, the CLI)


class AccountBalance(msgspec.Struct):
    """One line of the trial balance (科目余额表): debits and credits to date and the balance
    (debit positive, credit negative)."""

    account_id: str
    code: str
    name: str
    owner_type: str
    owner_id: str
    debit_fen: int
    credit_fen: int
    balance_fen: int


class EntryLineOut(msgspec.Struct):
    line_no: int
    code: str
    name: str
    debit_fen: int
    credit_fen: int
    party_id: str | None


class EntryOut(msgspec.Struct):
    """A journal entry (记账凭证) with its lines."""

    id: str
    posted_on: dt.date
    source_type: str
    source_id: str
    memo: str
    reverses: str | None
    lines: list[EntryLineOut]
