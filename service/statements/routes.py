"""GET /households/{id}/statement?year=: a household's lines of a year, as JSON or as a PDF."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import asyncpg
from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from schemas.statements import StatementOut
from service.core.auth import allow
from service.core.clock import Clock
from service.core.principal import Principal
from service.statements.workflow import read_statement, statement_pdf_download, statement_pdf_file

# The household itself, the reviewers of its village and township, the county's finance and audit.
# An accountant sees its venture's members, not what other ventures and the county pay them.
STATEMENT_READERS = allow(
    "household", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"
)
PDF = "application/pdf"


def _attachment(content: bytes, ascii_name: str, name: str) -> Response:
    """A PDF download, named in ASCII for old browsers and in Chinese (RFC 6266 filename*)."""
    return Response(
        content=content,
        media_type=PDF,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )


def pdf_response(household: asyncpg.Record, statement: StatementOut, clock: Clock) -> Response:
    """The household pages' PDF download, until they call statement_pdf_file themselves."""
    return _attachment(*statement_pdf_file(household, statement, clock.today()))


class StatementController(Controller):
    tags = ["statements"]

    @get(
        "/households/{household_id:str}/statement",
        guards=[STATEMENT_READERS],
        operation_id="household_statement",
        responses=None,
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
        if request.accept.best_match(["application/json", PDF], default="application/json") == PDF:
            return _attachment(
                *await statement_pdf_download(conn, principal, household_id, year=year, today=clock.today())
            )
        return await read_statement(conn, principal, household_id, year=year, today=clock.today())


ROUTES = [StatementController]
