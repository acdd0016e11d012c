"""A programme's budget by level (分级承担): no level ever commits past its share, whatever the
rounding of single awards (issue 12, item 5), and certificate serials parse ASCII digits only."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.awards.rules import (
    LEVELS,
    GrantCandidate,
    award_split,
    county_of_serial,
    level_split,
    select_grants,
    split_awards,
)

THIRDS = {"province": 3333, "city": 3333, "county": 3334}


def test_100_fen_awards_at_thirds_never_pass_a_levels_share():
    budgets = level_split(10_000, THIRDS)
    assert budgets == {"province": 3333, "city": 3333, "county": 3334}
    # Split the same way every time, 100 awards would commit the county 3,400 fen of 3,334.
    assert level_split(100, THIRDS)["county"] * 100 == 3_400
    committed = dict.fromkeys(LEVELS, 0)
    for split in split_awards(100, 100, THIRDS, budgets, committed):
        assert sum(split.values()) == 100 and all(32 <= split[level] <= 34 for level in LEVELS)
        for level in LEVELS:
            committed[level] += split[level]
            assert committed[level] <= budgets[level]
    assert committed == budgets  # the whole budget committed: each level exactly its share


def test_the_first_awards_go_by_largest_remainder_then_to_the_levels_behind():
    budgets = level_split(10_000, THIRDS)
    first, second, third = split_awards(3, 100, THIRDS, budgets, dict.fromkeys(LEVELS, 0))
    assert first == {"province": 33, "city": 33, "county": 34}  # level_split's answer
    assert second == {"province": 33, "city": 34, "county": 33}  # city and province are now behind
    assert third == {"province": 34, "city": 33, "county": 33}
    # 50/30/20 splits exactly, every time.
    shares = {"province": 5000, "city": 3000, "county": 2000}
    assert (
        split_awards(2, 30_000, shares, level_split(60_000, shares), dict.fromkeys(LEVELS, 0))
        == [{"province": 15_000, "city": 9_000, "county": 6_000}] * 2
    )


def test_a_level_without_room_is_steered_around():
    budgets = {"province": 50, "city": 50, "county": 50}
    # The county's share is spent; the province and city still have 50 between them.
    split = award_split(40, THIRDS, budgets, {"province": 20, "city": 40, "county": 50})
    assert split["county"] == 0 and split["city"] <= 10 and sum(split.values()) == 40


def test_an_award_that_does_not_fit_or_a_level_already_over_is_refused():
    budgets = {"province": 33, "city": 33, "county": 34}
    with pytest.raises(ValueError):
        award_split(100, THIRDS, budgets, {"province": 1, "city": 0, "county": 0})
    with pytest.raises(ValueError):
        award_split(1, THIRDS, budgets, {"province": 34, "city": 0, "county": 0})


@st.composite
def shares(draw):
    if draw(st.booleans()):
        return dict(THIRDS)
    province = draw(st.integers(0, 10000))
    city = draw(st.integers(0, 10000 - province))
    return {"province": province, "city": city, "county": 10000 - province - city}


@settings(max_examples=400, deadline=None)
@given(
    bp=shares(),
    amount=st.one_of(st.sampled_from([1, 2, 3, 7, 100, 101, 30_000]), st.integers(1, 10**7)),
    awards_in_budget=st.integers(0, 60),
    spare=st.integers(0, 10**7),
    runs=st.lists(st.integers(0, 25), max_size=12),
)
def test_no_sequence_of_grants_passes_a_levels_share_or_the_budget(bp, amount, awards_in_budget, spare, runs):
    budget = amount * awards_in_budget + spare % amount
    budgets = level_split(budget, bp)
    committed = dict.fromkeys(LEVELS, 0)
    n = 0
    for size in runs:  # grant runs one after the other, each of `size` candidates
        candidates = [GrantCandidate(uuid.UUID(int=n + i + 1), uuid.UUID(int=n + i + 1)) for i in range(size)]
        n += size
        total = sum(committed.values())
        chosen = select_grants(candidates, amount_fen=amount, remaining_fen=budget - total, one_per_family=False)
        for split in split_awards(len(chosen.granted), amount, bp, budgets, committed):
            assert sum(split.values()) == amount and min(split.values()) >= 0
            for level in LEVELS:
                committed[level] += split[level]
            total = sum(committed.values())
            assert total <= budget
            for level in LEVELS:
                assert committed[level] <= budgets[level]
                # Each level's committed follows its exact share of the running total to within a fen.
                assert abs(committed[level] * 10000 - total * bp[level]) < 10000
                if bp[level] == 0:
                    assert committed[level] == 0
    if sum(committed.values()) == budget:
        assert committed == budgets


@st.composite
def states(draw):
    """Any state a programme may be in: levels within their shares, and an award that fits."""
    bp = draw(shares())
    amount = draw(st.integers(1, 10**6))
    budget = draw(st.integers(amount, 10**9))
    budgets = level_split(budget, bp)
    committed = {level: draw(st.integers(0, budgets[level])) for level in LEVELS}
    excess = sum(committed.values()) - (budget - amount)
    for level in LEVELS:  # give back what keeps the award from fitting
        back = min(max(excess, 0), committed[level])
        committed[level] -= back
        excess -= back
    return bp, amount, budgets, committed


@settings(max_examples=1000, deadline=None)
@given(states())
def test_an_award_that_fits_the_budget_fits_the_levels_from_any_state(state):
    bp, amount, budgets, committed = state
    split = award_split(amount, bp, budgets, committed)
    assert sum(split.values()) == amount
    for level in LEVELS:
        assert 0 <= split[level] <= budgets[level] - committed[level]


def test_serials_take_ascii_digits_only():
    assert county_of_serial("TP-621223-2024-000001") == "621223000000"
    for bad in (
        "TP-62122²-2024-000001",
        "TP-６２１２２３-2024-000001",
        "TP-621223-２０２４-000001",
        "TP-621223-2024-00000²",
        "TP-621223-2024-٠٠٠٠٠١",
        "TP-621223-2024-000001\n",
        "tp-621223-2024-000001",
    ):
        assert county_of_serial(bad) is None, bad
