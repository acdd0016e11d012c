from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.order_farming.rules import (
    Advance,
    Contract,
    Purchase,
    floor_amount_fen,
    price_purchases,
    settle,
    total_advances_fen,
)

# 当归 contract: 100 kg at a floor of 12.00 yuan/kg, 5% over market.
CONTRACT = Contract("c-1", "h-1", contracted_g=100_000, floor_price_fen_per_kg=1200, premium_bp=500)


def purchase(pid: str, day: int, weight_g: int, market: int) -> Purchase:
    return Purchase(pid, date(2024, 10, day), "一等", weight_g, market)


def test_market_below_floor_pays_the_floor():
    # market 10.00 x 1.05 = 10.50 < 12.00, so 12.00; 52.300 kg x 12.00 = 627.60 yuan.
    [line] = price_purchases(CONTRACT, [purchase("p1", 1, 52_300, 1000)])
    assert line.reason == "floor"
    assert line.price_fen_per_kg == 1200
    assert line.amount_fen == 62760
    assert line.explanation.startswith("交售 52.300 公斤，合同内按保底价 12.00 元/公斤，计 627.60 元")


def test_market_above_floor_pays_market_with_premium_unrounded():
    # market 12.34 x 1.05 = 12.957 yuan/kg (not a whole fen: kept exact);
    # 10.100 kg x 12.957 = 130.8657 -> 130.87 yuan. Rounding the price to 12.96 first would give
    # 130.896 -> 130.90, three fen more.
    [line] = price_purchases(CONTRACT, [purchase("p1", 1, 10_100, 1234)])
    assert line.reason == "market_premium"
    assert line.price_fen_per_kg == Fraction(12957, 10)
    assert line.price_fen_per_kg_x10000 == 12_957_000
    assert line.amount_fen == 13087
    assert "12.957 元/公斤" in line.explanation


def test_delivery_crossing_the_contracted_quantity_is_split():
    # 80 kg at market 10.00 (floor applies): 80 x 12.00 = 960.00.
    # Then 30 kg at market 11.00: 11.00 x 1.05 = 11.55 < 12.00.
    #   20 kg within the contract at the floor: 20 x 12.00 = 240.00
    #   10 kg beyond it at market + premium:    10 x 11.55 = 115.50
    lines = price_purchases(CONTRACT, [purchase("p1", 1, 80_000, 1000), purchase("p2", 2, 30_000, 1100)])
    assert [(l.purchase.purchase_id, l.weight_g, l.reason, l.amount_fen) for l in lines] == [
        ("p1", 80_000, "floor", 96000),
        ("p2", 20_000, "floor", 24000),
        ("p2", 10_000, "beyond_contract", 11550),
    ]
    assert "超出合同数量" in lines[2].explanation


def test_beyond_contract_is_below_floor_when_market_is():
    contract = Contract("c-2", "h-1", contracted_g=0, floor_price_fen_per_kg=1200, premium_bp=0)
    # Nothing contracted: 5 kg at market 8.00, no premium = 40.00 yuan, the floor does not apply.
    [line] = price_purchases(contract, [purchase("p1", 1, 5_000, 800)])
    assert (line.reason, line.amount_fen) == ("beyond_contract", 4000)


def test_settlement_with_advances_larger_than_gross_carries_the_rest():
    # Gross 960.00 + 240.00 + 115.50 = 1315.50 yuan; advances: seed 800.00 + fertiliser 700.00
    # = 1500.00. Deducted 1315.50 (all the gross), payable 0, carried 1500.00 - 1315.50 = 184.50.
    advances = [Advance(80000, date(2024, 3, 1), "种苗"), Advance(70000, date(2024, 4, 1), "化肥")]
    purchases = [purchase("p2", 2, 30_000, 1100), purchase("p1", 1, 80_000, 1000)]
    result = settle(CONTRACT, purchases, total_advances_fen(advances))
    assert result.gross_fen == 131550
    assert result.advances_deducted_fen == 131550
    assert result.payable_fen == 0
    assert result.advance_carried_fen == 18450
    # settle orders by date: p1 (1 Oct) fills 80 kg of the contract before p2 (2 Oct).
    assert [l.purchase.purchase_id for l in result.lines] == ["p1", "p2", "p2"]
    assert "结转下季" in result.explanation and "184.50" in result.explanation


