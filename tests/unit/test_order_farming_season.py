"""The season's rules beyond pricing: the carried-advance pool over a household's contracts, the
weighing station's sheet checks, and the sentences a settlement reads."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.order_farming.rules import (
    Advance,
    Contract,
    ContractSeason,
    LineWords,
    Purchase,
    PurchaseRow,
    advances_text,
    parse_purchase_rows,
    settle,
    settle_household,
    settlement_detail,
    settlement_summary,
    split_carried_pool,
)

# ---- the carried-advance pool -------------------------------------------------------------------


def test_pool_is_recovered_in_the_order_signed_and_the_last_carries_the_rest():
    # 150.00 carried: the first contract's 80.00 gross takes 80.00, the second the remaining 70.00.
    assert split_carried_pool(15_000, [8_000, 44_000]) == [8_000, 7_000]
    # A pool larger than every gross: the last contract takes in all that is left, beyond its gross.
    assert split_carried_pool(50_000, [8_000, 2_000, 1_000]) == [8_000, 2_000, 40_000]
    # A pool the first contract covers leaves nothing for the others.
    assert split_carried_pool(3_000, [8_000, 2_000]) == [3_000, 0]
    assert split_carried_pool(0, [8_000, 2_000]) == [0, 0]
    assert split_carried_pool(0, []) == []


def test_pool_refuses_what_cannot_be():
    with pytest.raises(ValueError):
        split_carried_pool(-1, [10])
    with pytest.raises(ValueError):
        split_carried_pool(10, [-1, 5])
    with pytest.raises(ValueError):
        split_carried_pool(10, [])
    with pytest.raises(TypeError):
        split_carried_pool(10, [1.5])  # type: ignore[list-item]


def season(cid: str, contracted_g: int, floor: int, purchases=(), advances=(), crop="当归", premium_bp=0):
    return ContractSeason(
        Contract(cid, "h", contracted_g, floor, premium_bp), crop, 2026, tuple(purchases), tuple(advances)
    )


def test_household_season_as_the_api_test_has_it():
    # 150.00 carried from 2025; 红芪 80.00 gross, then 当归 440.00 gross with its own 50.00 advance.
    hongqi = season("c1", 20_000, 800, [Purchase("p1", date(2026, 10, 1), "一等", 10_000, 700)], crop="红芪")
    danggui = season(
        "c2",
        50_000,
        1000,
        [Purchase("p2", date(2026, 10, 2), "一等", 40_000, 1100)],
        [Advance(5_000, date(2026, 3, 1), "地膜")],
    )
    h, d = settle_household(15_000, [hongqi, danggui])
    assert (h.carried_in_fen, h.own_advances_fen, h.settlement.advances_deducted_fen, h.settlement.payable_fen) == (
        8_000,
        0,
        8_000,
        0,
    )
    assert (d.carried_in_fen, d.own_advances_fen, d.settlement.advances_deducted_fen, d.settlement.payable_fen) == (
        7_000,
        5_000,
        12_000,
        32_000,
    )
    assert "往季结转未扣清的农资款 70.00 元" in d.summary and "先扣往季结转" in d.summary
    assert "本合同没有赊销农资" not in d.summary
    assert "往季结转未扣清的农资款 80.00 元" in h.summary


def test_a_carried_pool_without_a_contract_is_refused():
    with pytest.raises(ValueError):
        settle_household(1, [])
    assert settle_household(0, []) == []


purchase_st = st.builds(
    Purchase,
    purchase_id=st.uuids().map(str),
    bought_on=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
    grade=st.just("一等"),
    weight_g=st.integers(min_value=1, max_value=2_000_000),
    market_price_fen_per_kg=st.integers(min_value=0, max_value=5_000),
)
advance_st = st.builds(
    Advance,
    amount_fen=st.integers(min_value=1, max_value=5_000_000),
    given_on=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
    item=st.sampled_from(["种苗", "化肥", "地膜"]),
)
season_st = st.builds(
    season,
    cid=st.uuids().map(str),
    contracted_g=st.integers(min_value=0, max_value=3_000_000),
    floor=st.integers(min_value=0, max_value=5_000),
    purchases=st.lists(purchase_st, max_size=5),
    advances=st.lists(advance_st, max_size=3),
    premium_bp=st.integers(min_value=-10_000, max_value=10_000),
)


@settings(max_examples=300, deadline=None)
@given(pool=st.integers(0, 10**10), grosses=st.lists(st.integers(0, 10**9), min_size=1, max_size=8))
def test_pool_split_properties(pool, grosses):
    shares = split_carried_pool(pool, grosses)
    assert sum(shares) == pool
    assert all(share >= 0 for share in shares)
    # Every contract but the last takes in no more than its gross, and a later one takes in
    # anything only when every earlier one took in all its gross allowed.
    for i, (share, gross) in enumerate(zip(shares[:-1], grosses[:-1])):
        assert share <= gross
        if share < gross:
            assert all(s == 0 for s in shares[i + 1 :])


@settings(max_examples=300, deadline=None)
@given(pool=st.integers(0, 10**8), seasons=st.lists(season_st, min_size=1, max_size=4))
def test_household_season_properties(pool, seasons):
    settled = settle_household(pool, seasons)
    assert [s.settlement.contract_id for s in settled] == [s.contract.contract_id for s in seasons]
    taken_in = sum(s.settlement.advances_deducted_fen for s in settled)
    carried_out = sum(s.settlement.advance_carried_fen for s in settled)
    own = sum(a.amount_fen for s in seasons for a in s.advances)
    # Nothing is lost or made: what is deducted plus what is carried on is the pool plus this season's advances.
    assert taken_in + carried_out == pool + own
    assert sum(s.carried_in_fen for s in settled) == pool
    for s, cs in zip(settled, seasons):
        r = s.settlement
        assert min(s.carried_in_fen, s.own_advances_fen, r.advances_deducted_fen, r.payable_fen) >= 0
        assert r.advance_carried_fen >= 0
        # No contract recovers more than its gross, and its figures are those of settle() alone.
        assert r.advances_deducted_fen <= r.gross_fen
        assert r.gross_fen == r.advances_deducted_fen + r.payable_fen
        assert r == settle(cs.contract, cs.purchases, s.carried_in_fen + s.own_advances_fen)


# ---- the sentences ------------------------------------------------------------------------------


def test_advances_text():
    assert advances_text(0, []) == "本合同没有赊销农资"
    assert advances_text(7_000, []) == "农资款：往季结转未扣清的农资款 70.00 元，从货款中扣除，最多扣到货款为止"
    own = [Advance(30_000, date(2025, 3, 1), "当归种苗"), Advance(20_000, date(2025, 4, 1), "复合肥")]
    assert advances_text(0, own) == (
        "农资款：本合同赊销农资 500.00 元（2025-03-01 当归种苗 300.00 元、2025-04-01 复合肥 200.00 元），"
        "从货款中扣除，最多扣到货款为止"
    )
    assert advances_text(100, own[:1]) == (
        "农资款：往季结转未扣清的农资款 1.00 元，本合同赊销农资 300.00 元（2025-03-01 当归种苗 300.00 元）"
        "；先扣往季结转的部分，从货款中扣除，最多扣到货款为止"
    )


def test_settlement_summary_names_terms_advances_and_figures():
    s = season("c", 100_000, 1200, [Purchase("p", date(2025, 10, 1), "一等", 1_000, 1000)], premium_bp=500)
    result = settle(s.contract, s.purchases, 0)
    assert settlement_summary(s, result, 0) == (
        "2026年当归订单（保底价 12.00 元/公斤，按市场价加价 5%；合同内按保底价与市场价中较高者收购，超出合同数量按市场价）。"
        f"本合同没有赊销农资。{result.explanation}。"
    )
    down = season("c", 1, 800, premium_bp=-250)
    assert "按市场价减价 2.5%" in settlement_summary(down, settle(down.contract, [], 0), 0)
    flat = season("c", 1, 800)
    assert "保底价 8.00 元/公斤；" in settlement_summary(flat, settle(flat.contract, [], 0), 0)


def test_settlement_detail():
    assert settlement_detail("概要。", [], None) == "概要。"
    lines = [LineWords(date(2025, 10, 1), "一等", "交售 1.000 公斤"), LineWords(date(2025, 10, 2), "二等", "交售 2")]
    assert settlement_detail("概要。", lines, date(2025, 12, 21)) == (
        "概要。明细：2025-10-01 一等 交售 1.000 公斤；2025-10-02 二等 交售 2。该结算已于 2025-12-21 冲销作废。"
    )


# ---- the weighing station's sheet ---------------------------------------------------------------

C1, C2 = uuid.UUID(int=1), uuid.UUID(int=2)
CONTRACTS = {str(C1): C1, str(C2): C2}
TODAY = date(2025, 12, 20)


def row(contract=str(C1), bought_on="2025-10-01", grade="一等", weight="1000", price="1100"):
    return {
        "contract_id": contract,
        "bought_on": bought_on,
        "grade": grade,
        "weight_g": weight,
        "market_price_fen_per_kg": price,
    }


def test_good_rows_become_purchases():
    rows = [(2, row()), (3, row(str(C2).upper(), "2025-12-20", "二等", "5", "0"))]
    records, errors = parse_purchase_rows(rows, CONTRACTS, set(), TODAY)
    assert errors == []
    assert records == [
        PurchaseRow(C1, date(2025, 10, 1), "一等", 1000, 1100),
        PurchaseRow(C2, date(2025, 12, 20), "二等", 5, 0),
    ]


def test_every_bad_field_of_every_row_is_named():
    rows = [
        (2, row(contract="")),
        (3, row(contract="nope", bought_on="2025/10/01")),
        (4, row(bought_on="2025-12-21", grade="")),
        (5, row(weight="12.5", price="-1")),
        (6, row(weight="0", price="1000000001")),
        (7, row(grade="等" * 51, weight="1000000000001")),
        (8, row(contract=str(C2))),
        (9, row()),
    ]
    records, errors = parse_purchase_rows(rows, CONTRACTS, {str(C2)}, TODAY)
    assert [(e["row"], e["field"]) for e in errors] == [
        (2, "contract_id"),
        (3, "contract_id"),
        (3, "bought_on"),
        (4, "bought_on"),
        (4, "grade"),
        (5, "weight_g"),
        (5, "market_price_fen_per_kg"),
        (6, "weight_g"),
        (6, "market_price_fen_per_kg"),
        (7, "grade"),
        (7, "weight_g"),
        (8, "contract_id"),
    ]
    assert errors[0]["message"] == "合同编号不能为空"
    assert errors[1]["message"] == "本经营主体没有订单合同 nope"
    assert errors[2]["message"] == "日期应为 YYYY-MM-DD"
    assert errors[3]["message"].startswith("收购日期不能晚于今天")
    assert errors[-1]["message"] == "该合同本季已结算，不能再录入交售"
    assert records == [PurchaseRow(C1, date(2025, 10, 1), "一等", 1000, 1100)]


cell_st = st.one_of(st.text(max_size=8), st.integers(-5, 10**13).map(str))


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "contract_id": st.sampled_from([str(C1), str(C2), "", "x"]),
                "bought_on": st.one_of(st.dates().map(date.isoformat), st.text(max_size=10)),
                "grade": st.text(max_size=52),
                "weight_g": cell_st,
                "market_price_fen_per_kg": cell_st,
            }
        ),
        max_size=10,
    )
)
def test_sheet_rows_are_written_or_named_never_both(rows):
    numbered = list(enumerate(rows, start=2))
    records, errors = parse_purchase_rows(numbered, CONTRACTS, {str(C2)}, TODAY)
    bad_rows = {e["row"] for e in errors}
    assert len(records) + len(bad_rows) == len(rows)
    for r in records:
        assert r.contract_id == C1 and r.bought_on <= TODAY
        assert 0 < r.weight_g <= 10**12 and 0 <= r.market_price_fen_per_kg <= 10**9
        assert 1 <= len(r.grade) <= 50
