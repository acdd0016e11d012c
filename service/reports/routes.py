"""Reports and registers (API.md, Reports and registers): JSON by default, `?format=xlsx` or
`?format=pdf` (or the matching Accept) for the file; the county's year report also as an HTML page.

Thin controllers: each reads one workflow of service/reports/workflow.py in a read-only,
repeatable-read transaction (every figure and its ledger check from one snapshot of the books),
then renders the answer with service/reports/renderers.py off the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

import asyncpg
from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from schemas.reports import (
    AccountBook,
    AccountBooks,
    HouseholdCard,
    MemberEquity,
    NoticePrint,
    ProfitDistribution,
    Register,
    ShareCertificate,
    ShareholderRegister,
    SurplusDistribution,
    YearReport,
)
from service.core.auth import VENTURE_READERS, allow
from service.core.clock import Clock
from service.core.downloads import PDF, XLSX, file_response, json_or_file
from service.core.errors import invalid_field
from service.core.principal import Principal
from service.core.settings import Settings
from service.reports import renderers, workflow

T = TypeVar("T")
YearParam = Annotated[int, Parameter(ge=2000, le=2100, description="年度")]
FormatParam = Annotated[str | None, Parameter(query="format", description="json | xlsx | pdf", max_length=8)]
PUBLIC = {"exclude_from_auth": True}
HTML = "text/html"
# The year report's page is a document: inline SVG and style, nothing to load, run or submit.
REPORT_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
MEDIA = {"json": "application/json", "xlsx": XLSX, "pdf": PDF, "html": HTML}

# Who reads what: a household its own card; reviewers their region; finance and audit the county.
CARD_READERS = allow(
    "household", "village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor"
)
REGION_READERS = allow("village_reviewer", "township_approver", "finance_officer", "finance_approver", "auditor")


def wanted(request: Request, fmt: str | None, offered: Sequence[str] = ("json", "xlsx", "pdf")) -> str:
    """The format asked for by ?format= or else by Accept; JSON when nothing says otherwise."""
    if fmt is not None:
        if fmt not in offered:
            raise invalid_field("format", f"format 只能是 {'、'.join(offered)}")
        return fmt
    best = request.accept.best_match([MEDIA[f] for f in offered], default=MEDIA[offered[0]])
    return next(f for f in offered if MEDIA[f] == best)


async def snapshot(conn: asyncpg.Connection, work: Callable[[], Awaitable[T]]) -> T:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await work()


async def answer(
    report: Any,
    fmt: str,
    name: str,
    ascii_name: str,
    renderers_by_format: Mapping[str, Callable[[Any], Any]],
    *,
    inline: bool = False,
) -> Any:
    """The report itself for JSON, else its file rendered off the event loop."""
    if fmt == "json":
        return report
    content = await asyncio.to_thread(renderers_by_format[fmt], report)
    if fmt == "html":
        return Response(content=content, media_type="text/html; charset=utf-8", headers=REPORT_PAGE_HEADERS)
    assert isinstance(content, bytes)
    return file_response(content, MEDIA[fmt], f"{ascii_name}.{fmt}", f"{name}.{fmt}", inline=inline)


class VentureReportController(Controller):
    tags = ["reports"]
    guards = [VENTURE_READERS]

    @get(
        "/ventures/{venture_id:str}/reports/surplus-distribution",
        operation_id="surplus_distribution_report",
        responses=json_or_file(SurplusDistribution),
    )
    async def surplus(
        self,
        request: Request,
        venture_id: str,
        year: YearParam,
        conn: asyncpg.Connection,
        principal: Principal,
        fmt: FormatParam = None,
    ) -> SurplusDistribution | Response:
        chosen = wanted(request, fmt)
        r = await snapshot(conn, lambda: workflow.surplus_distribution(conn, principal, venture_id, year))
        files = {"xlsx": renderers.surplus_xlsx, "pdf": renderers.surplus_pdf}
        return await answer(
            r, chosen, f"{r.venture_name}{year}年盈余及盈余分配表", f"surplus-distribution-{year}", files
        )

    @get(
        "/ventures/{venture_id:str}/reports/member-equity",
        operation_id="member_equity_report",
        responses=json_or_file(MemberEquity),
    )
    async def equity(
        self,
        request: Request,
        venture_id: str,
        year: YearParam,
        conn: asyncpg.Connection,
        principal: Principal,
        fmt: FormatParam = None,
    ) -> MemberEquity | Response:
        chosen = wanted(request, fmt)
        r = await snapshot(conn, lambda: workflow.member_equity(conn, principal, venture_id, year))
        files = {"xlsx": renderers.equity_xlsx, "pdf": renderers.equity_pdf}
        return await answer(r, chosen, f"{r.venture_name}{year}年成员权益变动表", f"member-equity-{year}", files)

    @get(
        "/ventures/{venture_id:str}/members/{member_id:str}/account-book",
        operation_id="member_account_book",
        responses=json_or_file(AccountBook),
    )
    async def account_book(
        self,
        request: Request,
        venture_id: str,
        member_id: str,
        year: YearParam,
        conn: asyncpg.Connection,
        principal: Principal,
        fmt: FormatParam = None,
    ) -> AccountBook | Response:
        chosen = wanted(request, fmt)
        r = await snapshot(conn, lambda: workflow.member_account_book(conn, principal, venture_id, member_id, year))
        files = {"xlsx": lambda b: renderers.books_xlsx([b]), "pdf": lambda b: renderers.books_pdf([b])}
        return await answer(r, chosen, f"{r.member_name}{year}年成员账户", f"account-book-{r.member_no}-{year}", files)

    @get(
        "/ventures/{venture_id:str}/account-books",
        operation_id="member_account_books",
        responses=json_or_file(AccountBooks),
    )
    async def account_books(
        self,
        request: Request,
        venture_id: str,
        year: YearParam,
        conn: asyncpg.Connection,
        principal: Principal,
        fmt: FormatParam = None,
    ) -> AccountBooks | Response:
        chosen = wanted(request, fmt)
        r = await snapshot(conn, lambda: workflow.member_account_books(conn, principal, venture_id, year))
        files = {"xlsx": lambda b: renderers.books_xlsx(b.items), "pdf": lambda b: renderers.books_pdf(b.items)}
        return await answer(r, chosen, f"{r.venture_name}{year}年成员账户", f"account-books-{year}", files)

    @get(
        "/ventures/{venture_id:str}/reports/profit-distribution",
        operation_id="profit_distribution_report",
        responses=json_or_file(ProfitDistribution),
    )
    async def profit(
        self,
        request: Request,
        venture_id: str,
        year: YearParam,
        conn: asyncpg.Connection,
        principal: Principal,
        fmt: FormatParam = None,
    ) -> ProfitDistribution | Response:
        chosen = wanted(request, fmt)
        r = await snapshot(conn, lambda: workflow.profit_distribution(conn, principal, venture_id, year))
        files = {"xlsx": renderers.profit_xlsx, "pdf": renderers.profit_pdf}
        return await answer(r, chosen, f"{r.venture_name}{year}年{r.title}", f"profit-distribution-{year}", files)

    @get(
        "/ventures/{venture_id:str}/shareholders",
        operation_id="shareholder_register",
        responses=json_or_file(ShareholderRegister),
    )
    async def shareholders(
        self,
        request: Request,
        venture_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        clock: Clock,
        as_of: dt.date | None = None,
        fmt: FormatParam = None,
    ) -> ShareholderRegister | Response:
        chosen = wanted(request, fmt)
        r = await snapshot(conn, lambda: workflow.shareholders(conn, principal, venture_id, as_of, clock.today()))
        files = {"xlsx": renderers.shareholders_xlsx, "pdf": renderers.shareholders_pdf}
        return await answer(r, chosen, f"{r.venture_name}{r.title}", f"shareholders-{r.as_of.isoformat()}", files)

    @get(
        "/ventures/{venture_id:str}/share-certificates/{certificate_no:str}",
        operation_id="share_certificate",
        responses=json_or_file(ShareCertificate),
    )
    async def certificate(
        self,
        request: Request,
        venture_id: str,
        certificate_no: str,
        conn: asyncpg.Connection,
        principal: Principal,
        clock: Clock,
        as_of: dt.date | None = None,
        fmt: FormatParam = None,
    ) -> ShareCertificate | Response:
        chosen = wanted(request, fmt, ("json", "pdf"))
        r = await snapshot(
            conn, lambda: workflow.share_certificate(conn, principal, venture_id, certificate_no, as_of, clock.today())
        )
        files = {"pdf": renderers.certificate_pdf}
        return await answer(
            r, chosen, f"股权证{r.certificate_no}", f"share-certificate-{r.certificate_no}", files, inline=True
        )


class NoticePrintController(Controller):
    tags = ["reports"]

    @get("/notices/{notice_id:str}/print", opt=PUBLIC, operation_id="print_notice", responses=json_or_file(NoticePrint))
    async def print_notice(
        self, request: Request, notice_id: str, conn: asyncpg.Connection, settings: Settings, fmt: FormatParam = None
    ) -> NoticePrint | Response:
        """The A4 notice for the village board: a PDF unless ?format=json asks for its content."""
        chosen = fmt or "pdf"
        if chosen not in ("pdf", "json"):
            raise invalid_field("format", "format 只能是 pdf、json")
        r = await snapshot(conn, lambda: workflow.notice_print(conn, settings, notice_id))
        return await answer(r, chosen, r.title, f"notice-{r.notice_id}", {"pdf": renderers.notice_pdf}, inline=True)


class RegisterController(Controller):
    tags = ["reports"]

    @get(
        "/households/{household_id:str}/card",
        guards=[CARD_READERS],
        operation_id="household_card",
        responses=json_or_file(HouseholdCard),
    )
    async def card(
        self,
        request: Request,
        household_id: str,
        conn: asyncpg.Connection,
        principal: Principal,
        clock: Clock,
        year: Annotated[int | None, Parameter(ge=2000, le=2100)] = None,
        fmt: FormatParam = None,
    ) -> HouseholdCard | Response:
        chosen = wanted(request, fmt)
        r = await snapshot(conn, lambda: workflow.household_card(conn, principal, household_id, year, clock.today()))
        files = {"xlsx": renderers.card_xlsx, "pdf": renderers.card_pdf}
        return await answer(r, chosen, f"户有卡{r.household_no}", f"card-{r.household_no}", files)

    @get(
        "/regions/{code:str}/register",
        guards=[REGION_READERS],
        operation_id="region_register",
        responses=json_or_file(Register),
    )
    async def register(
        self,
        request: Request,
        code: str,
        year: YearParam,
        conn: asyncpg.Connection,
        principal: Principal,
        fmt: FormatParam = None,
    ) -> Register | Response:
        chosen = wanted(request, fmt)
        r = await snapshot(conn, lambda: workflow.region_register(conn, principal, code, year))
        files = {"xlsx": renderers.register_xlsx, "pdf": renderers.register_pdf}
        return await answer(r, chosen, r.title, f"register-{code}-{year}", files)

    @get(
        "/regions/{code:str}/year-report",
        guards=[REGION_READERS],
        operation_id="county_year_report",
        responses=json_or_file(YearReport),
    )
    async def year_report(
        self,
        request: Request,
        code: str,
        year: YearParam,
        conn: asyncpg.Connection,
        principal: Principal,
        fmt: FormatParam = None,
    ) -> YearReport | Response:
        chosen = wanted(request, fmt, ("json", "pdf", "xlsx", "html"))
        r = await snapshot(conn, lambda: workflow.county_year_report(conn, principal, code, year))
        files = {"pdf": renderers.year_pdf, "xlsx": renderers.year_xlsx, "html": renderers.year_html}
        return await answer(r, chosen, r.title, f"year-report-{code}-{year}", files)


ROUTES = [VentureReportController, NoticePrintController, RegisterController]
