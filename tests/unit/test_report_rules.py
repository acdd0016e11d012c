"""The statutory forms and register sums of service/reports/rules.py, on plain figures."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.errors import Invalid
from service.reports import rules
from service.reports.rules import (
    BookEntry,
    EquityYear,
    HouseholdFacts,
    IncomeFigures,
    PayableGroup,
    YearSurplus,
    account_book,
    check_income_statement,
    equity_rows,
    household_figures,
    income_bins,
    income_lines,
    rolled_up,
    surplus_table,
    total_of,
)

FIGURES = IncomeFigures(
    100_000_000, 2_000_000, 50_000_000, 1_000_000, 6_000_000, 500_000, 500_000, 1_000_000, 4_000_000
)


def test_income_lines_compute_the_subtotals_of_the_form():
    lines = income_lines(FIGURES)
    assert (lines[7], lines[10], lines[12]) == (44_500_000, 44_000_000, 40_000_000)
    check_income_statement(FIGURES, 40_000_000)
    with pytest.raises(Invalid) as refused:
        check_income_statement(FIGURES, 40_000_001)
    assert refused.value.errors and refused.value.errors[0]["field"] == "income_statement"


@given(
    st.lists(st.integers(min_value=0, max_value=10**12), min_size=9, max_size=9),
    st.integers(min_value=-(10**12), max_value=10**12),
)
def test_line_12_is_the_signed_sum_of_the_entered_lines(values, investment):
    values[1] = investment
    f = IncomeFigures(*values)
    lines = income_lines(f)
    plus = lines[1] + lines[2] + lines[8]
    minus = lines[3] + lines[4] + lines[5] + lines[6] + lines[9] + lines[11]
    assert lines[12] == plus - minus


def test_surplus_table_carries_last_years_line_20_and_closes_to_it():
    books = YearSurplus(profit_fen=10_000_000, reserve_fen=1_000_000, patronage_fen=0, remaining_fen=2_700_000)
    lines = surplus_table(None, books, opening_fen=-500_000)
    assert all(lines[n] is None for n in range(1, 12))
    assert (lines[12], lines[13], lines[15], lines[16], lines[18], lines[20]) == (
        10_000_000,
        -500_000,
        1_000_000,
        8_500_000,
        2_700_000,
        5_800_000,
    )
    carried = surplus_table(None, None, opening_fen=5_800_000)
    assert (carried[12], carried[13], carried[16], carried[20]) == (None, 5_800_000, 5_800_000, 5_800_000)
    with pytest.raises(ValueError):
        surplus_table(FIGURES, books, 0)  # entered lines that do not yield the posted profit are a bug


def test_equity_rows_close_to_opening_plus_increases_less_decreases():
    y = EquityYear(
        opening={"share_capital": 1_000, "surplus_reserve": 200, "undistributed": -50},
        capital_in_fen=300,
        capital_out_fen=100,
        subsidy_fen=90,
        reserve_fen=40,
        profit_fen=400,
        patronage_fen=252,
        remaining_fen=108,
    )
    rows = {row.label: row for row in equity_rows(y)}
    closing = rows["四、年末余额"].amounts
    assert closing == {
        "share_capital": 1_200,
        "special_fund": 90,
        "capital_reserve": 0,
        "surplus_reserve": 240,
        "undistributed": -50,
    }
    assert rows["四、年末余额"].total_fen == sum(v for v in closing.values() if v is not None)
    assert rows["三、本年减少数"].amounts["undistributed"] == 400
    assert rows["其中：成员增加出资"].amounts["special_fund"] is None


def test_account_book_sorts_rows_and_closes_each_column():
    opening = {"capital_other_fen": 500}
    entries = [
        BookEntry(dt.date(2025, 6, 1), 2, "交易：鸡蛋", product="鸡蛋", quantity_g=1_000, amount_fen=70),
        BookEntry(dt.date(2025, 1, 5), 1, "认购", figures={"capital_poverty_fen": 300}),
        BookEntry(dt.date(2025, 6, 2), 3, "交易：鸡蛋", product="鸡蛋", quantity_g=500, amount_fen=30),
        BookEntry(dt.date(2026, 1, 26), 4, "返还", patronage_fen=60),
    ]
    book = account_book(opening, entries)
    assert [r.order for r in book.rows] == [1, 2, 3, 4]
    assert book.closing["capital_poverty_fen"] == 300 and book.closing["capital_other_fen"] == 500
    assert book.trade_totals == {"鸡蛋": (1_500, 100)} and book.patronage_fen == 60
    assert rules.format_weight(1_234_567) == "1,234.567" and rules.format_weight(-5) == "-0.005"


def test_household_figures_count_kinds_and_payment_states():
    groups = [
        PayableGroup("h", "distribution", "patronage", "paid", False, 1_000, 1),
        PayableGroup("h", "distribution", "capital", "unpaid", True, 200, 1),
        PayableGroup("h", "settlement", "", "cancelled", False, 999, 1),
        PayableGroup("h", "settlement", "", "in_batch", False, 50, 1),
        PayableGroup("h", "award", "", "unpaid", False, 300, 1),
    ]
    f = household_figures(HouseholdFacts("h", "621223100201", 3, awards=1, awards_fen=300), groups)
    assert f.income == {"财产性收入": 200, "生产经营性收入": 1_050, "转移性收入": 300}
    assert f.owed_fen == 1_550 and f.payments == {"paid": 1_000, "in_batch": 50, "unpaid": 300, "failed": 200}
    rows = rolled_up({"h": f, "k": household_figures(HouseholdFacts("k", "621223100202", 2), [])}, {"h": "T", "k": "T"})
    assert rows["T"].households == 2 and rows["T"].people == 5 and total_of(rows.values()).owed_fen == 1_550


def test_income_bins_place_every_household_once_against_the_lines():
    bins = income_bins([0, 199_999, 200_000, 400_000, 699_999, 1_000_000, 5_000_000], 400_000, 1_000_000)
    assert sum(b.households for b in bins) == 7
    assert [b.low_fen for b in bins] == [0, 200_000, 400_000, 700_000, 1_000_000, 2_000_000]
    assert rules.line_words(400_000, 400_000, 1_000_000) == "高于贫困线"
    assert rules.line_words(1_000_000, 400_000, 1_000_000) == "达到小康线"
    assert sum(b.households for b in income_bins([1, 2, 3], None, None)) == 3
