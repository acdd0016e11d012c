import csv
import io
from datetime import date

import openpyxl
import pytest
import xlsxwriter
from pypdf import PdfReader

from service.documents.fonts import document_fonts
from service.documents.pdf import (
    CertificateData,
    StatementData,
    StatementLine,
    award_certificate_pdf,
    household_statement_pdf,
    statement_totals,
)
from service.payments.bank_files import (
    PROFILES,
    BankLine,
    ReturnFileError,
    ReturnLine,
    parse_return_file,
    render_bank_file,
)
from tests.requirements import needs_cjk_font, require_cjk_font


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# ---- PDFs --------------------------------------------------------------------------------

CERTIFICATE = CertificateData(
    kind="exit",
    holder_name="张大三",
    village_name="城关镇新城村",
    year=2024,
    amount_fen=30000,
    serial="TP-620000-2024-000123",
    verify_url="https://huinong.example.cn/verify/TP-620000-2024-000123",
    issuing_county="宕昌县人民政府",
    issued_on=date(2024, 12, 20),
)


@needs_cjk_font
def test_exit_certificate_renders_chinese():
    text = pdf_text(award_certificate_pdf(CERTIFICATE))
    for expected in (
        "光荣脱贫证",
        "张大三",
        "城关镇新城村",
        "TP-620000-2024-000123",
        "300.00",
        "叁佰元整",
        "宕昌县人民政府",
        CERTIFICATE.verify_url,
    ):
        assert expected in text.replace("\n", ""), expected


@needs_cjk_font
def test_xiaokang_certificate_has_its_own_title():
    from dataclasses import replace

    text = pdf_text(award_certificate_pdf(replace(CERTIFICATE, kind="xiaokang", amount_fen=50050)))
    assert "小康" in text and "光荣脱贫证" not in text
    assert "500.50" in text and "伍佰元伍角整" in text.replace("\n", "")


LINES = (
    StatementLine("dividend", "新城村中药材合作社", "按 10 股分红", 12345, "paid", date(2024, 12, 1)),
    StatementLine(
        "guaranteed_return", "新城村中药材合作社", "扶贫资金入股保底收益 5%", 50000, "paid", date(2024, 12, 1)
    ),
    StatementLine(
        "settlement",
        "岷归药业有限公司",
        "交售 52.300 公斤，合同内按保底价 12.00 元/公斤，计 627.60 元",
        62760,
        "unpaid",
    ),
    StatementLine("award", "2024 年脱贫奖", "光荣脱贫奖励", 30000, "in_batch"),
)


def test_statement_totals_by_income_kind():
    # 财产性 123.45 + 500.00 = 623.45; 生产经营性 627.60; 转移性 300.00; all 1551.05.
    totals, total = statement_totals(LINES)
    assert totals == {"财产性收入": 62345, "生产经营性收入": 62760, "转移性收入": 30000}
    assert total == 155105


@needs_cjk_font
def test_household_statement_shows_lines_and_totals():
    data = StatementData("李大四", "6221010010001", 2024, LINES, date(2025, 1, 5))
    text = pdf_text(household_statement_pdf(data))
    flat = text.replace("\n", "")
    assert "李大四" in text and "2024 年家庭收益明细" in text
    for expected in (
        "财产性收入：623.45 元",
        "生产经营性收入：627.60 元",
        "转移性收入：300.00 元",
        "全年合计：1551.05 元",
        "已发放",
        "待发放",
        "发放中",
        "2024-12-01",
    ):
        assert expected in flat, expected


@needs_cjk_font
def test_statement_spanning_pages():
    data = StatementData("李大四", "6221010010001", 2024, LINES * 15, date(2025, 1, 5))
    reader = PdfReader(io.BytesIO(household_statement_pdf(data)))
    assert len(reader.pages) > 1
    assert "全年合计：23265.75 元" in reader.pages[-1].extract_text().replace("\n", "")


def test_fonts_are_found_once_and_reused():
    require_cjk_font()
    assert document_fonts() is document_fonts()


# ---- bank files ------------------------------------------------------------------------------

BANK_LINES = [
    BankLine(1, "pay-001", "张三", "6228480402564890018", 30000, "620102199003071234"),
    BankLine(2, "pay-002", "欧阳秀英", "6217003810012345678", 12345, "62010219850101002X"),
    BankLine(3, "pay-003", "李四", "6228480402564890026", 5, "620102197707071111"),
]
# 300.00 + 123.45 + 0.05 = 423.50 yuan, 3 lines.


def test_pipe_profile_is_gb18030_with_head_and_tail_totals():
    content, content_type, filename = render_bank_file("pipe", "B2024-07", BANK_LINES)
    assert filename == "B2024-07-pipe.txt" and "GB18030" in content_type
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    lines = content.decode("gb18030").split("\r\n")
    assert lines[0] == "HEAD|B2024-07|3|423.50|"
    assert lines[1] == "1|张三|6228480402564890018|300.00|620102199003071234|"
    assert lines[3] == "3|李四|6228480402564890026|0.05|620102197707071111|"
    assert lines[4] == "TAIL|3|423.50|"
    assert lines[5] == ""


