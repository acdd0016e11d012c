"""Reading uploaded sheets (CSV or xlsx) as clerks write them, within bounds.

Each import declares its columns (a SheetSpec): the API's name, the Chinese titles clerks put at
the head of the column (户号, 身份证号 …) and the kind of value, which says how a cell is read:

- `identity` (ID and card numbers): text only. A number typed into the column arrives as a float
  that has lost every digit past the 15th, so a numeric xlsx cell, or text in scientific notation
  (6.20102E+17, what a spreadsheet saved to CSV leaves), is a row error telling the clerk to format
  the column as text.
- `integer` (counts, grams, fen) and `yuan`: read exactly from the cell's decimal text, never
  through a float; a numeric cell that is not a whole number (of fen, for yuan: two decimals at
  most) is a row error.
- `code` (region codes, phone numbers, member numbers): text, or a whole number of at most 15
  digits (which a spreadsheet keeps exactly).
- `date`: YYYY-MM-DD, also written 2025/3/1, 2025.3.1 or 2025年3月1日, or a cell in a date format.
- `choice`: the words people write (车辆, 市场主体 …) mapped to the API's own.
In every kind but `text`, only ASCII digits are digits: full-width ０-９ (and the full-width
letters and signs of a Chinese input method) are turned into ASCII on purpose; any other digit
(², Arabic-Indic ٣ …) is a row error naming the column. A control character in any cell is one too.

CSV encodings: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK, decided on the whole
file. Bytes that read both as UTF-8 and as GBK (short GBK files often do: 郑志强 reads as UTF-8
֣־ǿ) are read as the one whose text is plausible Chinese (its characters in GB 2312, the common
set, rather than Hebrew, Cyrillic or rare characters); when neither clearly is, the file is refused
asking for UTF-8. Bounds: at most MAX_ROWS data rows (a larger file answers 413 as soon as the
count passes the limit, before the rows are checked), 32,767 characters a cell; xlsx parts within
the sizes service/core/xlsx.py checks. Parsing runs in a worker thread (read_sheet), never on the
event loop, and at most PARALLEL_PARSES at once, so memory stays bounded.

Row numbers are those a person sees in a spreadsheet: the header is row 1, data starts at row 2.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import hashlib
import io
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

from service.core import xlsx
from service.core.errors import FieldErrors, Invalid, TooLarge, field_error, invalid_field, refuse_rows

MAX_ROWS = 250_000
MAX_CELL_CHARS = 32_767
PARALLEL_PARSES = 2

Kind = Literal["text", "identity", "code", "integer", "yuan", "date", "choice"]


@dataclass(frozen=True)
class Column:
    """One column of an import: its API name, the titles clerks write, what a cell holds."""

    name: str
    titles: tuple[str, ...]  # the first is the template's
    kind: Kind = "text"
    required: bool = True
    example: str = ""
    note: str = ""
    # For `choice`: what people write (lower case) → the API's word; the keys shown first are the
    # template's list.
    aliases: Mapping[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.titles[0] if self.titles else self.name


@dataclass(frozen=True)
class SheetSpec:
    kind: str  # names the import (template file, the log of imported files)
    title: str  # what the sheet is, in Chinese
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


class Table:
    """The rows of a sheet by API column name, the faults of its cells, and a digest of its data."""

    def __init__(
        self,
        header: list[str],
        rows: list[tuple[int, dict[str, str]]],
        errors: FieldErrors | None = None,
        digest: str = "",
        spec: SheetSpec | None = None,
    ) -> None:
        self.header = header
        self.rows = rows
        self.errors: FieldErrors = errors or []
        self.digest = digest
        self.kind, self.title = (spec.kind, spec.title) if spec else ("", "")

    def require(self, columns: list[str]) -> None:
        missing = [c for c in columns if c not in self.header]
        if missing:
            raise invalid_field("file", "缺少列：" + "、".join(missing))

    @contextmanager
    def checking(self, what: str = "未导入任何数据") -> Iterator[None]:
        """Check the rows in the block: the cells' faults and the rows' faults are refused together,
        each (row, column) once, the cell's own message first."""
        try:
            yield
        except Invalid as error:
            if not self.errors:
                raise
            named = {(e.get("row"), e["field"]) for e in self.errors}
            more = [e for e in error.errors or [] if "row" in e and (e["row"], e["field"]) not in named]
            refuse_rows(self.errors + more, what)
        refuse_rows(list(self.errors), what)


