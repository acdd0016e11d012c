"""A sheet is named after what it holds, as Excel allows: a programme or member name with a
slash, a colon or brackets downloaded as a 500 before (xlsxwriter refuses such a name)."""

from __future__ import annotations

import io

import xlsxwriter

from service.documents.xlsx import sheet_name


def test_every_name_becomes_one_excel_takes():
    for title in ("2025年脱贫奖（第1/2批）", "张三:李四", "[合作社]*?", "'引号'", "History", "", "长" * 40):
        name = sheet_name(title)
        book = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
        book.add_worksheet(name)  # raises for a name Excel refuses
        book.close()
        assert 1 <= len(name) <= 31
    assert sheet_name("2025年脱贫奖（第1/2批）") == "2025年脱贫奖（第1_2批）"
