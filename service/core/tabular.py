"""Reading uploaded sheets: CSV (UTF-8 with or without BOM, or GB18030) and xlsx.

Row numbers are those a person sees in a spreadsheet: the header is row 1, data starts at row 2.
"""

from __future__ import annotations

import csv
import io

from service.core.errors import invalid_field

MAX_ROWS = 250_000


class Table:
    def __init__(self, header: list[str], rows: list[tuple[int, dict[str, str]]]) -> None:
        self.header = header
        self.rows = rows

    def require(self, columns: list[str]) -> None:
        missing = [c for c in columns if c not in self.header]
        if missing:
            raise invalid_field("file", "缺少列：" + "、".join(missing))


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise invalid_field("file", "无法识别文件编码：请使用 UTF-8 或 GB18030") from None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Spreadsheets store typed-in numbers as floats; a whole number is what was typed.
        return str(int(value))
    return str(value).strip()


def read_table(data: bytes, filename: str | None) -> Table:
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        return _read_xlsx(data)
    return _read_csv(_decode(data))


def _finish(raw_rows: list[list[str]]) -> Table:
    if not raw_rows:
        raise invalid_field("file", "文件为空")
    header = [h.strip() for h in raw_rows[0]]
    if len(raw_rows) - 1 > MAX_ROWS:
        raise invalid_field("file", f"文件行数超过上限 {MAX_ROWS}")
    rows: list[tuple[int, dict[str, str]]] = []
    for number, values in enumerate(raw_rows[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        rows.append((number, {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)}))
    return Table(header, rows)


def _read_csv(text: str) -> Table:
    return _finish(list(csv.reader(io.StringIO(text))))


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise invalid_field("file", "无法读取 xlsx 文件") from None
    sheet = workbook.worksheets[0]
    raw = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return _finish(raw)