def test_settlement_with_small_advance():
    # Gross 627.60; advance 100.00 deducted; payable 527.60; nothing carried.
    result = settle(CONTRACT, [purchase("p1", 1, 52_300, 1000)], 10000)
    assert (result.gross_fen, result.advances_deducted_fen, result.payable_fen, result.advance_carried_fen) == (
        62760,
        10000,
        52760,
        0,
    )
    assert "结转" not in result.explanation


def test_floor_guarantee_is_per_line_rounding():
    # Three deliveries of 1.001 kg at the floor 12.00: 12.012 -> 12.01 each, 36.03 yuan in all,
    # whereas 3.003 kg x 12.00 = 36.036 -> 36.04 rounded once. The guarantee is per line.
    lines = price_purchases(CONTRACT, [purchase(f"p{i}", i, 1_001, 1000) for i in range(1, 4)])
    assert sum(l.amount_fen for l in lines) == 3603
    assert floor_amount_fen(lines, 1200) == 3603


def test_money_must_be_integers():
    with pytest.raises(TypeError):
        Purchase("p", date(2024, 1, 1), "一等", 1000, 12.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Purchase("p", date(2024, 1, 1), "一等", 0, 1200)
    with pytest.raises(ValueError):
        settle(CONTRACT, [], -1)


purchases_strategy = st.lists(
    st.builds(
        Purchase,
        purchase_id=st.uuids().map(str),
        bought_on=st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 12, 31)),
        grade=st.sampled_from(["一等", "二等"]),
        weight_g=st.integers(min_value=1, max_value=5_000_000),
        market_price_fen_per_kg=st.integers(min_value=0, max_value=50_000),
    ),
    max_size=12,
)
contracts_strategy = st.builds(
    Contract,
    contract_id=st.just("c"),
    household_id=st.just("h"),
    contracted_g=st.integers(min_value=0, max_value=20_000_000),
    floor_price_fen_per_kg=st.integers(min_value=0, max_value=50_000),
    premium_bp=st.integers(min_value=-10_000, max_value=20_000),
)


@settings(max_examples=600, deadline=None)
@given(contract=contracts_strategy, purchases=purchases_strategy, advances=st.integers(0, 10**10))
def test_settlement_properties(contract, purchases, advances):
    result = settle(contract, purchases, advances)
    delivered = sum(p.weight_g for p in purchases)
    guaranteed_g = min(contract.contracted_g, delivered)
    within = [l for l in result.lines if l.within_contract]

    assert result.gross_fen == result.advances_deducted_fen + result.payable_fen
    assert result.payable_fen >= 0 and result.advance_carried_fen >= 0
    assert result.advances_deducted_fen + result.advance_carried_fen == advances
    assert sum(l.weight_g for l in result.lines) == delivered
    assert sum(l.weight_g for l in within) == guaranteed_g
    # The floor on the contracted-and-delivered quantity, less at most half a fen per line lost
    # to rounding each line: gross >= floor x qty - lines / 2, in exact rationals.
    floor_exact = Fraction(contract.floor_price_fen_per_kg * guaranteed_g, 1000)
    assert result.gross_fen >= floor_exact - Fraction(len(within), 2)
    assert result.gross_fen >= floor_amount_fen(result.lines, contract.floor_price_fen_per_kg)
    for line in result.lines:
        exact = Fraction(line.weight_g * line.price_fen_per_kg_x10000, 10_000 * 1000)
        assert abs(line.amount_fen - exact) <= Fraction(1, 2)
