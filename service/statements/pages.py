"""我的分红: a household reads its statement of a year on its phone, and downloads it as a PDF."""

from __future__ import annotations

import asyncpg
from litestar import Request, Response, get

from service.awards.workflow import household_offers
from service.core.clock import Clock
from service.core.downloads import PDF, file_response
from service.core.pages import (
    HOUSEHOLD_HOME,
    HOUSEHOLD_LOGIN,
    PAGE,
    render,
    see_other,
    signed_in_household,
    year_from_link,
)
from service.core.policy import household_or_404
from service.core.settings import Settings
from service.statements.workflow import EveryYear, every_year, statement_pdf


async def _own_years(request: Request, conn: asyncpg.Connection, settings: Settings) -> EveryYear | None:
    """The signed-in household's statement lines of every year, or None when not signed in."""
    principal = await signed_in_household(request, conn, settings)
    if principal is None or principal.household_id is None:
        return None
    return await every_year(conn, await household_or_404(conn, principal, principal.household_id))


@get(HOUSEHOLD_HOME, opt=PAGE, include_in_schema=False)
async def statement_page(
    request: Request, conn: asyncpg.Connection, settings: Settings, clock: Clock, year: str | None = None
) -> Response:
    own = await _own_years(request, conn, settings)
    if own is None:
        return see_other(HOUSEHOLD_LOGIN)
    statement = own.statement(year_from_link(year), clock.today())
    years = sorted(set(statement.years) | {statement.year, clock.today().year}, reverse=True)
    serials = sorted({line.certificate_serial for line in statement.lines if line.certificate_serial})
    # The award programmes open to it, their recorded income from the lines read above.
    offers = await household_offers(conn, own.household, clock.today(), own)
    return render(
        "statement.html",
        household=own.household,
        statement=statement,
        years=years,
        serials=serials,
        award_offers=offers,
    )


@get("/h/statement.pdf", opt=PAGE, include_in_schema=False)
async def statement_pdf_page(
    request: Request, conn: asyncpg.Connection, settings: Settings, clock: Clock, year: str | None = None
) -> Response:
    own = await _own_years(request, conn, settings)
    if own is None:
        return see_other(HOUSEHOLD_LOGIN)
    statement = own.statement(year_from_link(year), clock.today())
    content, ascii_name, name = await statement_pdf(conn, own.household, statement, clock.today())
    return file_response(content, PDF, ascii_name, name)


PAGES = [statement_page, statement_pdf_page]