# ---- reading ----------------------------------------------------------------------------------

_parses = threading.BoundedSemaphore(PARALLEL_PARSES)
T = TypeVar("T")


async def read_sheet(data: bytes, filename: str | None, spec: SheetSpec) -> Table:
    """read_table in a worker thread: a large sheet never holds up the event loop."""
    return await parse_off_the_loop(read_table, data, filename, spec)


async def parse_off_the_loop(parse: Callable[..., T], *args: Any) -> T:
    """`parse(*args)` in a worker thread, at most PARALLEL_PARSES of them at once (an upload's
    parse holds its rows in memory: the bound keeps a burst of uploads from holding them all)."""
    return await asyncio.to_thread(_bounded, parse, *args)


def _bounded(parse: Callable[..., T], *args: Any) -> T:
    with _parses:
        return parse(*args)


def read_table(data: bytes, filename: str | None, spec: SheetSpec) -> Table:
    """The rows of a CSV or xlsx file, or Invalid (422) naming the file, or TooLarge (413)."""
    name = (filename or "").lower()
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or name.endswith(".xls"):
        raise invalid_field("file", "不支持 .xls（Excel 97-2003）文件，请另存为 .xlsx 或“CSV UTF-8”后上传")
    reader = _Reader(spec)
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        try:
            xlsx.read_first_sheet(data, reader.add_cells, xlsx.Limits(max_rows=MAX_ROWS + 1))
        except xlsx.TooLargeWorkbook as exc:
            raise TooLarge(str(exc)) from None
        except xlsx.BadWorkbook as exc:
            raise invalid_field("file", str(exc)) from None
    else:
        _read_csv(decode_text(data), reader)
    return reader.table()


def _read_csv(text: str, reader: _Reader) -> None:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        if text.count("\n") > MAX_ROWS:
            # Perhaps too many rows: counted first by the csv module alone (at C speed), so that a
            # file far too long is refused before a single cell is read.
            for number, _ in enumerate(csv.reader(_lines(text), delimiter=delimiter, strict=True)):
                if number > MAX_ROWS:
                    raise TooLarge(f"文件超过 {MAX_ROWS} 行数据，请分成几个文件上传")
        reader.controls = _CONTROL.search(text) is not None
        # strict: a quote left open is refused, not left to swallow every later line into its cell.
        rows = csv.reader(_lines(text), delimiter=delimiter, strict=True)
        for number, values in enumerate(rows, start=1):
            reader.add_texts(number, values)
    except csv.Error as exc:
        raise invalid_field("file", f"CSV 文件格式错误：{exc}") from None


def _lines(text: str) -> Iterator[str]:
    """The lines of a text, ends kept, without a second copy of it (as io.StringIO would make)."""
    start = 0
    while (end := text.find("\n", start)) != -1:
        yield text[start : end + 1]
        start = end + 1
    if start < len(text):
        yield text[start:]


