"""Spreadsheets (xlsx) of reports, written with xlsxwriter.

Money cells are numbers of yuan with two decimals, never floats computed from money: a cell gets
Decimal(fen).scaleb(-2), which is exact (it only moves the decimal point), and xlsxwriter writes
a number cell as f"{value:.16G}", which for a Decimal is Decimal's own formatting, so the file
holds the very digits of the amount ("1234.56", "0.07", "0.00"). A number keeps the sheet
summable and sortable, where text would not; the format '#,##0.00' shows it as accountants write
it. An amount of 16 digits or more (10^13 yuan and beyond, past the 15 significant digits a
spreadsheet keeps; no real figure) is written as text rather than rounded.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import xlsxwriter

from service.core.money import format_yuan

EXACT_DIGITS = 16  # from this many digits a spreadsheet would round the number: text instead


@dataclass(frozen=True)
class Money:
    """A cell of money in fen."""

    fen: int


@dataclass(frozen=True)
class Kilograms:
    """A cell of weight in grams, shown in kilograms with three decimals (exact, as Money)."""

    grams: int


Cell = str | int | Money | Kilograms | None


@dataclass
class Sheet:
    name: str  # at most 31 characters, as Excel allows
    title: str
    notes: Sequence[str] = ()
    header: Sequence[Sequence[str]] = ()  # one or more header rows
    rows: Iterable[Sequence[Cell]] = ()
    widths: Sequence[int] = ()
    total_rows: set[int] = field(default_factory=set)  # indices of rows to set in bold


def money_cell(fen: int) -> Decimal | str:
    """What a money cell holds: the exact decimal of yuan, or its text when too long for a number."""
    value = Decimal(fen).scaleb(-2)
    if len(value.as_tuple().digits) >= EXACT_DIGITS:
        return format_yuan(fen)
    return value


def workbook(sheets: Sequence[Sheet]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    styles = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "note": book.add_format({"font_color": "#555555"}),
        "header": book.add_format({"bold": True, "border": 1, "bg_color": "#EEEEEE", "text_wrap": True}),
        "text": book.add_format({"border": 1, "text_wrap": True, "valign": "top"}),
        "int": book.add_format({"border": 1, "num_format": "#,##0", "valign": "top"}),
        "money": book.add_format({"border": 1, "num_format": "#,##0.00", "valign": "top"}),
        "kg": book.add_format({"border": 1, "num_format": "#,##0.000", "valign": "top"}),
    }
    bold = {key: book.add_format({**_props(key), "bold": True}) for key in ("text", "int", "money", "kg")}
    for sheet in sheets:
        _write_sheet(book, sheet, styles, bold)
    book.close()
    return out.getvalue()


def _props(key: str) -> dict[str, object]:
    formats = {"int": "#,##0", "money": "#,##0.00", "kg": "#,##0.000"}
    props: dict[str, object] = {"border": 1, "valign": "top"}
    if key in formats:
        props["num_format"] = formats[key]
    else:
        props["text_wrap"] = True
    return props


# Excel refuses these in a sheet's name (xlsxwriter raises): a member's or a programme's name may hold one.
_NOT_IN_SHEET_NAMES = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def sheet_name(title: str) -> str:
    """A title as Excel takes it for a sheet's name: none of [ ] : * ? / \\, no apostrophe at
    either end, at most 31 characters, not the reserved History."""
    name = title.translate(_NOT_IN_SHEET_NAMES)[:31].strip("'") or "Sheet1"
    return f"{name[:30]}_" if name.lower() == "history" else name


def _write_sheet(book: xlsxwriter.Workbook, sheet: Sheet, styles: dict, bold: dict) -> None:
    ws = book.add_worksheet(sheet_name(sheet.name))
    for col, width in enumerate(sheet.widths):
        ws.set_column(col, col, width)
    row = 0
    ws.write_string(row, 0, sheet.title, styles["title"])
    row += 1
    for note in sheet.notes:
        ws.write_string(row, 0, note, styles["note"])
        row += 1
    for header in sheet.header:
        for col, text in enumerate(header):
            ws.write_string(row, col, text, styles["header"])
        row += 1
    for index, cells in enumerate(sheet.rows):
        formats = bold if index in sheet.total_rows else styles
        for col, cell in enumerate(cells):
            _write_cell(ws, row, col, cell, formats)
        row += 1


def _write_cell(ws: xlsxwriter.worksheet.Worksheet, row: int, col: int, cell: Cell, formats: dict) -> None:
    if cell is None:
        ws.write_blank(row, col, None, formats["text"])
    elif isinstance(cell, Money):
        value = money_cell(cell.fen)
        if isinstance(value, str):
            ws.write_string(row, col, value, formats["text"])
        else:
            ws.write_number(row, col, value, formats["money"])
    elif isinstance(cell, Kilograms):
        ws.write_number(row, col, Decimal(cell.grams).scaleb(-3), formats["kg"])
    elif isinstance(cell, bool):
        ws.write_string(row, col, "是" if cell else "否", formats["text"])
    elif isinstance(cell, int):
        ws.write_number(row, col, cell, formats["int"])
    else:
        ws.write_string(row, col, str(cell), formats["text"])