def test_csv_profile_is_utf8_with_bom():
    content, content_type, filename = render_bank_file("csv", "B2024-07", BANK_LINES)
    assert content.startswith(b"\xef\xbb\xbf") and filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["序号", "流水号", "姓名", "帐号", "金额", "身份证号"]
    assert rows[2] == ["2", "pay-002", "欧阳秀英", "6217003810012345678", "123.45", "62010219850101002X"]
    assert sum(int(r[4].replace(".", "")) for r in rows[1:]) == 42350


def test_xlsx_profile_has_text_cells_and_totals_row():
    content, content_type, filename = render_bank_file("xlsx", "B2024-07", BANK_LINES)
    assert "spreadsheetml" in content_type and filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    # Card numbers of 19 digits would lose digits as numbers; amounts stay text made from fen.
    assert rows[1] == ("1", "pay-001", "张三", "6228480402564890018", "300.00", "620102199003071234")
    assert rows[-1][0] == "合计" and rows[-1][2] == "共3笔" and rows[-1][4] == "423.50"


def test_bank_file_refuses_bad_lines():
    with pytest.raises(ValueError, match="delimiter|\\|"):
        render_bank_file("pipe", "B1", [BankLine(1, "p", "张|三", "6228", 100, "6201")])
    with pytest.raises(ValueError, match="positive"):
        render_bank_file("csv", "B1", [BankLine(1, "p", "张三", "6228", 0, "6201")])
    with pytest.raises(ValueError, match="unknown bank profile"):
        render_bank_file("swift", "B1", BANK_LINES)


def _returned(profile: str, content: bytes) -> bytes:
    """What a bank tool sends back: the sent file with 状态/失败原因 added; line 2 failed."""
    if profile == "pipe":
        text = content.decode("gb18030")
        out = []
        for line in text.split("\r\n"):
            if line[:1].isdigit():
                failed = line.startswith("2|")
                line += "失败|户名与帐号不符|" if failed else "成功||"
            out.append(line)
        return "\r\n".join(out).encode("gb18030")
    if profile == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        rows[0] += ["状态", "失败原因"]
        for row in rows[1:]:
            row += ["失败", "户名与帐号不符"] if row[0] == "2" else ["成功", ""]
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode("gb18030")  # a bank may answer in GB18030
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    sheet.cell(1, 7, "状态")
    sheet.cell(1, 8, "失败原因")
    for row in range(2, 5):
        failed = sheet.cell(row, 1).value == "2"
        sheet.cell(row, 7, "失败" if failed else "成功")
        sheet.cell(row, 8, "户名与帐号不符" if failed else None)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_return_file_round_trip(profile):
    content, _type, filename = render_bank_file(profile, "B2024-07", BANK_LINES)
    lines = parse_return_file(_returned(profile, content), filename)
    with_ids = profile != "pipe"
    assert lines == [
        ReturnLine(1, "pay-001" if with_ids else None, "0018", 30000, True, ""),
        ReturnLine(2, "pay-002" if with_ids else None, "5678", 12345, False, "户名与帐号不符"),
        ReturnLine(3, "pay-003" if with_ids else None, "0026", 5, True, ""),
    ]


def test_return_file_with_numeric_xlsx_cells_and_payable_ids_only():
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["流水号", "金额（元）", "处理状态", "备注"])
    sheet.write_row(1, 0, ["pay-001", 300, "S", ""])
    sheet.write_row(2, 0, ["pay-002", 123.45, "F", "账户已冻结"])
    workbook.close()
    lines = parse_return_file(buffer.getvalue(), "回盘.xlsx")
    assert [(l.payable_id, l.amount_fen, l.ok, l.reason) for l in lines] == [
        ("pay-001", 30000, True, ""),
        ("pay-002", 12345, False, "账户已冻结"),
    ]


@pytest.mark.parametrize(
    ("body", "row", "field"),
    [
        ("序号,金额,状态\n1,300.00,成功\n2,12.345,成功\n", 3, "amount"),
        ("序号,金额,状态\n1,300.00,成功\n2,1.00,未知\n", 3, "status"),
        ("序号,金额,状态\n0,300.00,成功\n", 2, "seq"),
        ("序号,金额\n1,300.00\n", 1, "status"),
        ("流水号,金额,状态\n,300.00,成功\n", 2, "seq"),
    ],
)
def test_malformed_return_line_names_row_and_field(body, row, field):
    with pytest.raises(ReturnFileError) as caught:
        parse_return_file(body.encode("utf-8"), "returns.csv")
    assert (caught.value.row, caught.value.field) == (row, field)
    assert f"row {row}, field {field}" in str(caught.value)


def test_pipe_return_tail_must_match():
    body = "1|张三|6228480402564890018|300.00|620102199003071234|成功||\r\nTAIL|1|300.01|\r\n"
    with pytest.raises(ReturnFileError, match="row 2, field total"):
        parse_return_file(body.encode("gb18030"), "returns.txt")


def test_missing_font_error_names_the_debian_package(monkeypatch, tmp_path):
    from service.documents import fonts

    monkeypatch.setattr(fonts, "PREFERRED_FONT", tmp_path / "absent.ttf")
    monkeypatch.setattr(fonts, "_font_dirs", lambda: [tmp_path])
    fonts.cjk_font_path.cache_clear()
    fonts._font_files.cache_clear()
    try:
        with pytest.raises(fonts.CJKFontNotFound, match="fonts-droid-fallback"):
            fonts.cjk_font_path()
    finally:
        fonts.cjk_font_path.cache_clear()
        fonts._font_files.cache_clear()