class _Reader:
    """Rows arrive one by one (from csv or from the xlsx stream): the first holds the titles."""

    def __init__(self, spec: SheetSpec) -> None:
        self.spec = spec
        self.columns: list[Column | None] | None = None
        self.rows: list[tuple[int, dict[str, str]]] = []
        self.errors: FieldErrors = []
        self.digest = hashlib.sha256(spec.kind.encode() + b"\x1e")
        self.names: list[str] = []
        self.controls = True  # whether a cell may hold a control character (a CSV is scanned once)

    def add_texts(self, number: int, values: list[str]) -> None:
        if self.columns is None:
            self._start(values)
            return
        row, faults = self._new_row(), len(self.errors)
        for column, value in zip(self.columns, values):
            if column is None or not value:
                continue
            if column.kind in _PLAIN and not self.controls and value.isascii() and len(value) <= MAX_CELL_CHARS:
                row[column.name] = value.strip()  # what read_text would answer, the common case made fast
                continue
            try:
                row[column.name] = read_text(value, column, controls=self.controls)
            except CellProblem as problem:
                self.errors.append(field_error(column.name, f"{column.title}：{problem}", number))
        self._keep(number, row, faults)

    def add_cells(self, number: int, cells: list[xlsx.Cell | None]) -> None:
        if self.columns is None:
            self._start([c.text if c else "" for c in cells])
            return
        row, faults = self._new_row(), len(self.errors)
        for column, cell in zip(self.columns, cells):
            if column is None or cell is None:
                continue
            try:
                row[column.name] = read_cell(cell, column)
            except CellProblem as problem:
                self.errors.append(field_error(column.name, f"{column.title}：{problem}", number))
        self._keep(number, row, faults)

    def _start(self, titles: list[str]) -> None:
        self.columns = _header(self.spec, titles)
        # Every row has every column of the import, in the spec's order ("" where the file has none),
        # so the rules can index it and the digest does not depend on the file's column order.
        self.names = [c.name for c in self.spec.columns]

    def _new_row(self) -> dict[str, str]:
        if len(self.rows) >= MAX_ROWS:
            raise TooLarge(f"文件超过 {MAX_ROWS} 行数据，请分成几个文件上传")
        return dict.fromkeys(self.names, "")

    def _keep(self, number: int, row: dict[str, str], faults: int) -> None:
        """Keep a row unless it is blank (and faultless): blank lines are no rows."""
        if len(self.errors) == faults and not any(row.values()):
            return
        self.digest.update("\x1f".join(row.values()).encode() + b"\x1e")
        self.rows.append((number, row))

    def table(self) -> Table:
        if self.columns is None:
            raise invalid_field("file", "文件为空")
        present = [c.name for c in self.columns if c is not None]
        return Table(present, self.rows, self.errors, self.digest.hexdigest(), self.spec)


def title_key(title: str) -> str:
    """A column title as compared: full-width folded, spaces and a trailing * dropped, lower case."""
    return re.sub(r"\s+", "", title.translate(_FULL_WIDTH)).rstrip("*").lower()


def _header(spec: SheetSpec, titles: list[str]) -> list[Column | None]:
    """The column of each title of the header row (None for columns the import does not read)."""
    by_key = {title_key(t): c for c in spec.columns for t in (c.name, *c.titles)}
    found: list[Column | None] = [by_key.get(title_key(t)) for t in titles]
    named = [c.name for c in found if c is not None]
    twice = sorted({n for n in named if named.count(n) > 1})
    if twice:
        titles_of = "、".join(spec.column(n).title for n in twice)
        raise invalid_field("file", f"同一列出现了两次：{titles_of}")
    missing = [c for c in spec.columns if c.required and c.name not in named]
    if missing:
        raise invalid_field("file", "缺少列：" + "、".join(f"{c.title}（{c.name}）" for c in missing))
    return found


# ---- cells ------------------------------------------------------------------------------------


class CellProblem(ValueError):
    """Why a cell cannot be read as its column's kind, in Chinese."""


# Kinds whose ASCII text read_text answers stripped, unchanged.
_PLAIN = frozenset({"text", "integer", "code", "yuan"})
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SCIENTIFIC = re.compile(r"^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$")
_DATE = re.compile(r"^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?(?:[ T]0{1,2}:00(?::00)?)?$")
FORMULA_WITHOUT_VALUE = (
    "单元格是公式，但文件里没有保存计算结果（由程序生成、未在表格软件中打开保存过）；"
    "请用 Excel 或 WPS 打开此文件、保存后重新上传，或把公式换成数值"
)
AS_TEXT = "请把该列设置为“文本”格式后重新输入号码（数字格式会丢失第15位以后的数字）"


def read_cell(cell: xlsx.Cell, column: Column) -> str:
    """An xlsx cell as the text its column's rules read, or CellProblem."""
    if cell.kind == "e":
        raise CellProblem(f"单元格是错误值 {cell.text}")
    if cell.kind == "f":
        raise CellProblem(FORMULA_WITHOUT_VALUE)
    if cell.kind == "b":  # TRUE / FALSE, which would otherwise read as 1 and 0
        raise CellProblem("单元格是“是/否”（TRUE/FALSE）值，请改填数字或文字")
    if cell.kind == "n":
        return _number(_ascii_digits(cell.text.strip()), column)
    if cell.kind == "d" and column.kind not in ("date", "text", "choice"):
        raise CellProblem("这里应填数字，不是日期")
    return read_text(cell.text, column)


