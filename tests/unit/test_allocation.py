"""Largest-remainder allocation and the integer money helpers it stands on."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.allocation import allocate
from service.core.money import (
    format_bp,
    format_percent,
    format_yuan,
    percent_of,
    round_half_up_div,
)

keys = st.text(alphabet="abcdefgh0123456789-", min_size=1, max_size=4)
weighted_holders = st.dictionaries(keys, st.integers(0, 10**9), min_size=1, max_size=20).filter(
    lambda holders: sum(holders.values()) > 0
)


@settings(max_examples=1000, deadline=None)
@given(amount=st.integers(0, 10**12), holders=weighted_holders)
def test_parts_sum_exactly_stay_within_a_fen_and_follow_weight(amount, holders):
    weights = list(holders.items())
    parts = allocate(amount, weights)
    total_weight = sum(holders.values())

    assert sum(parts.values()) == amount
    assert parts.keys() == holders.keys()
    for key, weight in weights:
        # |part − amount·w/W| < 1, kept in integers by multiplying through by W.
        assert abs(parts[key] * total_weight - amount * weight) < total_weight
        if weight == 0:
            assert parts[key] == 0
    ordered = sorted(weights, key=lambda kw: kw[1])
    for (small_key, small_w), (large_key, large_w) in zip(ordered, ordered[1:]):
        if large_w > small_w:
            assert parts[large_key] >= parts[small_key]


@settings(max_examples=1000, deadline=None)
@given(amount=st.integers(0, 10**6), holders=weighted_holders)
def test_result_does_not_depend_on_input_order(amount, holders):
    forward = allocate(amount, list(holders.items()))
    backward = allocate(amount, list(reversed(holders.items())))
    assert forward == backward


def test_ties_go_to_the_smaller_key():
    # 100 fen over three equal weights: 33 each, one fen left; all remainders equal (1/3), so the
    # smallest key "a" takes it whatever order the holders come in.
    assert allocate(100, [("c", 1), ("a", 1), ("b", 1)]) == {"a": 34, "b": 33, "c": 33}
    # 200 fen: 66 each, two fen left, to "a" then "b".
    assert allocate(200, [("c", 1), ("b", 1), ("a", 1)]) == {"a": 67, "b": 67, "c": 66}


def test_largest_remainder_beats_key_order():
    # 10 fen over weights 5:3:2 of 10 is exact; over 3:3:1 (W=7): quotas 30/7=4.29, 4.29, 1.43
    # → floors 4, 4, 1 (sum 9); remainders 2/7, 2/7, 3/7 → the leftover fen goes to "z" (3/7)
    # even though "z" sorts last.
    assert allocate(10, [("a", 3), ("b", 3), ("z", 1)]) == {"a": 4, "b": 4, "z": 2}


@pytest.mark.parametrize(
    "amount, weights",
    [
        (100, []),
        (100, [("a", 0), ("b", 0)]),
        (-1, [("a", 1)]),
        (100, [("a", -1), ("b", 2)]),
        (100, [("a", 1), ("a", 2)]),
    ],
)
def test_refuses_what_cannot_be_split(amount, weights):
    with pytest.raises(ValueError):
        allocate(amount, weights)


@settings(max_examples=1000, deadline=None)
@given(
    numerator=st.integers(-(10**15), 10**15),
    denominator=st.integers(-(10**6), 10**6).filter(bool),
)
def test_round_half_up_div_matches_exact_fractions(numerator, denominator):
    exact = Fraction(numerator, denominator)
    result = round_half_up_div(numerator, denominator)
    assert abs(result - exact) <= Fraction(1, 2)
    if abs(result - exact) == Fraction(1, 2):
        # Halves go away from zero.
        assert abs(result) > abs(exact)
    assert round_half_up_div(-numerator, denominator) == -result


def test_rounding_and_percent_examples():
    assert round_half_up_div(5, 2) == 3
    assert round_half_up_div(-5, 2) == -3
    assert round_half_up_div(7, 3) == 2
    # 0.5% of 101 fen is 0.505 fen → 1 fen; of 99 fen 0.495 → 0.
    assert percent_of(101, 50) == 1
    assert percent_of(99, 50) == 0
    assert percent_of(36_000_000, 7_000) == 25_200_000
    with pytest.raises(ZeroDivisionError):
        round_half_up_div(1, 0)


def test_text_for_people():
    assert format_yuan(123456) == "1234.56"
    assert format_yuan(123456, thousands=True) == "1,234.56"
    assert format_yuan(-5) == "-0.05"
    assert format_yuan(0) == "0.00"
    assert format_yuan(100_000_000_00, thousands=True) == "100,000,000.00"
    assert format_percent(120, 1000) == "12.00%"
    # 1/3 = 33.333…% → 33.33%; 2/3 = 66.666…% → 66.67%
    assert format_percent(1, 3) == "33.33%"
    assert format_percent(2, 3) == "66.67%"
    assert format_percent(5, 0) == "0.00%"
    assert format_bp(500) == "5%"
    assert format_bp(1050) == "10.5%"
    assert format_bp(125) == "1.25%"
