"""GET /households/{id}/statement?year=: a household's lines of a year, as JSON or as a PDF."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from schemas.statements import StatementOut
from service.core.auth import allow
from service.core.clock import Clock
from service.core.downloads import PDF, file_response, json_or_file
from service.core.principal import Principal
from service.statements.direct import direct_statement
from service.statements.workflow import read_statement, statement_pdf_download

# The household itself, the reviewers of its village and township, the county's finance and audit.
# An accountant sees its venture's members, not what other ventures and the county pay them.
STATEMENT_READERS = allow(
    "household", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"
)

# The plain JSON request answered by the route itself (service/statements/direct.py).
DIRECT_STATEMENT = direct_statement(STATEMENT_READERS.roles)  # type: ignore[attr-defined]


def _pdf(content: bytes, ascii_name: str, name: str) -> Response[bytes]:
    return file_response(content, PDF, ascii_name, name)


class StatementController(Controller):
    tags = ["statements"]

    @get(
        "/households/{household_id:str}/statement",
        guards=[STATEMENT_READERS],
        middleware=[DIRECT_STATEMENT],
        operation_id="household_statement",
        responses=json_or_file(StatementOut),
    )
    async def statement(
        self,
        request: Request,
        household_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        clock: Clock,
        year: Annotated[int | None, Parameter(ge=2000, le=2100)] = None,
    ) -> StatementOut | Response:
        # The Accept header is parsed only when it names the PDF (a household's phone never does).
        wants_pdf = PDF in request.headers.get("accept", "").lower()
        if wants_pdf and request.accept.best_match(["application/json", PDF], default="application/json") == PDF:
            return _pdf(*await statement_pdf_download(conn, principal, household_id, year=year, today=clock.today()))
        return await read_statement(conn, principal, household_id, year=year, today=clock.today())


ROUTES = [StatementController]