def read_text(text: str, column: Column, *, controls: bool = True) -> str:
    """A cell's text as its column's rules read it, or CellProblem."""
    if len(text) > MAX_CELL_CHARS:
        raise CellProblem(f"超过 {MAX_CELL_CHARS} 个字")
    if controls and _CONTROL.search(text):
        raise CellProblem("含有不可见的控制字符")
    text = text.strip()
    kind = column.kind
    if kind == "text":
        return text
    if not text.isascii():
        text = _ascii_digits(text)
    if kind == "identity" and _SCIENTIFIC.match(text):
        raise CellProblem("号码被表格软件改成了科学计数法，末几位已丢失；" + AS_TEXT)
    if kind == "date":
        match = _DATE.match(text)
        return f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}" if match else text
    if kind == "choice":
        return column.aliases.get(title_key(text), text)
    return text


def _ascii_digits(text: str) -> str:
    """Full-width digits, letters and signs made ASCII; any other kind of digit refused."""
    text = text.translate(_FULL_WIDTH)
    for ch in text:
        if not ch.isascii() and (ch.isdigit() or ch.isnumeric() or unicodedata.category(ch) == "Nd"):
            raise CellProblem(f"含有非半角数字“{ch}”，请只用 0-9（全角数字会自动换成半角）")
    return text


def _decimal(text: str) -> Decimal | None:
    """The exact decimal a numeric cell holds (its text, never a float), or None when it has none."""
    if len(text) > 40:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value.adjusted() <= 18 else None


def _number(text: str, column: Column) -> str:
    """A numeric xlsx cell, as the column's kind reads it."""
    if column.kind == "identity":
        raise CellProblem("该列单元格是数字格式；" + AS_TEXT)
    if column.kind == "date":
        raise CellProblem(f"日期应写成 YYYY-MM-DD 或设为日期格式（单元格中是数字 {text}）")
    value = _decimal(text)
    if value is None:
        if column.kind in ("integer", "yuan"):
            raise CellProblem(f"数值 {text} 无法读取")
        return text
    whole = value == value.to_integral_value()
    if column.kind == "yuan":
        cents = value * 100
        if cents != cents.to_integral_value():
            raise CellProblem(f"金额 {text} 不是整分（最多两位小数），请按文本填写金额")
        return f"{value.quantize(Decimal('0.01'))}"
    if column.kind == "integer":
        if not whole:
            raise CellProblem(f"应为整数，单元格中是 {text}")
        return str(int(value))
    if column.kind == "code" and whole and value >= 0 and value.adjusted() >= 15:
        raise CellProblem("该列单元格是数字格式；" + AS_TEXT)
    return str(int(value)) if whole and value.adjusted() < 15 else text


# ---- encodings --------------------------------------------------------------------------------

# The Greek and Cyrillic letters GB 2312 holds: in a Chinese sheet they are GBK read as UTF-8.
_GB2312_FOREIGN = re.compile("[\u0391-\u03c9\u0401\u0410-\u044f\u0451]")
PLAUSIBLE = 0.2  # at most this share of the non-ASCII characters outside common Chinese
CLEAR_GAP = 0.3  # how much less plausible the other reading must be
ASK_FOR_UTF8 = "请在 Excel 中“另存为 → CSV UTF-8（逗号分隔）”后重新上传"


