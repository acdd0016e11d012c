"""The document pieces of reports: exact money cells in xlsx, QR codes, pygal charts in a PDF."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from service.documents import report_pdf
from service.documents.charts import Series, bar_chart, for_html, for_pdf
from service.documents.qr import qr_modules
from service.documents.xlsx import Kilograms, Money, Sheet, money_cell, workbook
from tests.conftest import assert_no_full_numbers
from tests.requirements import needs_cjk_font


def _cells(content: bytes) -> list[str]:
    xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    return re.findall(r"<v>([^<]*)</v>", xml)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1), min_size=1, max_size=50))
def test_money_cells_hold_the_exact_decimal_of_the_fen(amounts):
    content = workbook([Sheet("t", "t", rows=[[Money(fen)] for fen in amounts])])
    values = _cells(content)[-len(amounts) :]
    assert [Decimal(v) for v in values] == [Decimal(fen).scaleb(-2) for fen in amounts]
    assert all(re.fullmatch(r"-?[0-9]+\.[0-9]{2}", v) for v in values)


def test_small_amounts_are_not_a_floats_digits():
    content = workbook(
        [Sheet("t", "标题", header=[["金额", "重量"]], rows=[[Money(7), Kilograms(1_234_567)], [Money(0), None]])]
    )
    assert "0.07" in _cells(content) and "0.00" in _cells(content) and "1234.567" in _cells(content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet["A1"].value == "标题" and sheet["A2"].value == "金额" and sheet["A3"].number_format == "#,##0.00"
    assert money_cell(10**17) == "1000000000000000.00"  # too long for a number: text, never rounded


def test_qr_code_carries_the_address():
    url = "https://huinong.example.cn/p/verify/TP-621223-2025-000001"
    modules = qr_modules(url)
    assert len(modules) == len(modules[0]) == len(segno.make(url, error="m").matrix)
    assert modules[0][:7] == [True] * 7  # a finder pattern in the corner


def test_chart_svg_for_pages_has_no_script_and_for_pdf_names_fonts_per_script():
    svg = bar_chart("各乡镇收入（元）", ["城关镇"], [Series("财产性收入", [12_345])])
    page = for_html(svg)
    assert page.startswith("<svg") and "<script" not in page and "各乡镇收入" in page
    pdf_svg = for_pdf(svg, "latin", "cjk").decode()
    assert '<tspan font-family="cjk">城关镇</tspan>' in pdf_svg and "<style" not in pdf_svg
    assert 'fill="' in pdf_svg  # pygal's colours written onto the shapes


def test_chart_coordinates_never_read_as_a_card_number_on_a_page():
    # Awkward figures give pygal coordinates of sixteen decimals; the page scans of every test
    # (tests/conftest.py FULL_CARD) would take such a run of digits for a card number.
    svg = bar_chart("各村收入（元）", ["南沿沟村", "王何村", "凤凰谷村"], [Series("收入", [1_234_567, 7, 33_333_333])])
    page = for_html(svg)
    assert not re.search(r"[0-9]\.[0-9]{3}", page)
    assert_no_full_numbers(page)


@needs_cjk_font
def test_chart_in_a_pdf_keeps_its_chinese_labels_and_exact_yuan_ticks():
    pdf = report_pdf.start("图表")
    report_pdf.chart(
        pdf, bar_chart("各乡镇收入（元）", ["城关镇", "哈达铺镇"], [Series("转移性收入", [30_000, 60_000])])
    )
    text = PdfReader(io.BytesIO(report_pdf.finish(pdf))).pages[0].extract_text()
    assert "各乡镇收入（元）" in text and "城关镇" in text and "转移性收入" in text and "600.00" in text
