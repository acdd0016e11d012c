"""The rules of ventures that the use cases check and split, without HTTP or a database: the
charter, the shape of a share movement and the refusal to overdraw, a subsidy quantified to
members, the reallocation of poverty shares (谁贫困谁享受), the trades sheet, the register's lines."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.errors import Invalid
from service.ventures.charter import MIN_PATRONAGE_BP, STATUTORY_RESERVE_BP, Charter
from service.ventures.rules import (
    Holding,
    Party,
    ReallocationShare,
    ShareMovement,
    TradeRow,
    charter_errors,
    check_charter,
    check_movement,
    check_movement_parties,
    check_record_date,
    check_trade_row,
    check_trades_sheet,
    holdings_as_of,
    propose_reallocation,
    quantify_subsidy,
    reallocation_capital,
    register_rows,
)

COLLECTIVE = Party("c0", "collective")
HOUSEHOLD = Party("h1", "household")
OTHER_HOUSEHOLD = Party("h2", "household")
PERSON = Party("p1", "person")


def fields(error: Invalid) -> list[str]:
    return [e["field"] for e in error.errors or []]


# ---- the charter ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["cooperative", "branch_company", "enterprise"])
def test_the_default_charter_is_lawful_for_every_model(model):
    assert charter_errors(model, Charter()) == []
    check_charter(model, Charter())


def test_a_cooperative_returns_at_least_the_legal_share_by_patronage():
    errors = charter_errors("cooperative", Charter(patronage_bp=MIN_PATRONAGE_BP - 1))
    assert [e["field"] for e in errors] == ["charter.patronage_bp"]
    assert errors[0]["message"] == "合作社按交易量返还比例不得低于60%（6000 bp）"
    assert charter_errors("cooperative", Charter(patronage_bp=MIN_PATRONAGE_BP)) == []
    # A company's charter does not speak of patronage, nor a cooperative's of the statutory reserve.
    assert charter_errors("branch_company", Charter(patronage_bp=0)) == []
    assert charter_errors("cooperative", Charter(reserve_bp=0)) == []


@pytest.mark.parametrize("model", ["branch_company", "enterprise"])
def test_a_company_sets_aside_at_least_the_statutory_reserve(model):
    errors = charter_errors(model, Charter(reserve_bp=STATUTORY_RESERVE_BP - 1))
    assert [(e["field"], e["message"]) for e in errors] == [
        ("charter.reserve_bp", "公司法定公积金比例不得低于10%（1000 bp）")
    ]
    assert charter_errors(model, Charter(reserve_bp=STATUTORY_RESERVE_BP)) == []


def test_floor_mode_and_rate_go_together():
    assert fields_of(Charter(floor_mode="none", floor_bp=500)) == ["charter.floor_bp"]
    assert fields_of(Charter(floor_mode="fixed", floor_bp=0)) == ["charter.floor_bp"]
    assert fields_of(Charter(floor_mode="minimum", floor_bp=500)) == []
    # Without a floor, poverty shares that do not share the remainder would get nothing.
    assert fields_of(Charter(poverty_participates=False)) == ["charter.poverty_participates"]
    assert fields_of(Charter(floor_mode="preferred", floor_bp=1000, poverty_participates=False)) == []


def test_reserves_cannot_pass_the_whole_profit():
    assert fields_of(Charter(reserve_bp=6000, discretionary_bp=4001)) == ["charter.discretionary_bp"]
    assert fields_of(Charter(reserve_bp=6000, discretionary_bp=4000)) == []


def fields_of(charter: Charter, model: str = "branch_company") -> list[str]:
    return [e["field"] for e in charter_errors(model, charter)]


def test_check_charter_names_every_bad_field_at_once():
    bad = Charter(patronage_bp=5000, floor_mode="none", floor_bp=100, poverty_participates=False)
    with pytest.raises(Invalid) as caught:
        check_charter("cooperative", bad)
    assert caught.value.detail == "章程设置有误"
    assert fields(caught.value) == ["charter.patronage_bp", "charter.floor_bp", "charter.poverty_participates"]


@settings(max_examples=300, deadline=None)
@given(patronage=st.integers(0, 10_000), reserve=st.integers(0, 10_000))
def test_the_legal_minimums_are_the_domains_constants(patronage, reserve):
    charter = Charter(patronage_bp=patronage, reserve_bp=reserve, discretionary_bp=0)
    assert ("charter.patronage_bp" in fields_of(charter, "cooperative")) == (patronage < MIN_PATRONAGE_BP)
    assert ("charter.reserve_bp" in fields_of(charter, "enterprise")) == (reserve < STATUTORY_RESERVE_BP)


@pytest.mark.parametrize("mmdd", ["12-31", "01-01", "02-29", "06-30"])
def test_a_record_date_is_a_day_of_the_year(mmdd):
    check_record_date(mmdd)


@pytest.mark.parametrize("mmdd", ["02-30", "04-31", "13-01", "00-10"])
def test_a_record_date_that_no_year_has_is_refused(mmdd):
    with pytest.raises(Invalid) as caught:
        check_record_date(mmdd)
    assert fields(caught.value) == ["record_date_mmdd"]


# ---- the shape of a movement ------------------------------------------------------------------------


def parties_fault(kind, source=None, target=None, from_id=None, to_id=None) -> tuple[str, str] | None:
    """(field, message) of the refusal, or None when the movement's shape is right."""
    from_id = from_id if from_id is not None else (source.id if source else None)
    to_id = to_id if to_id is not None else (target.id if target else None)
    try:
        check_movement_parties(kind, from_id, to_id, source, target)
    except Invalid as error:
        assert error.errors
        return error.errors[0]["field"], error.errors[0]["message"]
    return None


