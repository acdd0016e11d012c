"""Reading sheets (service/core/tabular.py, service/core/xlsx.py) and writing cells a spreadsheet
cannot run (issue 12 items 7-9, issue 13 digits and CSV injection)."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest

from service.core.errors import Invalid
from service.core.tabular import Column, SheetSpec, decode_text, formula_safe, implausible_share, read_table
from service.core.xlsx import Cell, is_date_format, read_first_sheet, serial_date
from service.payments.bank_files import BankLine, render_bank_file

SPEC = SheetSpec(
    "unit",
    "测试",
    (
        Column("name", ("姓名",)),
        Column("card", ("银行卡号",), "identity"),
        Column("count", ("数量",), "integer", required=False),
        Column("day", ("日期",), "date", required=False),
    ),
)


def rows(text: str) -> list[dict[str, str]]:
    return [r for _, r in read_table(text.encode(), "t.csv", SPEC).rows]


# --- encodings -----------------------------------------------------------------------------------

NAMES = "郑志强,农业\r\n王秀英,中国农业银行\r\n张建国,甘肃省农村信用社\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_common_names_survive_every_encoding_a_clerk_saves(encoding):
    assert decode_text(NAMES.encode(encoding)) == NAMES


def test_gbk_bytes_that_are_valid_utf8_are_read_as_gbk():
    data = "郑志强,农业".encode("gbk")
    assert data.decode("utf-8") == "֣־ǿ,ũҵ"  # the mojibake the issue saw stored
    assert implausible_share(data.decode("utf-8")) == 1.0 and implausible_share("郑志强,农业") == 0.0
    assert decode_text(data) == "郑志强,农业"


def test_a_file_neither_reading_makes_chinese_of_is_refused_naming_utf8():
    with pytest.raises(Invalid) as caught:
        decode_text("陳大文,臺灣銀行,壹貳參".encode("big5"))
    assert "UTF-8" in caught.value.detail and caught.value.errors[0]["field"] == "file"


def test_an_excel_unicode_text_file_is_read_tab_separated():
    text = "姓名\t银行卡号\r\n郑志强\t6217000012345678901\r\n"
    assert [r for _, r in read_table(text.encode("utf-16"), "t.txt", SPEC).rows] == [
        {"name": "郑志强", "card": "6217000012345678901", "count": "", "day": ""}
    ]


# --- cells ---------------------------------------------------------------------------------------


def test_titles_in_chinese_or_as_the_api_names_them():
    assert rows("姓名,银行卡号\n张三,6217000012345678901\n") == rows("name,card\n张三,6217000012345678901\n")
    assert rows(" 姓 名 ,银行卡号＊,ignored\n张三,6217000012345678901,x\n")[0]["name"] == "张三"


def test_digits_other_than_ascii_are_row_errors_and_full_width_is_made_ascii():
    table = read_table("姓名,银行卡号,数量\n张三,６２１７０００,１２\n李四,1²,3\n王五,1,٣\n".encode(), "t.csv", SPEC)
    assert table.rows[0][1]["card"] == "6217000" and table.rows[0][1]["count"] == "12"
    assert [(e["row"], e["field"]) for e in table.errors] == [(3, "card"), (4, "count")]
    assert "半角" in table.errors[0]["message"] and "银行卡号" in table.errors[0]["message"]


def test_dates_as_clerks_write_them():
    got = [r["day"] for r in rows("姓名,银行卡号,日期\na,1,2025/3/1\nb,1,2025年3月1日\nc,1,2025.03.01\nd,1,2025-3-1\n")]
    assert got == ["2025-03-01"] * 4


def test_control_characters_are_row_errors():
    table = read_table("姓名,银行卡号\n张\x00三,1\n".encode(), "t.csv", SPEC)
    assert [(e["row"], e["field"]) for e in table.errors] == [(2, "name")]


def test_numeric_xlsx_cells_by_kind():
    book = openpyxl.Workbook()
    book.active.append(["姓名", "银行卡号", "数量", "日期"])
    book.active.append([12, 6217000012345678901, 1e3, 45717])  # 45717 in a number format, not a date
    book.active.append(["b", "6217000012345678901", 2.5, "2025-03-01"])
    out = io.BytesIO()
    book.save(out)
    table = read_table(out.getvalue(), "t.xlsx", SPEC)
    assert [(e["row"], e["field"]) for e in table.errors] == [(2, "card"), (2, "day"), (3, "count")]
    assert table.rows[0][1]["name"] == "12" and table.rows[0][1]["count"] == "1000"


def test_date_formats_and_serials():
    assert is_date_format("yyyy/m/d") and is_date_format('[$-804]yyyy"年"m"月"d"日"') and is_date_format("h:mm")
    assert not is_date_format("0.00") and not is_date_format('"元"0.00') and not is_date_format("General")
    assert serial_date("45717", False) == "2025-03-01" and serial_date("45717.75", False) == "2025-03-01"
    assert serial_date("1E+400", False) is None and serial_date("60", False) is None


def test_the_digest_is_of_the_rows_read_not_the_bytes():
    a = read_table("姓名,银行卡号\n张三,1\n\n".encode(), "t.csv", SPEC)
    b = read_table("银行卡号,姓名,其他\r\n1,张三,x\r\n".encode("gbk"), "t.csv", SPEC)
    c = read_table("姓名,银行卡号\n张三,2\n".encode(), "t.csv", SPEC)
    assert a.digest == b.digest != c.digest


# --- CSV injection -------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_a_spreadsheet_would_run_are_written_as_text(start):
    assert formula_safe(start + "1+1") == "'" + start + "1+1"
    assert formula_safe("张三") == "张三" and formula_safe("6217000012345678901") == "6217000012345678901"


EVIL = '=HYPERLINK("http://evil","张三")'
LINES = [
    BankLine(1, "pay-001", EVIL, "6228480402564890018", 30_000, "62010219900307123X"),
    BankLine(2, "pay-002", "李四", "6228480402564890026", 5, "620102199003071234"),
]


def test_bank_files_neutralise_a_formula_in_a_name_and_leave_the_rest_as_the_bank_reads_it():
    content, _, _ = render_bank_file("csv", "B1", LINES)
    sent = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert sent[1] == ["1", "pay-001", "'" + EVIL, "6228480402564890018", "300.00", "62010219900307123X"]
    assert sent[2] == ["2", "pay-002", "李四", "6228480402564890026", "0.05", "620102199003071234"]
    content, _, _ = render_bank_file("pipe", "B1", LINES)
    lines = content.decode("gb18030").split("\r\n")
    assert lines[1] == f"1|'{EVIL}|6228480402564890018|300.00|62010219900307123X|"
    assert lines[2] == "2|李四|6228480402564890026|0.05|620102199003071234|"
    content, _, _ = render_bank_file("xlsx", "B1", LINES)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet["C2"].value == "'" + EVIL and sheet["C2"].data_type == "s"
    assert [sheet.cell(2, c).value for c in (4, 5, 6)] == ["6228480402564890018", "300.00", "62010219900307123X"]


def test_a_formula_saved_without_its_result_is_a_row_error_not_a_blank():
    """A workbook written by a program (openpyxl, a report export) holds `=B2*2` but no result:
    the cell would read as blank, and an optional column as not given. It is refused in words."""
    book = openpyxl.Workbook()
    book.active.append(["姓名", "银行卡号", "数量", "日期"])
    book.active.append(["张三", "6217000012345678901", "=2*3", "2025-03-01"])
    book.active.append(["=A2", "6217000012345678901", 4, "2025-03-01"])
    out = io.BytesIO()
    book.save(out)
    table = read_table(out.getvalue(), "t.xlsx", SPEC)
    assert [(e["row"], e["field"]) for e in table.errors] == [(2, "count"), (3, "name")]
    assert all("公式" in e["message"] and "保存" in e["message"] for e in table.errors), table.errors


def test_a_formula_with_its_saved_result_reads_as_the_result():
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="str"><f>"数"&amp;"量"</f><v>数量</v></c></row>'
        '<row r="2"><c r="A2"><f>2*3</f><v>6</v></c></row>'
        "</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        book.writestr(
            "xl/workbook.xml", '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
        )
        book.writestr("xl/worksheets/sheet1.xml", sheet)
    rows: list = []
    read_first_sheet(out.getvalue(), lambda number, cells: rows.append((number, cells)))
    assert rows == [(1, [Cell("s", "数量")]), (2, [Cell("n", "6")])]
