"""Wire types of the ledger's own endpoints (API.md, Statements, checks: GET /ledger/verify)."""

from __future__ import annotations

import msgspec


class Check(msgspec.Struct):
    name: str
    ok: bool
    detail: str  # what holds, or the first rows where it fails


class Verification(msgspec.Struct):
    ok: bool
    checks: list[Check]