def test_each_kind_names_its_sides():
    assert parties_fault("subscribe", target=HOUSEHOLD) is None
    assert parties_fault("redeem", source=HOUSEHOLD) is None
    assert parties_fault("transfer", source=HOUSEHOLD, target=PERSON) is None
    assert parties_fault("allocate", source=COLLECTIVE, target=HOUSEHOLD) is None

    assert parties_fault("subscribe") == ("to_member_id", "此类变动须填写转入成员")
    assert parties_fault("redeem") == ("from_member_id", "此类变动须填写转出成员")
    assert parties_fault("transfer", target=PERSON) == ("from_member_id", "此类变动须填写转出成员")
    assert parties_fault("transfer", source=PERSON) == ("to_member_id", "此类变动须填写转入成员")
    assert parties_fault("subscribe", source=PERSON, target=HOUSEHOLD) == ("from_member_id", "认购不填写转出成员")
    assert parties_fault("redeem", source=PERSON, target=HOUSEHOLD) == ("to_member_id", "退股不填写转入成员")


def test_an_unknown_member_is_named_as_such():
    assert parties_fault("redeem", from_id="nobody") == ("from_member_id", "转出成员不存在")
    assert parties_fault("subscribe", to_id="nobody") == ("to_member_id", "转入成员不存在")
    # The source side is checked first.
    assert parties_fault("transfer", from_id="x", to_id="y") == ("from_member_id", "转出成员不存在")
    # A subscription naming an unknown giver is refused for naming one at all.
    assert parties_fault("subscribe", target=HOUSEHOLD, from_id="nobody") == ("from_member_id", "认购不填写转出成员")


def test_no_member_moves_shares_to_itself():
    assert parties_fault("transfer", source=PERSON, target=PERSON) == ("to_member_id", "转出与转入不能是同一成员")
    assert parties_fault("allocate", source=COLLECTIVE, target=COLLECTIVE) == (
        "to_member_id",
        "转出与转入不能是同一成员",
    )


def test_allocation_goes_from_the_collective_to_a_household_only():
    assert parties_fault("allocate", source=PERSON, target=HOUSEHOLD) == (
        "from_member_id",
        "配股只能从村集体的股份中划出",
    )
    assert parties_fault("allocate", source=OTHER_HOUSEHOLD, target=HOUSEHOLD)[0] == "from_member_id"
    assert parties_fault("allocate", source=COLLECTIVE, target=PERSON) == ("to_member_id", "配股只能配给农户")
    # A transfer may go anywhere.
    assert parties_fault("transfer", source=COLLECTIVE, target=PERSON) is None


# ---- no holding below zero on any day ---------------------------------------------------------------

D0 = date(2025, 1, 1)


def sub(member, shares, capital, on, cls="ordinary"):
    return ShareMovement("subscribe", None, member, cls, shares, capital, on)


