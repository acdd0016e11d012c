"""The rules of a household's statement (service/statements/rules.py) and its PDF file, without a database."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from schemas.statements import StatementLineOut, StatementOut
from service.documents.fonts import cjk_font_available
from service.statements import rules
from service.statements.workflow import statement_pdf_file


def test_each_source_and_basis_is_one_kind_of_income():
    assert rules.line_kind("distribution", "patronage") == "patronage"
    assert rules.line_kind("distribution", "floor") == "guaranteed_return"
    assert rules.line_kind("distribution", "arrears") == "guaranteed_return"
    assert rules.line_kind("distribution", "shares") == "dividend"
    assert rules.line_kind("distribution", "capital") == "dividend"
    assert rules.line_kind("settlement", "") == "settlement"
    assert rules.line_kind("award", "") == "award"
    with pytest.raises(ValueError):
        rules.line_kind("distribution", "bonus")
    with pytest.raises(ValueError):
        rules.line_kind("lottery", "")
    assert set(rules.KIND_OF_BASIS.values()) | {"settlement", "award"} == set(rules.INCOME_KINDS)


def test_a_cancelled_line_is_shown_but_not_counted():
    assert rules.counted("paid") and rules.counted("unpaid") and rules.counted("in_batch")
    assert not rules.counted("cancelled")
    assert rules.shown_explanation("分红", "paid") == "分红"
    assert rules.shown_explanation("分红", "cancelled") == "分红" + rules.CANCELLED_NOTE


def test_the_default_year_is_the_newest_with_lines():
    assert rules.default_year([2025, 2024], dt.date(2026, 3, 1)) == 2025
    assert rules.default_year([], dt.date(2026, 3, 1)) == 2026


kinds = st.sampled_from(sorted(rules.INCOME_KINDS))


@given(st.lists(st.tuples(kinds, st.integers(0, 10**12)), max_size=40))
def test_totals_by_income_kind_add_up_to_every_line(lines):
    totals, total = rules.totals_by_income_kind(lines)
    assert list(totals) == list(rules.INCOME_KIND_ORDER)  # all three, always, in order
    assert total == sum(totals.values()) == sum(amount for _, amount in lines)
    for income_kind, amount in totals.items():
        assert amount == sum(a for k, a in lines if rules.INCOME_KINDS[k] == income_kind) >= 0


def test_totals_refuse_an_unknown_kind():
    with pytest.raises(ValueError):
        rules.totals_by_income_kind([("lottery", 1)])


def _line(kind, amount, status="paid"):
    return StatementLineOut(
        kind=kind,
        source_id="s",
        source_name="草滩子合作社 2025 年度分配",
        amount_fen=amount,
        explanation="测试",
        payment_status=status,
        paid_on=None,
        payable_id="p",
        income_kind=rules.INCOME_KINDS[kind],
        counted=rules.counted(status),
        source_type="distribution",
    )


@pytest.mark.skipif(not cjk_font_available(), reason="no CJK font installed (apt-get install fonts-droid-fallback)")
def test_statement_pdf_file_names_and_counted_lines():
    statement = StatementOut(
        household_id="h",
        household_no="6212231002010001",
        year=2025,
        lines=[_line("dividend", 12_345), _line("patronage", 99_999, "cancelled")],
        totals_by_kind={"财产性收入": 12_345, "生产经营性收入": 0, "转移性收入": 0},
        total_fen=12_345,
        years=[2025],
    )
    household = {"head_name_masked": "李*四", "household_no": "6212231002010001"}
    content, ascii_name, name = statement_pdf_file(household, statement, dt.date(2026, 1, 5), "李大四")
    assert (ascii_name, name) == ("statement-6212231002010001-2025.pdf", "2025年收益明细.pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).replace("\n", "")
    assert "全年合计：123.45 元" in text and "999.99" not in text
    assert "户主：李大四" in text  # the household's own paper names its head in full
