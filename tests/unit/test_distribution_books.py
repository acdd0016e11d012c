"""From a venture's facts to a plan, and from a plan to the books: the pure steps between the
register and the ledger (service/distributions/rules.py), checked by hand."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import pytest

from schemas.distributions import Waterfall
from service.distributions.rules import (
    COMPANY_ACCOUNTS,
    COOPERATIVE_ACCOUNTS,
    CarriedState,
    Charter,
    ConservationError,
    Member,
    VentureFacts,
    account_specs,
    assert_conserved,
    carried_json,
    company_plan,
    compute_plan,
    holders_for,
    line_keys,
    notice_days_for,
    payables_for,
    plan_line_keys,
    posting_for,
    record_date,
    waterfall_of,
)
from service.ledger.rules import checked_lines
from service.ventures.rules import ShareMovement

COLLECTIVE = str(uuid.UUID(int=1))
POOR = str(uuid.UUID(int=2))
POOR_HOUSEHOLD = str(uuid.UUID(int=102))
ACCOUNTS = {key: uuid.uuid5(uuid.NAMESPACE_OID, key) for key in {*COMPANY_ACCOUNTS, *COOPERATIVE_ACCOUNTS}}


def facts(model="branch_company", charter=Charter(), movements=None, mmdd="12-31", **changes) -> VentureFacts:
    base = dict(
        venture_id=str(uuid.UUID(int=9)),
        county_code="621223000000",
        village_code="621223100201",
        model=model,
        registered_capital_fen=0,
        record_date_mmdd=mmdd,
        charter=charter,
        members={
            COLLECTIVE: Member(COLLECTIVE, None, "村集体", "collective"),
            POOR: Member(POOR, POOR_HOUSEHOLD, "贫困户", "household"),
        },
        movements=movements
        if movements is not None
        else [
            ShareMovement("subscribe", None, COLLECTIVE, "ordinary", 900, 900_000, dt.date(2024, 1, 1)),
            ShareMovement("subscribe", None, POOR, "poverty", 100, 100_000, dt.date(2024, 1, 1)),
        ],
        member_accounts={},
        volumes={},
        carried=CarriedState(),
    )
    return VentureFacts(**{**base, **changes})


def test_record_date_of_29_february_falls_on_the_28th_in_a_common_year():
    assert record_date(2024, "02-29") == dt.date(2024, 2, 29)
    assert record_date(2025, "02-29") == dt.date(2025, 2, 28)
    assert record_date(2100, "02-29") == dt.date(2100, 2, 28)  # not a leap year
    with pytest.raises(ValueError):
        record_date(2025, "02-30")


def test_holders_at_the_record_date_or_by_share_days():
    late = [
        ShareMovement("subscribe", None, COLLECTIVE, "ordinary", 900, 900_000, dt.date(2024, 1, 1)),
        ShareMovement("subscribe", None, POOR, "poverty", 100, 100_000, dt.date(2025, 7, 2)),
    ]
    floors = Charter(floor_mode="minimum", floor_bp=1000)
    at_midyear = holders_for(facts(charter=floors, movements=late, mmdd="06-30"), 2025)
    assert [(h.member_id, h.share_class, h.weight) for h in at_midyear] == [(COLLECTIVE, "ordinary", 900)]
    by_days = holders_for(
        facts(charter=Charter(weighting="share_days", floor_mode="minimum", floor_bp=1000), movements=late), 2025
    )
    poor = next(h for h in by_days if h.member_id == POOR)
    # 2 July to 31 December, both counted: 183 days of 365.
    assert poor.weight == 100 * 183 and poor.floor_base_fen == round(100_000 * 0.1 * 183 / 365)
    assert all(h.floor_base_fen == 0 for h in by_days if h.share_class == "ordinary")


def test_company_posting_closes_the_profit_and_credits_each_line():
    f = facts(registered_capital_fen=10**9)
    plan = compute_plan(f, 2025, 1_000_000)
    did = uuid.UUID(int=77)
    entry, payable_lines = posting_for(did, f, 2025, 1_000_000, plan, ACCOUNTS, dt.date(2026, 2, 1))
    checked_lines(entry)
    by_account: dict[uuid.UUID, int] = {}
    for line in entry.lines:
        by_account[line.account_id] = by_account.get(line.account_id, 0) + line.amount_fen
    assert by_account[ACCOUNTS["profit"]] == 1_000_000
    assert by_account[ACCOUNTS["statutory"]] == -100_000
    assert by_account[ACCOUNTS["payable"]] == -900_000
    assert by_account[ACCOUNTS["appropriation"]] == 0  # closed, then fully appropriated
    assert entry.idempotency_key == f"distribution:{did}" and entry.memo == "2025 年度利润分配"
    # Only the household's line becomes a payable; the collective's stays a credit to 2232.
    payables = payables_for(did, f, uuid.UUID(int=5), payable_lines, ACCOUNTS["bank"], {})
    assert [(str(p.household_id), p.amount_fen, p.source_ref) for p in payables] == [
        (POOR_HOUSEHOLD, 90_000, f"{POOR}:shares")
    ]
    assert payables[0].village_code == "621223100201"


def test_cooperative_patronage_credits_221_and_the_rest_222():
    f = facts(
        model="cooperative",
        member_accounts={COLLECTIVE: (900_000, 0, 0), POOR: (100_000, 0, 0)},
        volumes={POOR: 50_000},
    )
    plan = compute_plan(f, 2025, 100_000)
    entry, payable_lines = posting_for(uuid.UUID(int=1), f, 2025, 100_000, plan, ACCOUNTS, dt.date(2026, 2, 1))
    checked_lines(entry)
    assert {(pl.basis, account) for pl, account in payable_lines} == {
        ("patronage", ACCOUNTS["patronage_payable"]),
        ("capital", ACCOUNTS["payable"]),
    }
    assert entry.memo == "2025 年度盈余分配"
    specs = account_specs(f.venture_id, "cooperative")
    assert specs["patronage_payable"].code == "221" and specs["statutory"].code == "322"


def test_arrears_move_through_the_memorandum_pair():
    charter = Charter(floor_mode="preferred", floor_bp=1000, poverty_participates=False)
    f = facts(charter=charter)
    # No registered capital, so no statutory reserve: all 5,000 is distributable; the floor owed is 10,000.
    plan = compute_plan(f, 2025, 5_000)
    entry, _ = posting_for(uuid.UUID(int=1), f, 2025, 5_000, plan, ACCOUNTS, dt.date(2026, 2, 1))
    memo = [(line.amount_fen, str(line.party_id)) for line in entry.lines if line.account_id == ACCOUNTS["arrears"]]
    assert memo == [(5_000, POOR)]
    assert sum(line.amount_fen for line in entry.lines if line.account_id == ACCOUNTS["arrears_contra"]) == -5_000


def test_waterfall_and_carried_state_as_stored():
    plan = compute_plan(facts(registered_capital_fen=10**9), 2025, 1_000)
    waterfall = waterfall_of(plan)
    assert list(waterfall) == list(Waterfall.__struct_fields__)
    assert msgspec.convert(waterfall, Waterfall).distributable_fen == 900
    carried = carried_json(CarriedState(1, 2, {"b": 3, "a": 4}))
    assert carried == {
        "losses_carried_fen": 1,
        "statutory_reserve_balance_fen": 2,
        "arrears_by_member": {"a": 4, "b": 3},
    }
    assert list(carried["arrears_by_member"]) == ["a", "b"]


def test_stored_lines_compare_with_a_fresh_plan_in_any_order():
    plan = compute_plan(facts(), 2025, 1_000)
    stored = [(line.member_id, line.basis, line.amount_fen) for line in reversed(plan.lines)]
    assert line_keys(stored) == plan_line_keys(plan)
    assert line_keys(stored[1:]) != plan_line_keys(plan)


def test_notice_days_by_kind_of_venture():
    assert notice_days_for("cooperative", 15, 10) == 15
    assert notice_days_for("branch_company", 15, 10) == 10


def test_a_conservation_error_names_no_plan():
    plan = company_plan(1_000, 0, Charter(), CarriedState(), [])
    with pytest.raises(ConservationError) as caught:
        assert_conserved(plan, 1_001)
    message = str(caught.value)
    assert "profit is not fully accounted for" in message and "Plan(" not in message and len(message) < 120
    assert caught.value.plan is plan


POOR2 = str(uuid.UUID(int=3))
POOR2_HOUSEHOLD = str(uuid.UUID(int=103))


def _reclaimed(charter: Charter) -> VentureFacts:
    """POOR left poverty on 1 July 2025 and its 100 poverty shares went back to the collective
    (谁贫困谁享受), not yet reallocated; POOR2 still holds 50 poverty shares on 50,000 fen."""
    members = {
        COLLECTIVE: Member(COLLECTIVE, None, "村集体", "collective"),
        POOR: Member(POOR, POOR_HOUSEHOLD, "脱贫户", "household"),
        POOR2: Member(POOR2, POOR2_HOUSEHOLD, "贫困户", "household"),
    }
    movements = [
        ShareMovement("subscribe", None, COLLECTIVE, "ordinary", 900, 900_000, dt.date(2024, 1, 1)),
        ShareMovement("subscribe", None, POOR, "poverty", 100, 100_000, dt.date(2024, 1, 1)),
        ShareMovement("subscribe", None, POOR2, "poverty", 50, 50_000, dt.date(2024, 1, 1)),
        ShareMovement("transfer", POOR, COLLECTIVE, "poverty", 100, 100_000, dt.date(2025, 7, 1)),
    ]
    return facts(charter=charter, movements=movements, members=members)


def test_poverty_shares_reclaimed_to_the_collective_carry_no_floor_and_count_as_ordinary():
    # At the record date (31 December) the collective holds its 900 ordinary shares and the 100
    # reclaimed poverty shares: one ordinary holding of 1,000 shares, no floor. POOR2's floor
    # stays: 10% of 50,000 = 5,000.
    f = _reclaimed(Charter(floor_mode="minimum", floor_bp=1_000))
    holders = holders_for(f, 2025)
    assert [(h.member_id, h.share_class, h.shares, h.capital_fen, h.weight, h.floor_base_fen) for h in holders] == [
        (COLLECTIVE, "ordinary", 1_000, 1_000_000, 1_000, 0),
        (POOR2, "poverty", 50, 50_000, 50, 5_000),
    ]
    # 10,000 fen: POOR2's share, 10,000 × 50 / 1,050 = 476, is below its floor, so it gets 5,000;
    # the other 5,000 go to the collective by its shares. (When the reclaimed shares still earned
    # a floor of 10,000 for the collective, the 10,000 fen fell short of 15,000 of floors and were
    # split 2:1 by floor: 6,667 to the collective, 3,333 to POOR2.)
    plan = compute_plan(f, 2025, 10_000)
    assert [(line.member_id, line.basis, line.amount_fen) for line in plan.lines] == [
        (COLLECTIVE, "shares", 5_000),
        (POOR2, "floor", 5_000),
    ]


def test_reclaimed_shares_count_with_the_collective_by_days_and_the_household_keeps_its_days():
    # By share-days in 2025 (365 days): POOR held its poverty shares 1 January – 30 June, 181
    # days, so its floor is 100,000 × 10% × 181 / 365 = 4,958.9 → 4,959; the collective held the
    # same 100 shares the other 184 days, as ordinary shares: 900 × 365 + 100 × 184 = 346,900.
    f = _reclaimed(Charter(weighting="share_days", floor_mode="minimum", floor_bp=1_000))
    holders = {(h.member_id, h.share_class): h for h in holders_for(f, 2025)}
    assert set(holders) == {(COLLECTIVE, "ordinary"), (POOR, "poverty"), (POOR2, "poverty")}
    assert holders[(COLLECTIVE, "ordinary")].weight == 346_900
    assert holders[(COLLECTIVE, "ordinary")].floor_base_fen == 0
    assert holders[(POOR, "poverty")].weight == 18_100 and holders[(POOR, "poverty")].floor_base_fen == 4_959
    assert holders[(POOR2, "poverty")].weight == 18_250 and holders[(POOR2, "poverty")].floor_base_fen == 5_000


def _by_account(entry) -> dict[uuid.UUID, int]:
    totals: dict[uuid.UUID, int] = {}
    for line in entry.lines:
        totals[line.account_id] = totals.get(line.account_id, 0) + line.amount_fen
    return totals


def test_fixed_guaranteed_returns_are_a_finance_cost_in_a_loss_year_too():
    # POOR's 100,000 fen of poverty capital at a fixed 10%: 10,000 owed. The year loses 50,000
    # fen after that cost: the loss is closed to 4104 as it is (not 60,000), and the guaranteed
    # return is owed against 6603 财务费用, credited to 2231 应付利息 and paid to the household.
    f = facts(charter=Charter(floor_mode="fixed", floor_bp=1_000))
    plan = compute_plan(f, 2025, -50_000)
    assert plan.loss_added_fen == 50_000 and plan.carried.losses_carried_fen == 50_000
    entry, payable_lines = posting_for(uuid.UUID(int=1), f, 2025, -50_000, plan, ACCOUNTS, dt.date(2026, 2, 1))
    checked_lines(entry)
    by_account = _by_account(entry)
    assert by_account[ACCOUNTS["profit"]] == -50_000  # Cr 4103: the loss closed
    assert by_account[ACCOUNTS["appropriation"]] == 50_000  # Dr 4104: the loss carried forward
    assert by_account[ACCOUNTS["finance_cost"]] == 10_000  # Dr 6603
    assert by_account[ACCOUNTS["guaranteed_payable"]] == -10_000  # Cr 2231, the household's
    assert ACCOUNTS["payable"] not in by_account  # no dividend in a loss year
    payables = payables_for(uuid.UUID(int=1), f, uuid.UUID(int=5), payable_lines, ACCOUNTS["bank"], {})
    assert [(str(p.household_id), p.amount_fen, p.payable_account_id) for p in payables] == [
        (POOR_HOUSEHOLD, 10_000, ACCOUNTS["guaranteed_payable"])
    ]
    specs = account_specs(f.venture_id, "branch_company")
    assert (specs["finance_cost"].code, specs["finance_cost"].name) == ("6603", "财务费用")
    assert (specs["guaranteed_payable"].code, specs["guaranteed_payable"].name) == ("2231", "应付利息")


def test_a_cooperatives_guaranteed_returns_post_to_524():
    f = facts(
        model="cooperative",
        charter=Charter(floor_mode="fixed", floor_bp=1_000, patronage_bp=6_000, reserve_bp=1_000),
        member_accounts={COLLECTIVE: (900_000, 0, 0), POOR: (100_000, 0, 0)},
        volumes={POOR: 50_000},
    )
    plan = compute_plan(f, 2025, 100_000)
    # The waterfall runs on the surplus as it is: reserve 10% of 100,000 = 10,000, distributable
    # 90,000, 60% of it (54,000) returned by trade; the 10,000 guaranteed return is on top of the
    # 90,000, a cost the surplus is already net of.
    assert plan.reserve_fen == 10_000 and plan.distributable_fen == 90_000 and plan.patronage_fen == 54_000
    assert plan.floor_expense_fen == 10_000 and plan.distributed_fen == 90_000
    entry, _ = posting_for(uuid.UUID(int=1), f, 2025, 100_000, plan, ACCOUNTS, dt.date(2026, 2, 1))
    checked_lines(entry)
    by_account = _by_account(entry)
    assert by_account[ACCOUNTS["finance_cost"]] == 10_000 and by_account[ACCOUNTS["guaranteed_payable"]] == -10_000
    assert by_account[ACCOUNTS["appropriation"]] == 0  # the surplus closed to 332, then all appropriated
    specs = account_specs(f.venture_id, "cooperative")
    assert (specs["finance_cost"].code, specs["finance_cost"].name) == ("524", "财务费用")
    assert (specs["guaranteed_payable"].code, specs["guaranteed_payable"].name) == ("211", "应付款")