def test_an_overdraw_is_refused_on_shares():
    history = [sub("c", 100, 10_000, D0)]
    with pytest.raises(Invalid) as caught:
        check_movement(history, ShareMovement("redeem", "c", None, "ordinary", 101, None, D0))
    assert fields(caught.value) == ["shares"]
    check_movement(history, ShareMovement("redeem", "c", None, "ordinary", 100, None, D0))


def test_a_back_dated_movement_may_not_overdraw_a_later_day():
    # Enough shares today, but the transfer out on 1 March already took them.
    history = [sub("c", 100, 10_000, D0), ShareMovement("transfer", "c", "h", "ordinary", 80, None, date(2025, 3, 1))]
    late = ShareMovement("redeem", "c", None, "ordinary", 30, None, date(2025, 2, 1))
    with pytest.raises(Invalid) as caught:
        check_movement(history, late)
    assert fields(caught.value) == ["shares"]
    # Before the subscription there is nothing to move at all.
    with pytest.raises(Invalid):
        check_movement(history, ShareMovement("transfer", "c", "h", "ordinary", 1, None, D0 - timedelta(days=1)))


def test_capital_that_does_not_fit_the_shares_is_refused_on_capital():
    history = [sub("c", 100, 10_000, D0)]
    # All the shares leave but part of the capital would stay behind.
    with pytest.raises(Invalid) as caught:
        check_movement(history, ShareMovement("redeem", "c", None, "ordinary", 100, 9_000, D0))
    assert fields(caught.value) == ["capital_fen"]
    assert caught.value.detail.startswith("股金与股数不符")
    # More capital than the holding has is an overdraw.
    with pytest.raises(Invalid) as caught:
        check_movement(history, ShareMovement("redeem", "c", None, "ordinary", 10, 10_001, D0))
    assert fields(caught.value) == ["shares"]


MEMBERS = ("c", "a", "b")
DAYS = tuple(D0 + timedelta(days=n) for n in (0, 10, 40, 100, 200, 364))

movements = st.builds(
    lambda kind, pair, cls, shares, capital, day: ShareMovement(
        kind,
        None if kind == "subscribe" else pair[0],
        None if kind == "redeem" else pair[1],
        cls,
        shares,
        None if capital < 0 and kind != "subscribe" else max(capital, 0),
        day,
    ),
    st.sampled_from(["subscribe", "subscribe", "allocate", "transfer", "redeem"]),
    st.permutations(MEMBERS).map(lambda p: (p[0], p[1])),
    st.sampled_from(["ordinary", "poverty"]),
    st.integers(1, 300),
    st.integers(-1000, 30_000),
    st.sampled_from(DAYS),
)


@settings(max_examples=400, deadline=None)
@given(candidates=st.lists(movements, max_size=25))
def test_accepted_movements_never_leave_a_holding_below_zero_on_any_day(candidates):
    accepted: list[ShareMovement] = []
    for movement in candidates:
        try:
            check_movement(accepted, movement)
        except Invalid as error:
            assert fields(error) in (["shares"], ["capital_fen"])
            continue
        accepted.append(movement)
    for day in (*DAYS, date.max):
        held = holdings_as_of(accepted, day)
        assert all(h.shares >= 0 and h.capital_fen >= 0 for h in held.values())
        # A holding with no shares keeps no capital.
        assert all(h.capital_fen == 0 for h in held.values() if h.shares == 0)
        upto = [m for m in accepted if m.effective_date <= day]
        issued = sum(m.shares for m in upto if m.kind == "subscribe") - sum(
            m.shares for m in upto if m.kind == "redeem"
        )
        assert sum(h.shares for h in held.values()) == issued


# ---- subsidies quantified equally --------------------------------------------------------------------


def test_only_a_cooperative_with_members_quantifies_a_subsidy():
    with pytest.raises(Invalid) as caught:
        quantify_subsidy("branch_company", 100, ["a"])
    assert fields(caught.value) == ["venture_id"]
    with pytest.raises(Invalid) as caught:
        quantify_subsidy("cooperative", 100, [])
    assert fields(caught.value) == ["received_on"]


