"""The first worksheet of an xlsx file, read as a stream within bounds (issue 13: upload bombs).

An xlsx is a ZIP of XML parts. Before anything is parsed, each part to be read is checked by the
size the ZIP declares for it: Python's zipfile never inflates a part past its declared size (a
lying header only truncates the part, whose CRC then fails), so the declared sizes bound the
work. The rows of the sheet are then counted by a scan of the inflated bytes that stops at the
limit, and only then are the shared strings and the sheet parsed by expat, chunk by chunk: no
part is ever held whole in memory or as a tree. A DOCTYPE (and so any entity) is refused.

Cells come back with their text as the file holds it, never through a float: a number is the
decimal text of its <v>, so a caller can read money exactly and can tell a number typed into an
ID column from text. Row numbers are the sheet's own (the `r` of each row), as a person sees them.
"""

from __future__ import annotations

import datetime as dt
import io
import lzma
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple
from xml.parsers import expat

CHUNK = 1 << 16
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_SHEET_DATA = re.compile(rb"<([A-Za-z_][\w.-]*:)?sheetData[\s/>]")
_CELL_REF = re.compile(r"([A-Z]{1,3})")
# Excel's built-in number formats that show a date (ids 27-36 and 50-58 are the CJK ones).
_DATE_FORMAT_IDS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


@dataclass(frozen=True)
class Limits:
    max_rows: int = 250_001  # rows of the sheet, the header included
    max_columns: int = 256  # cells further right are ignored
    max_sheet_bytes: int = 192 << 20  # the sheet's XML as the ZIP declares it
    max_strings_bytes: int = 64 << 20  # the shared strings' XML
    max_meta_bytes: int = 4 << 20  # workbook, relationships, styles
    max_cell_chars: int = 32_767  # Excel's own limit on a cell


class TooLargeWorkbook(Exception):
    """The workbook passes a bound; the message says which, in Chinese."""


class BadWorkbook(Exception):
    """Not a workbook this reader can read; the message says why, in Chinese."""


class Cell(NamedTuple):
    # "s" text, "n" number, "d" date (a number in a date format, or ISO text), "b", "e", and "f": a
    # formula whose result the file does not hold (written by a program, never opened and saved).
    kind: str
    text: str


Row = list[Cell | None]
OnRow = Callable[[int, Row], None]


def read_first_sheet(data: bytes, on_row: OnRow, limits: Limits = Limits()) -> None:
    """Call on_row(row number, cells by column) for each row of the first sheet that holds a cell."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise BadWorkbook("无法读取 xlsx 文件：文件已损坏或不是 xlsx") from None
    try:
        with book:
            _read(book, on_row, limits)
    except (
        zipfile.BadZipFile,
        zlib.error,
        lzma.LZMAError,  # a part stored with LZMA (or bzip2, whose errors are OSError) and corrupt
        EOFError,
        OSError,
        RuntimeError,
        NotImplementedError,
        ValueError,
    ):
        raise BadWorkbook("无法读取 xlsx 文件：文件已损坏") from None
    except expat.ExpatError:
        raise BadWorkbook("无法读取 xlsx 文件：内容不是有效的 XML") from None


def _read(book: zipfile.ZipFile, on_row: OnRow, limits: Limits) -> None:
    parts = {info.filename.lstrip("/"): info for info in book.infolist()}
    workbook = _part(parts, "xl/workbook.xml", limits.max_meta_bytes)
    sheet_rid, date1904 = _workbook(book, workbook)
    targets = _relationships(book, parts, limits)
    sheet_name = targets.get(sheet_rid) if sheet_rid else None
    sheet = _part(parts, sheet_name or "xl/worksheets/sheet1.xml", limits.max_sheet_bytes, what="工作表")
    strings_name = targets.get("sharedStrings")
    styles_name = targets.get("styles")
    strings_info = parts.get(strings_name) if strings_name else None
    if strings_info is not None and strings_info.file_size > limits.max_strings_bytes:
        raise TooLargeWorkbook(f"xlsx 的共享字符串展开后超过 {limits.max_strings_bytes >> 20} MB，拒绝读取")
    _count_rows(book, sheet, limits.max_rows)
    strings = _shared_strings(book, strings_info, limits) if strings_info else []
    styles_info = parts.get(styles_name) if styles_name else None
    dates = _date_styles(book, _part(parts, styles_info.filename, limits.max_meta_bytes)) if styles_info else set()
    _Sheet(strings, dates, date1904, on_row, limits).parse(book, sheet)


def _part(parts: dict[str, zipfile.ZipInfo], name: str, limit: int, *, what: str = "") -> zipfile.ZipInfo:
    info = parts.get(name.lstrip("/"))
    if info is None:
        raise BadWorkbook("无法读取 xlsx 文件：缺少工作簿内容")
    if info.file_size > limit:
        raise TooLargeWorkbook(f"xlsx 的{what or '内容'}展开后超过 {limit >> 20} MB，拒绝读取")
    return info


def _refuse_doctype(*_: Any) -> None:
    raise BadWorkbook("无法读取 xlsx 文件：不接受带 DOCTYPE 的 XML")


def _parse(
    book: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    chars: Callable[[str], None] | None = None,
) -> None:
    """Stream one part through expat; element names arrive without their namespace."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.StartElementHandler = lambda name, attrs: start(name.rpartition("}")[2], attrs)
    if end is not None:
        parser.EndElementHandler = lambda name: end(name.rpartition("}")[2])
    if chars is not None:
        parser.CharacterDataHandler = chars
    with book.open(info) as stream:
        while chunk := stream.read(CHUNK):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _workbook(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str | None, bool]:
    """The relationship id of the first sheet, and whether dates count from 1904."""
    found: dict[str, Any] = {"rid": None, "date1904": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "sheet" and found["rid"] is None:
            found["rid"] = attrs.get(_REL_NS + "id")
        elif name == "workbookPr":
            found["date1904"] = attrs.get("date1904", "").lower() in ("1", "true")

    _parse(book, info, start)
    return found["rid"], found["date1904"]


def _relationships(book: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], limits: Limits) -> dict[str, str]:
    """Part names by relationship id, and the shared strings' and styles' by their type."""
    info = parts.get("xl/_rels/workbook.xml.rels")
    if info is None:
        return {}
    info = _part(parts, info.filename, limits.max_meta_bytes)
    targets: dict[str, str] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        if name != "Relationship":
            return
        target = attrs.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[attrs.get("Id", "")] = path
        kind = attrs.get("Type", "").rpartition("/")[2]
        if kind in ("sharedStrings", "styles"):
            targets[kind] = path

    _parse(book, info, start)
    return targets


