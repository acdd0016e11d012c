"""`minimum` floors (保底, DESIGN.md "Guaranteed returns on poverty shares"): the final amounts are
one largest-remainder split over the holdings not set aside, never a split of a split.

All figures are fen.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.money import percent_of
from service.distributions.rules import CarriedState, Charter, HolderInput, company_plan, minimum_split

MINIMUM_10 = Charter(floor_mode="minimum", floor_bp=1_000)


def _holder(member: str, share_class: str, shares: int, capital: int) -> HolderInput:
    floor = percent_of(capital, 1_000) if share_class == "poverty" else 0
    return HolderInput(member, f"hh-{member}", member, share_class, shares, capital, shares, floor)


def thirty_one_holders() -> list[HolderInput]:
    """A branch-held company: the collective (m00, 1,000 shares), 20 villagers (m01–m20, 100
    ordinary shares each) and 10 poor households with 50 poverty shares each at a 10% floor: m21–m25
    on 5,000 yuan of capital (floor 50,000), m26–m30 on 1,000 yuan (floor 10,000). 3,500 shares."""
    holders = [_holder("m00", "ordinary", 1_000, 1_000_000)]
    holders += [_holder(f"m{i:02d}", "ordinary", 100, 100_000) for i in range(1, 21)]
    holders += [_holder(f"m{i:02d}", "poverty", 50, 500_000) for i in range(21, 26)]
    holders += [_holder(f"m{i:02d}", "poverty", 50, 100_000) for i in range(26, 31)]
    return holders


def thin_year(distributable: int) -> dict[str, int]:
    # Registered capital 40,000 yuan and a reserve already at its 50% cap: nothing is set aside,
    # so the whole profit is distributable.
    carried = CarriedState(statutory_reserve_balance_fen=2_000_000)
    plan = company_plan(distributable, 4_000_000, MINIMUM_10, carried, thirty_one_holders())
    assert plan.statutory_reserve_fen == 0 and plan.distributable_fen == distributable
    assert plan.undistributed_fen == 0 and sum(line.amount_fen for line in plan.lines) == distributable
    got: dict[str, int] = {}
    for line in plan.lines:
        got[line.member_id] = got.get(line.member_id, 0) + line.amount_fen
    return got


def test_a_thin_year_of_31_holders_is_one_split_with_the_odd_fen_to_the_smallest_ids():
    # 600,041 fen. Per share 171.44 fen, so m21–m25 (1,000 fen of floor per share) fall below and
    # get 50,000 each; of the 350,041 left, per share 107.7 fen over 3,250 shares, so m26–m30
    # (200 fen of floor per share) fall below too and get 10,000 each. Nobody else falls below.
    # 300,041 fen are left for the 3,000 ordinary shares, in one largest-remainder step:
    #   m00  300,041 × 1,000 / 3,000 = 100,013.667   → 100,013, remainder .667
    #   each villager × 100 / 3,000  =  10,001.3667  →  10,001, remainder .3667
    # 100,013 + 20 × 10,001 = 300,033: 8 fen left over, one to m00 (largest remainder), then
    # seven to the villagers, whose remainders tie, smallest ids first: m01–m07.
    # (The old top-up cut these 300,041 fen in a second rounding step and gave the seven fen to
    # m14–m20: 14 holders one fen off.)
    got = thin_year(600_041)
    assert got == {
        "m00": 100_014,
        **{f"m{i:02d}": 10_002 for i in range(1, 8)},
        **{f"m{i:02d}": 10_001 for i in range(8, 21)},
        **{f"m{i:02d}": 50_000 for i in range(21, 26)},
        **{f"m{i:02d}": 10_000 for i in range(26, 31)},
    }


def test_a_poverty_holding_above_its_floor_gives_by_weight_like_everyone():
    # 1,000,003 fen. Per share 285.7 fen: m21–m25 fall below (1,000 per share) and get 50,000
    # each; of the 750,003 left, per share 230.8 fen over 3,250 shares, above the 200 fen of m26–m30,
    # so they are not set aside and share by weight with the ordinary holders, in one step:
    #   m00       750,003 × 1,000 / 3,250 = 230,770.154  → 230,770
    #   villager  750,003 ×   100 / 3,250 =  23,077.015  →  23,077
    #   m26–m30   750,003 ×    50 / 3,250 =  11,538.508  →  11,538
    # 230,770 + 20 × 23,077 + 5 × 11,538 = 750,000: 3 fen left over, to the largest remainders
    # (.508, tied among m26–m30), smallest ids first: m26, m27, m28.
    # (The old top-up took it from each holding by what it held above its floor, so m26–m30, with
    # 4,286 fen above their floors, gave far less than by weight and got 13,415 each.)
    got = thin_year(1_000_003)
    assert got == {
        "m00": 230_770,
        **{f"m{i:02d}": 23_077 for i in range(1, 21)},
        **{f"m{i:02d}": 50_000 for i in range(21, 26)},
        **{f"m{i:02d}": 11_539 for i in range(26, 29)},
        "m29": 11_538,
        "m30": 11_538,
    }
    assert all(got[f"m{i:02d}"] >= 10_000 for i in range(26, 31))


def test_below_the_sum_of_floors_the_amount_follows_the_floors():
    # 2 fen short of the 300,000 fen of floors: split 5:1 by floor, nothing to the ordinary shares.
    #   m21–m25  299,998 × 50,000 / 300,000 = 49,999.667  → 49,999, remainder .667
    #   m26–m30  299,998 × 10,000 / 300,000 =  9,999.933  →  9,999, remainder .933
    # 299,990 handed out, 8 fen left over: five to the larger remainders (m26–m30), then three to
    # the next, smallest ids first: m21, m22, m23.
    got = thin_year(299_998)
    assert got == {
        **{f"m{i:02d}": 50_000 for i in range(21, 24)},
        "m24": 49_999,
        "m25": 49_999,
        **{f"m{i:02d}": 10_000 for i in range(26, 31)},
    }


def test_explanations_say_who_was_topped_up_and_who_gave():
    carried = CarriedState(statutory_reserve_balance_fen=2_000_000)
    plan = company_plan(1_000_003, 4_000_000, MINIMUM_10, carried, thirty_one_holders())
    by_member = {line.member_id: line for line in plan.lines}
    assert by_member["m21"].basis == "floor"
    assert by_member["m21"].explanation == (
        "贫困户股保底收益：本金 5,000.00 元 × 年 10%，应得 500.00 元；"
        "按持股比例只应分 142.86 元，补足到保底，实付 500.00 元"
    )
    # m26 is above its floor: a shares line like everyone's, giving by weight to the floors.
    assert by_member["m26"].basis == "shares"
    assert by_member["m26"].explanation == (
        "按持股 50 股占 1.43%，分得 115.39 元（按比例应得 142.86 元，其中 27.47 元用于补足贫困户股保底收益）"
    )


# --- properties -------------------------------------------------------------------------------


def _reference(amount: int, claims: list[tuple[int, int, int]]) -> frozenset[int]:
    """DESIGN.md's steps word for word, in exact fractions: set aside every claim whose pro-rata
    share of what is left falls below its floor, and repeat until none does."""
    if amount < sum(f for _, _, f in claims):
        return frozenset(k for k, _, f in claims if f)
    aside: set[int] = set()
    while True:
        rest = [c for c in claims if c[0] not in aside]
        left = amount - sum(f for k, _, f in claims if k in aside)
        weight = sum(w for _, w, _ in rest)
        below = {k for k, w, f in rest if f and (weight == 0 or Fraction(left * w, weight) < f)}
        if not below:
            return frozenset(aside)
        aside |= below


claims_lists = st.lists(
    st.tuples(
        st.one_of(st.just(0), st.integers(1, 20), st.integers(1, 10_000)),  # weight
        st.one_of(st.just(0), st.just(0), st.integers(1, 100), st.integers(1, 100_000)),  # floor
    ),
    min_size=1,
    max_size=31,
).map(lambda pairs: [(key, weight, floor) for key, (weight, floor) in enumerate(pairs)])


@settings(max_examples=1500, deadline=None)
@given(claims=claims_lists, amount=st.one_of(st.integers(0, 1_000), st.integers(0, 10**6), st.integers(0, 10**9)))
def test_minimum_split_is_one_largest_remainder_split_over_those_not_set_aside(claims, amount):
    amounts, aside = minimum_split(amount, claims)
    floors_total = sum(f for _, _, f in claims)
    assert set(amounts) == {k for k, _, _ in claims} and all(a >= 0 for a in amounts.values())
    assert aside == _reference(amount, claims)

    if amount < floors_total:
        # Short of the floors: in proportion to the floors, each within a fen; the rest nothing.
        assert sum(amounts.values()) == amount
        for key, _, floor in claims:
            quota = Fraction(amount * floor, floors_total)
            assert abs(amounts[key] - quota) < 1 and amounts[key] <= floor
        return

    # Floors met whenever the amount covers them; those set aside get exactly their floor.
    for key, _, floor in claims:
        assert amounts[key] >= floor
        if key in aside:
            assert amounts[key] == floor
    rest = [(k, w) for k, w, _ in claims if k not in aside]
    left = amount - sum(f for k, _, f in claims if k in aside)
    weight = sum(w for _, w in rest)
    # The sum is exact; a fen stays unsplit only when nobody left has a weight to split it by.
    assert sum(amounts.values()) == (amount if weight else amount - left)
    if not weight:
        return
    for key, w in rest:
        assert abs(amounts[key] - Fraction(left * w, weight)) < 1  # within a fen of its exact quota
    for key_a, w_a in rest:
        for key_b, w_b in rest:
            if w_a > w_b:
                assert amounts[key_a] >= amounts[key_b]  # a larger weight never gets less


@settings(max_examples=300, deadline=None)
@given(claims=claims_lists, amount=st.integers(0, 10**7))
def test_the_order_claims_come_in_changes_nothing(claims, amount):
    """Ties go to the smaller key, not to whoever came first."""
    forward, aside = minimum_split(amount, claims)
    backward, aside_back = minimum_split(amount, list(reversed(claims)))
    assert forward == backward and aside == aside_back