def test_the_odd_fen_go_to_the_smallest_member_ids():
    assert quantify_subsidy("cooperative", 100, ["m3", "m1", "m2"]) == {"m3": 33, "m1": 34, "m2": 33}
    assert quantify_subsidy("cooperative", 2, ["m3", "m1", "m2"]) == {"m3": 0, "m1": 1, "m2": 1}


member_ids = st.lists(st.uuids().map(str), min_size=1, max_size=40, unique=True)


@settings(max_examples=500, deadline=None)
@given(amount=st.integers(1, 10**13), ids=member_ids)
def test_a_subsidy_splits_exactly_and_equally(amount, ids):
    shares = quantify_subsidy("cooperative", amount, ids)
    assert list(shares) == ids  # every member, in the order given
    assert sum(shares.values()) == amount
    assert all(part >= 0 for part in shares.values())
    base, odd = divmod(amount, len(ids))
    # Each gets the floor of an equal share; the odd fen one each to the smallest ids.
    assert {m: shares[m] - base for m in ids} == {m: int(i < odd) for i, m in enumerate(sorted(ids))}


# ---- 谁贫困谁享受 ----------------------------------------------------------------------------------------


def test_returned_shares_are_proposed_equally_to_the_poor_households():
    assert propose_reallocation(101, ["b", "c"]) == [ReallocationShare("b", 51), ReallocationShare("c", 50)]
    # Fewer shares than households: those whose share rounds to nothing are left out.
    assert propose_reallocation(2, ["z", "y", "x"]) == [ReallocationShare("y", 1), ReallocationShare("x", 1)]
    # No poor household left: nothing is proposed, the shares stay with the collective.
    assert propose_reallocation(50, []) == []


@settings(max_examples=500, deadline=None)
@given(shares=st.integers(1, 10**12), ids=st.lists(st.uuids().map(str), max_size=30, unique=True))
def test_a_proposal_reallocates_every_share_once(shares, ids):
    proposal = propose_reallocation(shares, ids)
    if not ids:
        assert proposal == []
        return
    assert sum(p.shares for p in proposal) == shares
    assert all(p.shares > 0 for p in proposal)
    chosen = [p.member_id for p in proposal]
    assert len(set(chosen)) == len(chosen) and chosen == [m for m in ids if m in set(chosen)]
    # Equal to a share: the smallest and largest parts of all households differ by at most one.
    parts = [next((p.shares for p in proposal if p.member_id == m), 0) for m in ids]
    assert max(parts) - min(parts) <= 1


def test_a_confirmation_must_reallocate_exactly_the_returned_shares():
    with pytest.raises(Invalid) as caught:
        reallocation_capital(101, 101_000, [ReallocationShare("b", 50), ReallocationShare("c", 50)])
    assert fields(caught.value) == ["items"]
    assert caught.value.detail == "调整的股数合计应为 101 股"
    assert reallocation_capital(101, 101_000, [ReallocationShare("b", 51), ReallocationShare("c", 50)]) == [
        51_000,
        50_000,
    ]
    # Three equal items share 100 fen: the odd fen to the first.
    assert reallocation_capital(3, 100, [ReallocationShare(m, 1) for m in "abc"]) == [34, 33, 33]


@settings(max_examples=500, deadline=None)
@given(
    parts=st.lists(st.integers(1, 10**6), min_size=1, max_size=25),
    capital=st.integers(0, 10**12),
)
def test_capital_follows_the_reallocated_shares_to_the_fen(parts, capital):
    items = [ReallocationShare(f"m{n}", s) for n, s in enumerate(parts)]
    total = sum(parts)
    split = reallocation_capital(total, capital, items)
    assert len(split) == len(items)
    assert sum(split) == capital
    assert all(c >= 0 for c in split)
    for item, c in zip(items, split, strict=True):
        assert abs(Fraction(c) - Fraction(capital * item.shares, total)) < 1
    for a, ca in zip(items, split, strict=True):
        for b, cb in zip(items, split, strict=True):
            if a.shares > b.shares:
                assert ca >= cb


# ---- the trades sheet ------------------------------------------------------------------------------------

MEMBERS_BY_REF = {"1": "id-1", "2": "id-2", "id-1": "id-1", "id-2": "id-2"}


