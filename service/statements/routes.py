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
from service.core.policy import household_or_404
from service.core.principal import Principal
from service.statements.workflow import household_statement, pdf_filename, statement_pdf

# The household itself, the reviewers of its village and township, the county's finance and audit.
# An accountant sees its venture's members, not what other ventures and the county pay them.
STATEMENT_READERS = allow(
    "household", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"
)
PDF = "application/pdf"


def pdf_response(household: asyncpg.Record, statement: StatementOut, clock: Clock) -> Response:
    ascii_name, name = pdf_filename(statement)
    return Response(
        content=statement_pdf(household, statement, clock.today()),
        media_type=PDF,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )


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
        household = await household_or_404(conn, principal, household_id)
        result = await household_statement(conn, household, year, clock.today())
        if request.accept.best_match(["application/json", PDF], default="application/json") == PDF:
            return pdf_response(household, result, clock)
        return result


ROUTES = [StatementController]
