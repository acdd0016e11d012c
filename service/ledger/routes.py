"""The ledger's own endpoint: verification for auditors."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import asyncpg
from litestar import Controller, get
from litestar.params import Parameter

from schemas.common import Page
from schemas.ledger import AccountBalance, EntryOut, Verification
from service.core.auth import VENTURE_READERS, allow
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.core.principal import Principal
from service.ledger.workflow import journal, trial_balance, verify_ledger_for

BOOK_READERS = VENTURE_READERS


class LedgerController(Controller):
    path = "/ledger"
    tags = ["ledger"]

    @get("/verify", guards=[allow("auditor", "finance_officer", "finance_approver")], operation_id="verify_ledger")
    async def verify(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        county_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
    ) -> Verification:
        """The caller's county (auditors, the finance office); the admin names one, or gets all."""
        return await verify_ledger_for(conn, principal, county_code)


class BooksController(Controller):
    """The trial balance and the journal (API.md, "Lists the console and clients need")."""

    path = "/ledger"
    tags = ["ledger"]

    @get("/accounts", guards=[BOOK_READERS], operation_id="trial_balance")
    async def accounts(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        county_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
        venture_id: str | None = None,
        as_of: dt.date | None = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[AccountBalance]:
        return await trial_balance(
            conn, principal, county_code=county_code, venture_id=venture_id, as_of=as_of, limit=limit, cursor=cursor
        )

    @get("/entries", guards=[BOOK_READERS], operation_id="journal_entries")
    async def entries(
        self,
        conn: asyncpg.Connection,
        principal: Principal,
        county_code: Annotated[str | None, Parameter(pattern=r"^[0-9]{12}$")] = None,
        venture_id: str | None = None,
        since: Annotated[dt.date | None, Parameter(query="from")] = None,
        until: Annotated[dt.date | None, Parameter(query="to")] = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[EntryOut]:
        return await journal(
            conn,
            principal,
            county_code=county_code,
            venture_id=venture_id,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )


ROUTES = [LedgerController, BooksController]