def row(member="1", traded_on="2025-03-01", product="鸡蛋", quantity="50000", amount="60000", column="member_no"):
    return {column: member, "traded_on": traded_on, "product": product, "quantity_g": quantity, "amount_fen": amount}


def test_a_good_row_is_a_trade_and_a_row_without_member_a_non_member_trade():
    assert check_trade_row(2, row(), MEMBERS_BY_REF) == (TradeRow("id-1", date(2025, 3, 1), "鸡蛋", 50_000, 60_000), [])
    trade, errors = check_trade_row(3, row(member=""), MEMBERS_BY_REF)
    assert errors == [] and trade is not None and trade.member_id is None
    # A member may be named by id, in a member_id column.
    trade, _ = check_trade_row(4, row(member="id-2", column="member_id"), MEMBERS_BY_REF)
    assert trade is not None and trade.member_id == "id-2"
    # A row without either column is a non-member trade too.
    bare = row()
    del bare["member_no"]
    trade, _ = check_trade_row(5, bare, MEMBERS_BY_REF)
    assert trade is not None and trade.member_id is None


def test_every_fault_of_a_row_is_named_with_its_row():
    trade, errors = check_trade_row(
        7, row(member="9", traded_on="2025-13-01", product=" ", quantity="-1", amount="1.5"), MEMBERS_BY_REF
    )
    assert trade is None
    assert [(e["row"], e["field"]) for e in errors] == [
        (7, "member_no"),
        (7, "traded_on"),
        (7, "quantity_g"),
        (7, "amount_fen"),
        (7, "product"),
    ]
    assert errors[0]["message"] == "成员 9 不存在"


def test_figures_are_whole_numbers_within_bounds():
    assert check_trade_row(2, row(amount=str(10**13)), MEMBERS_BY_REF)[1] == []
    _, errors = check_trade_row(2, row(amount=str(10**13 + 1)), MEMBERS_BY_REF)
    assert [e["field"] for e in errors] == ["amount_fen"]
    _, errors = check_trade_row(2, row(quantity="1e3"), MEMBERS_BY_REF)
    assert [e["field"] for e in errors] == ["quantity_g"]


def test_a_sheet_is_imported_whole_or_not_at_all():
    good = [(2, row()), (3, row(member="2")), (4, row(member=""))]
    assert [t.member_id for t in check_trades_sheet(good, MEMBERS_BY_REF)] == ["id-1", "id-2", None]
    bad = [*good, (5, row(member="7")), (6, row(traded_on="2025-02-30")), (7, row(quantity="x", amount="y"))]
    with pytest.raises(Invalid) as caught:
        check_trades_sheet(bad, MEMBERS_BY_REF)
    assert caught.value.detail == "3 行有误，未导入任何数据"
    assert [(e["row"], e["field"]) for e in caught.value.errors or []] == [
        (5, "member_no"),
        (6, "traded_on"),
        (7, "quantity_g"),
        (7, "amount_fen"),
    ]


@settings(max_examples=300, deadline=None)
@given(flags=st.lists(st.booleans(), min_size=1, max_size=30))
def test_a_sheet_with_any_bad_row_is_refused_naming_exactly_the_bad_rows(flags):
    rows = [(n, row(amount="60000" if ok else "x")) for n, ok in enumerate(flags, start=2)]
    bad_rows = {n for n, ok in enumerate(flags, start=2) if not ok}
    if not bad_rows:
        assert len(check_trades_sheet(rows, MEMBERS_BY_REF)) == len(flags)
        return
    with pytest.raises(Invalid) as caught:
        check_trades_sheet(rows, MEMBERS_BY_REF)
    assert {e["row"] for e in caught.value.errors or []} == bad_rows


# ---- the register's lines ------------------------------------------------------------------------------------


def test_register_lines_by_member_number_then_class_without_empty_holdings():
    held = {
        ("b", "poverty"): Holding(10, 1_000),
        ("a", "poverty"): Holding(5, 500),
        ("b", "ordinary"): Holding(1, 100),
        ("a", "ordinary"): Holding(0, 0),
    }
    numbers = {"a": 2, "b": 1}
    assert [key for key, _ in register_rows(held, numbers)] == [
        ("b", "ordinary"),
        ("b", "poverty"),
        ("a", "poverty"),
    ]
    assert register_rows({}, numbers) == []