def implausible_share(text: str) -> float:
    """The share of the non-ASCII characters that a Chinese sheet would hardly hold: outside
    GB 2312 (the 6,763 common characters, full-width forms and punctuation), or Greek/Cyrillic."""
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if non_ascii == 0:
        return 0.0
    outside = text.encode("gb2312", "replace").count(b"?") - text.count("?")
    return (outside + len(_GB2312_FOREIGN.findall(text))) / non_ascii


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def decode_text(data: bytes) -> str:
    """The text of an uploaded text file, its encoding judged on the whole file (module docstring)."""
    if data.startswith(codecs.BOM_UTF8):
        if (text := _strict(data[3:], "utf-8")) is None:
            raise invalid_field("file", "文件标明为 UTF-8，但内容不是有效的 UTF-8；" + ASK_FOR_UTF8)
        return text
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if (text := _strict(data, "utf-16")) is None:
            raise invalid_field("file", "文件标明为 UTF-16，但内容无法读取；" + ASK_FOR_UTF8)
        return text
    if data.isascii():
        return data.decode("ascii")
    utf8, gbk = _strict(data, "utf-8"), _strict(data, "gb18030")
    if utf8 is not None and gbk is None:
        return utf8
    if gbk is None:
        raise invalid_field("file", "无法识别文件编码：既不是 UTF-8 也不是 GBK/GB18030；" + ASK_FOR_UTF8)
    g = implausible_share(gbk)
    if utf8 is None:
        if g <= PLAUSIBLE:
            return gbk
        raise invalid_field(
            "file",
            "文件不是 UTF-8 编码，按 GBK/GB18030 读出的文字又不像正常中文（可能是 Big5 等编码）；" + ASK_FOR_UTF8,
        )
    u = implausible_share(utf8)
    if g <= PLAUSIBLE and u >= g + CLEAR_GAP:
        return gbk
    if u <= PLAUSIBLE and g >= u + CLEAR_GAP:
        return utf8
    raise invalid_field("file", "无法确定文件编码：可能是 UTF-8，也可能是 GBK，两种读法都不像正常中文；" + ASK_FOR_UTF8)


# ---- writing ----------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """A cell every spreadsheet shows as text, never runs (CSV injection, as OWASP describes it):
    one beginning with =, +, -, @, a tab or a CR gets a leading '. Digits are never touched."""
    return "'" + text if text.startswith(_FORMULA_START) else text


# ---- templates --------------------------------------------------------------------------------

_KIND_NOTES = {
    "text": "文本",
    "identity": "文本格式的号码（不要用数字格式）",
    "code": "数字或文本",
    "integer": "整数",
    "yuan": "金额（元），最多两位小数",
    "date": "日期，如 2025-03-01",
    "choice": "从下拉列表中选择",
}


_templates: dict[str, bytes] = {}


def template_xlsx(spec: SheetSpec) -> bytes:
    """The import's template: Chinese titles, identity and date columns formatted as text, one
    example row, and a sheet 填写说明 describing each column (made once per import)."""
    if spec.kind not in _templates:
        _templates[spec.kind] = _template(spec)
    return _templates[spec.kind]


def _template(spec: SheetSpec) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    sheet = book.add_worksheet(spec.title)
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF7"})
    text = book.add_format({"num_format": "@"})
    for col, column in enumerate(spec.columns):
        # Whole numbers may stay numbers (a spreadsheet keeps them exactly); everything else is text.
        as_text = column.kind != "integer"
        sheet.set_column(col, col, max(12, 2 * len(column.title) + 4), text if as_text else None)
        sheet.write_string(0, col, column.title, bold)
        if column.example and as_text:
            sheet.write_string(1, col, column.example, text)
        elif column.example:
            sheet.write_number(1, col, int(column.example))
        if column.kind == "choice":
            words = list(dict.fromkeys(k for k in column.aliases if not k.isascii()))
            sheet.data_validation(1, col, MAX_ROWS, col, {"validate": "list", "source": words[:20]})
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("填写说明")
    for col, title in enumerate(("列名", "接口字段", "必填", "填写要求", "也认作此列的列名")):
        notes.write_string(0, col, title, bold)
    for row, column in enumerate(spec.columns, start=1):
        notes.write_string(row, 0, column.title)
        notes.write_string(row, 1, column.name)
        notes.write_string(row, 2, "是" if column.required else "否")
        notes.write_string(row, 3, column.note or _KIND_NOTES[column.kind])
        notes.write_string(row, 4, "、".join(column.titles[1:]))
    notes.set_column(0, 4, 24)
    book.close()
    return out.getvalue()
