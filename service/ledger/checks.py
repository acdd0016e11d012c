"""Where verify-ledger used to live: its use case is service/ledger/workflow.py, its queries are
in db/ledger.py, its wire types in schemas/ledger.py. Kept for the benchmarks that still import it."""

from __future__ import annotations

from schemas.ledger import Check, Verification
from service.ledger.workflow import LIMIT, verify_ledger

__all__ = ["LIMIT", "Check", "Verification", "verify_ledger"]
