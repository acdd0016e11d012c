"""The console's reports (报表和台账): every report the reader may read, linked from one page and
downloaded through the console's own session (the same workflows and renderers as the JSON API's
report routes): the registers by level of its region (村有册, 乡镇有簿, 县有档), the county's year
report, each venture's statements (会农社02表, 会农社03表, 成员账户, 利润分配方案, 股东名册) and,
through the notices page, every printed notice. Read only; an auditor's way to every report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from litestar import Response

from service.console.layout import Desk, render
from service.console.places import region_names
from service.console.routing import console_get
from service.core.clock import Clock
from service.core.downloads import PDF, XLSX, file_response
from service.core.errors import invalid_field, not_found
from service.core.principal import Principal, Role
from service.registry.workflow import get_region, regions_below
from service.reports import renderers, workflow
from service.ventures.workflow import list_ventures

REPORTS = "/console/reports"
READERS = (Role.VILLAGE_REVIEWER, Role.TOWNSHIP_APPROVER, Role.FINANCE_OFFICER, Role.FINANCE_APPROVER, Role.AUDITOR)
MEDIA = {"xlsx": XLSX, "pdf": PDF}
# The year report's page is a document: inline SVG and style, nothing to load, run or submit.
DOCUMENT_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

Make = Callable[[asyncpg.Connection, Principal, str, int, Clock], Awaitable[Any]]


@dataclass(frozen=True)
class Report:
    """One kind of report: how it is made for a region or venture and a year, and its files."""

    title: str
    make: Make
    files: Mapping[str, Callable[[Any], Any]]
    name: Callable[[Any, int], str]


def _books(r: Any) -> Any:
    return r.items


KINDS: dict[str, Report] = {
    "register": Report(
        "登记册",
        lambda conn, p, key, year, clock: workflow.region_register(conn, p, key, year),
        {"xlsx": renderers.register_xlsx, "pdf": renderers.register_pdf},
        lambda r, year: r.title,
    ),
    "year-report": Report(
        "年度报告",
        lambda conn, p, key, year, clock: workflow.county_year_report(conn, p, key, year),
        {"html": renderers.year_html, "pdf": renderers.year_pdf, "xlsx": renderers.year_xlsx},
        lambda r, year: r.title,
    ),
    "surplus-distribution": Report(
        "盈余及盈余分配表（会农社02表）",
        lambda conn, p, key, year, clock: workflow.surplus_distribution(conn, p, key, year),
        {"xlsx": renderers.surplus_xlsx, "pdf": renderers.surplus_pdf},
        lambda r, year: f"{r.venture_name}{year}年盈余及盈余分配表",
    ),
    "member-equity": Report(
        "成员权益变动表（会农社03表）",
        lambda conn, p, key, year, clock: workflow.member_equity(conn, p, key, year),
        {"xlsx": renderers.equity_xlsx, "pdf": renderers.equity_pdf},
        lambda r, year: f"{r.venture_name}{year}年成员权益变动表",
    ),
    "account-books": Report(
        "成员账户",
        lambda conn, p, key, year, clock: workflow.member_account_books(conn, p, key, year),
        {"xlsx": lambda r: renderers.books_xlsx(_books(r)), "pdf": lambda r: renderers.books_pdf(_books(r))},
        lambda r, year: f"{r.venture_name}{year}年成员账户",
    ),
    "profit-distribution": Report(
        "利润分配方案",
        lambda conn, p, key, year, clock: workflow.profit_distribution(conn, p, key, year),
        {"xlsx": renderers.profit_xlsx, "pdf": renderers.profit_pdf},
        lambda r, year: f"{r.venture_name}{year}年{r.title}",
    ),
    "shareholders": Report(
        "股东名册",
        lambda conn, p, key, year, clock: workflow.shareholders(conn, p, key, None, clock.today()),
        {"xlsx": renderers.shareholders_xlsx, "pdf": renderers.shareholders_pdf},
        lambda r, year: f"{r.venture_name}{r.title}",
    ),
}
VENTURE_REPORTS = {
    "cooperative": ("surplus-distribution", "member-equity", "account-books"),
    "branch_company": ("profit-distribution", "shareholders"),
    "enterprise": ("profit-distribution", "shareholders"),
}


VENTURES_A_PAGE = 100  # a county's ventures, a page at a time with 更多经营主体 to the next


def report_link(kind: str, key: str, year: int, fmt: str) -> str:
    return f"{REPORTS}/{kind}/{key}?year={year}&format={fmt}"


async def _regions_of(conn: asyncpg.Connection, principal: Principal) -> list[Any]:
    """The reader's region and the townships and villages under it, county first."""
    own = await get_region(conn, principal.region_code or "")  # 404 for a reader without a region
    return list(await regions_below(conn, own.code))


def _year(desk: Desk) -> int:
    text = desk.query.get("year") or ""
    year = int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else desk.today.year - 1
    if not 2000 <= year <= 2100:
        raise invalid_field("year", "年度应在 2000 至 2100 之间")
    return year


@console_get(REPORTS)
async def reports_page(desk: Desk, conn: asyncpg.Connection) -> Response:
    desk.section = "reports"
    if desk.role not in READERS:
        raise not_found("页面")
    year = _year(desk)
    regions = await _regions_of(conn, desk.principal)
    ventures = await list_ventures(
        conn, desk.principal, village_code=None, model=None, limit=VENTURES_A_PAGE, cursor=desk.query.get("cursor")
    )
    villages = await region_names(conn, [v.village_code for v in ventures.items])
    return render(
        desk,
        "console/reports.html",
        year=year,
        regions=regions,
        ventures=ventures.items,
        more=ventures.next_cursor,
        villages=villages,
        kinds=KINDS,
        venture_reports=VENTURE_REPORTS,
        link=report_link,
    )


@console_get(f"{REPORTS}/{{kind:str}}/{{key:str}}")
async def report_file(desk: Desk, conn: asyncpg.Connection, clock: Clock, kind: str, key: str) -> Response:
    """One report as a file (or the year report's page), made in one read-only snapshot."""
    report = KINDS.get(kind)
    fmt = desk.query.get("format") or "pdf"
    if desk.role not in READERS or report is None:
        raise not_found("报表")
    if fmt not in report.files:
        raise invalid_field("format", f"format 只能是 {'、'.join(report.files)}")
    year = _year(desk)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        made = await report.make(conn, desk.principal, key, year, clock)
    content = await asyncio.to_thread(report.files[fmt], made)
    if fmt == "html":
        return Response(content=content, media_type="text/html; charset=utf-8", headers=DOCUMENT_HEADERS)
    return file_response(content, MEDIA[fmt], f"{kind}-{year}.{fmt}", f"{report.name(made, year)}.{fmt}")


PAGES = [reports_page, report_file]
