"""Files a clerk uploads are refused in words, never a 500, and never read as something else.

Each case answered 500 or misread before: an xlsx part stored with LZMA and corrupt, a 1904
workbook's date serial past the year 9999, a TRUE cell read as 1, a CSV quote left open that
swallowed every later line into one cell (a bank return's later lines then neither settled nor
reported), a bank return amount of thousands of digits, a NUL in a pipe return's 失败原因, a NUL in
the file's own name, and a 品名 longer than the API keeps; a pipe return had no bound on its lines.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from service.core import xlsx
from service.core.errors import DomainError, TooLarge
from service.core.tabular import MAX_ROWS, CellProblem, read_cell, read_table
from service.core.uploads import kept_filename
from service.payments.bank_files import RETURN_SHEET, ReturnFileError, parse_return_file
from service.ventures.rules import check_trades_sheet
from service.ventures.sheets import TRADE_SHEET

SHEET = (
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    + '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>' * 2000
    + "</sheetData></worksheet>"
)


def _lzma_workbook_corrupted() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_LZMA) as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/worksheets/sheet1.xml", SHEET)
    data = bytearray(out.getvalue())
    at = data.find(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml") + 20
    for k in range(at, at + 40):
        data[k] ^= 0x5A
    return bytes(data)


def test_a_corrupt_lzma_workbook_is_refused_as_a_damaged_file():
    with pytest.raises(xlsx.BadWorkbook):
        xlsx.read_first_sheet(_lzma_workbook_corrupted(), lambda number, cells: None)


def test_a_1904_date_serial_past_the_calendar_is_no_date():
    assert xlsx.serial_date("2957003", True) == "9999-12-31"
    assert xlsx.serial_date("2957500", True) is None


def test_a_true_or_false_cell_is_a_cell_problem_not_a_one():
    with pytest.raises(CellProblem):
        read_cell(xlsx.Cell("b", "1"), TRADE_SHEET.column("amount_fen"))


def test_a_quote_left_open_in_a_csv_is_refused():
    text = '序号,金额,状态,失败原因\r\n1,300,失败,"户名不符\r\n2,300,成功,\r\n3,300,成功,\r\n'
    with pytest.raises(DomainError) as refused:
        read_table(text.encode(), "return.csv", RETURN_SHEET)
    assert "CSV 文件格式错误" in refused.value.detail


@pytest.mark.parametrize(
    "line, field",
    [
        (f"1|张三|6228480012345678901|{'9' * 5000}|621223********001X|成功||", "amount"),
        ("1|张三|6228480012345678901|300.00|621223********001X|失败|户名\x00不符|", "reason"),
        (f"1|张三|6228480012345678901|300.00|621223********001X|失败|{'长' * 501}|", "reason"),
    ],
)
def test_a_bank_return_line_out_of_bounds_names_its_field(line, field):
    with pytest.raises(ReturnFileError) as refused:
        parse_return_file(line.encode("gb18030"), "return.txt")
    assert refused.value.field == field and refused.value.row == 1


def test_a_files_name_keeps_no_control_character():
    assert kept_filename("交易\x00记录.csv") == "交易记录.csv"
    assert len(kept_filename("长" * 1000) or "") == 255 and kept_filename(None) is None


def test_a_product_longer_than_the_api_keeps_is_a_row_error():
    row = {"traded_on": "2025-06-01", "product": "鸡" * 101, "quantity_g": "1000", "amount_fen": "100"}
    with pytest.raises(DomainError) as refused:
        check_trades_sheet([(2, row)], {}, dt.date(2025, 12, 31))
    assert any(e["field"] == "product" for e in refused.value.errors or [])


def test_a_pipe_return_past_the_row_limit_is_refused_before_a_line_is_read():
    line = "1|张三|6228480012345678901|300.00|621223********001X|成功||\n"
    assert len(parse_return_file((line * 3).encode("gb18030"), "return.txt")) == 3
    with pytest.raises(TooLarge) as refused:
        parse_return_file((line * (MAX_ROWS + 3)).encode("gb18030"), "return.txt")
    assert "250000 行" in refused.value.detail
