"""The ledger's own endpoint: verification for auditors."""

from __future__ import annotations

import asyncpg
from litestar import Controller, get

from schemas.ledger import Verification
from service.core.auth import allow
from service.ledger.workflow import verify_ledger


class LedgerController(Controller):
    path = "/ledger"
    tags = ["ledger"]

    @get("/verify", guards=[allow("auditor")], operation_id="verify_ledger")
    async def verify(self, conn: asyncpg.Connection) -> Verification:
        return await verify_ledger(conn)


ROUTES = [LedgerController]