def _count_rows(book: zipfile.ZipFile, info: zipfile.ZipInfo, max_rows: int) -> None:
    """Refuse a sheet of more rows than allowed, by counting row tags in the inflated bytes (at the
    speed of bytes.count, before any parsing) and stopping at the limit."""
    count, tail, needle = 0, b"", b""
    with book.open(info) as stream:
        while chunk := stream.read(CHUNK):
            window = tail + chunk
            if not needle:
                found = _SHEET_DATA.search(window)
                if found is None:
                    tail = window[-256:]
                    continue
                needle = b"<" + (found.group(1) or b"") + b"row"
            count += window.count(needle) - tail.count(needle)
            if count > max_rows:
                raise TooLargeWorkbook(
                    f"工作表超过 {max_rows - 1} 行（含带格式的空行），请删除多余的行或分成几个文件上传"
                )
            tail = window[-len(needle) :]


def _shared_strings(book: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> list[str]:
    strings: list[str] = []
    state = {"in_t": False, "phonetic": False, "length": 0}
    parts: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "si":
            parts.clear()
            state["length"] = 0
        elif name == "rPh":  # the phonetic guide of East Asian text is not the cell's text
            state["phonetic"] = True
        elif name == "t":
            state["in_t"] = not state["phonetic"]

    def end(name: str) -> None:
        if name == "si":
            strings.append("".join(parts))
        elif name == "rPh":
            state["phonetic"] = False
        elif name == "t":
            state["in_t"] = False

    def chars(text: str) -> None:
        if state["in_t"]:
            state["length"] += len(text)
            if state["length"] > limits.max_cell_chars:
                raise TooLargeWorkbook(f"xlsx 中有超过 {limits.max_cell_chars} 个字的单元格，拒绝读取")
            parts.append(text)

    _parse(book, info, start, end, chars)
    return strings


def is_date_format(code: str) -> bool:
    """Whether a number format shows a date: a y, m, d, h or s outside quotes and brackets."""
    bare = _QUOTED.sub("", code).lower()
    return any(c in bare for c in "ymdhs") and "general" not in bare


def _date_styles(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> set[int]:
    """The indexes of the cell formats (cellXfs) that show a date."""
    custom: dict[int, str] = {}
    formats: list[int] = []
    state = {"in_xfs": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "numFmt":
            custom[_int(attrs.get("numFmtId"))] = attrs.get("formatCode", "")
        elif name == "cellXfs":
            state["in_xfs"] = True
        elif name == "xf" and state["in_xfs"]:
            formats.append(_int(attrs.get("numFmtId")))

    def end(name: str) -> None:
        if name == "cellXfs":
            state["in_xfs"] = False

    _parse(book, info, start, end)
    return {
        index
        for index, fmt in enumerate(formats)
        if (is_date_format(custom[fmt]) if fmt in custom else fmt in _DATE_FORMAT_IDS)
    }


def _int(text: str | None) -> int:
    try:
        return int(text or "0")
    except ValueError:
        raise BadWorkbook("无法读取 xlsx 文件：格式编号无效") from None


def serial_date(serial: str, date1904: bool) -> str | None:
    """A spreadsheet date serial as YYYY-MM-DD (the day; a time of day is dropped), or None."""
    try:
        number = Decimal(serial)
        days = int(number) if number.is_finite() and number.adjusted() < 8 else -1
    except ArithmeticError:
        return None
    if date1904:
        day = dt.date(1904, 1, 1) + dt.timedelta(days=days) if 0 <= days <= 2_957_003 else None
    elif 1 <= days < 60:
        day = dt.date(1899, 12, 31) + dt.timedelta(days=days)
    elif 61 <= days < 2_958_466:  # Excel's 1900 counts a 29 February 1900 that never was
        day = dt.date(1899, 12, 30) + dt.timedelta(days=days)
    else:
        day = None
    return day.isoformat() if day else None


def column_index(ref: str) -> int | None:
    """A1 → 0, AB7 → 27; None when the reference has no column letters."""
    match = _CELL_REF.match(ref)
    if not match:
        return None
    index = 0
    for letter in match.group(1):
        index = index * 26 + ord(letter) - 64
    return index - 1


class _Sheet:
    """The state of one pass over a sheet's XML: the row and cell being read."""

    def __init__(self, strings: list[str], dates: set[int], date1904: bool, on_row: OnRow, limits: Limits) -> None:
        self.strings, self.dates, self.date1904 = strings, dates, date1904
        self.on_row, self.limits = on_row, limits
        self.row_no = 0
        self.cells: dict[int, Cell] = {}
        self.column = -1
        self.cell: dict[str, str] | None = None
        self.text: list[str] = []
        self.length = 0
        self.collect = False
        self.phonetic = False
        self.formula = False

    def parse(self, book: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        _parse(book, info, self.start, self.end, self.chars)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "c":
            ref = attrs.get("r")
            index = column_index(ref) if ref else None
            self.column = self.column + 1 if index is None else index
            self.cell = attrs
            self.text, self.length, self.formula = [], 0, False
        elif name == "row":
            r = attrs.get("r")
            self.row_no = int(r) if r and r.isascii() and r.isdigit() else self.row_no + 1
            self.cells, self.column = {}, -1
        elif self.cell is not None:
            if name == "rPh":
                self.phonetic = True
            elif name == "f":
                self.formula = True
            elif name in ("v", "t"):
                self.collect = not self.phonetic

    def end(self, name: str) -> None:
        if name == "c":
            self._finish_cell()
        elif name == "row":
            if self.cells:
                width = max(self.cells) + 1
                self.on_row(self.row_no, [self.cells.get(i) for i in range(width)])
            self.cells = {}
        elif name == "rPh":
            self.phonetic = False
        elif name in ("v", "t"):
            self.collect = False

    def chars(self, text: str) -> None:
        if self.collect:
            self.length += len(text)
            if self.length > self.limits.max_cell_chars:
                raise TooLargeWorkbook(f"xlsx 中有超过 {self.limits.max_cell_chars} 个字的单元格，拒绝读取")
            self.text.append(text)

    def _finish_cell(self) -> None:
        attrs, self.cell = self.cell or {}, None
        if self.column >= self.limits.max_columns:
            return
        value = "".join(self.text)
        kind = attrs.get("t", "n")
        cell: Cell | None
        if self.formula and not value:
            cell = Cell("f", "")  # not blank: a value the sheet would show, which the file lacks
        elif kind == "s":
            try:
                cell = Cell("s", self.strings[int(value)])
            except (ValueError, IndexError):
                raise BadWorkbook("无法读取 xlsx 文件：共享字符串编号无效") from None
        elif kind in ("inlineStr", "str"):
            cell = Cell("s", value)
        elif kind in ("b", "e"):
            cell = Cell(kind, value.strip())
        elif kind == "d":
            cell = Cell("d", value.strip()[:10])
        elif not value.strip():
            cell = None
        elif _int_or_none(attrs.get("s")) in self.dates:
            day = serial_date(value.strip(), self.date1904)
            cell = Cell("d", day) if day else Cell("n", value.strip())
        else:
            cell = Cell("n", value.strip())
        if cell is not None:
            self.cells[self.column] = cell


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() else None
