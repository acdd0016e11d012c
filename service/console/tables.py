"""Console tables: a page of rows with a link to the next, filters in the query string, and the
whole list (every page, up to MAX_XLSX_ROWS) as an xlsx download of the same columns.

Amounts are yuan with two decimals and thousands separators, right aligned; in the xlsx they are
text of the same figure, made from integer fen (never a float in a cell), right aligned too.
Dates read as people write them (2025年6月1日) on the page, ISO in the sheet.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from litestar import Response

from service.console.layout import Desk, cn_date, count, kilograms, percent, render, templates, yuan
from service.core.downloads import XLSX, file_response
from service.documents.xlsx import sheet_name

PAGE_SIZE = 50
MAX_XLSX_ROWS = 50_000
NUMERIC = ("yuan", "count", "percent", "kg", "figure")

# rows of one page and the cursor of the next (None: last page)
Fetch = Callable[[int, str | None], Awaitable[tuple[list[dict[str, Any]], str | None]]]


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = "text"  # text | yuan | date | count | percent | kg | figure (text, right aligned) | link (text, href)

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC


@dataclass
class Table:
    title: str
    filename: str  # ASCII stem of the download
    columns: Sequence[Column]
    rows: list[dict[str, Any]]
    next_cursor: str | None = None
    totals: Mapping[str, Any] | None = None
    empty: str = "没有记录"


def cell(column: Column, value: Any) -> str:
    """What a person reads in a cell."""
    if value is None:
        return ""
    if column.kind == "yuan":
        return yuan(value)
    if column.kind == "date":
        return cn_date(value)
    if column.kind == "count":
        return count(value)
    if column.kind == "percent":
        return percent(value)
    if column.kind == "kg":
        return kilograms(value)
    if column.kind == "link":
        return str(value[0])
    return str(value)


def href(column: Column, value: Any) -> str | None:
    return value[1] if column.kind == "link" and value and value[1] else None


templates.globals.update(cell=cell, cell_href=href)


def _sheet_text(column: Column, value: Any) -> str:
    if isinstance(value, dt.date) and column.kind == "date":
        return value.isoformat()
    return cell(column, value)


def xlsx_bytes(table: Table) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name(table.title))
    head = book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1})
    text = book.add_format({"num_format": "@"})
    number = book.add_format({"num_format": "@", "align": "right"})
    for col, column in enumerate(table.columns):
        sheet.write_string(0, col, column.title, head)
        sheet.set_column(col, col, 16 if column.numeric else 20)
    rows = list(table.rows) + ([dict(table.totals)] if table.totals else [])
    for r, row in enumerate(rows, start=1):
        for col, column in enumerate(table.columns):
            sheet.write_string(r, col, _sheet_text(column, row.get(column.key)), number if column.numeric else text)
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()


def wants_xlsx(desk: Desk) -> bool:
    return desk.query.get("format") == "xlsx"


def xlsx_answer(table: Table, desk: Desk) -> Response[bytes]:
    stem = f"{table.filename}-{desk.today.isoformat()}"
    return file_response(xlsx_bytes(table), XLSX, f"{stem}.xlsx", f"{table.title}-{desk.today.isoformat()}.xlsx")


def table_page(desk: Desk, table: Table, template: str, status_code: int = 200, **context: Any) -> Response[Any]:
    """The page showing `table`, or the table itself as xlsx when the link asks for it."""
    if wants_xlsx(desk):
        return xlsx_answer(table, desk)
    return render(desk, template, status_code, table=table, **context)


async def listing(
    desk: Desk,
    fetch: Fetch,
    columns: Sequence[Column],
    *,
    title: str,
    filename: str,
    page_size: int = PAGE_SIZE,
    empty: str = "没有记录",
) -> Table:
    """One page of the list (at the cursor of the query string), or every page for the download."""
    if not wants_xlsx(desk):
        rows, next_cursor = await fetch(page_size, desk.query.get("cursor") or None)
        return Table(title, filename, columns, rows, next_cursor, empty=empty)
    everything: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(everything) < MAX_XLSX_ROWS:
        rows, cursor = await fetch(500, cursor)
        everything += rows
        if cursor is None:
            break
    return Table(title, filename, columns, everything[:MAX_XLSX_ROWS], None, empty=empty)


def in_memory(rows: Sequence[dict[str, Any]], columns: Sequence[Column], find: str | None = None) -> Fetch:
    """Paging over rows already at hand (the cursor is the offset), filtered by `find`: a row
    stays when any of its cells contains the text."""
    needle = (find or "").strip()
    kept = [r for r in rows if not needle or any(needle in cell(c, r.get(c.key)) for c in columns)]

    async def fetch(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        start = int(cursor) if cursor and cursor.isascii() and cursor.isdigit() and len(cursor) <= 9 else 0
        end = start + limit
        return kept[start:end], (str(end) if end < len(kept) else None)

    return fetch
