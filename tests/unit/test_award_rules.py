"""The award rules around eligibility: grant selection, statuses, the split by level, serials, lists."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.awards.rules import (
    LEVELS,
    SERIAL_PREFIX,
    SOURCE_ALIASES,
    SOURCE_WORDS,
    EligibilityFacts,
    GrantCandidate,
    StatusEvent,
    check_eligibility,
    county_of_serial,
    held_decision,
    level_split,
    listed_hit,
    outside_window,
    program_problems,
    review_outcome,
    select_grants,
    serial_for,
    source_of,
    status_for,
)

# ---- grant selection: examples ------------------------------------------------------------------


def candidate(n: int, **kw) -> GrantCandidate:
    return GrantCandidate(application_id=uuid.UUID(int=1000 + n), household_id=uuid.UUID(int=n), **kw)


def ids(selected) -> list[int]:
    return [c.household_id.int for c in selected]


def test_first_applied_first_within_the_budget():
    chosen = select_grants(
        [candidate(n) for n in range(1, 11)], amount_fen=30_000, remaining_fen=239_999, one_per_family=True
    )
    assert ids(chosen.granted) == [1, 2, 3, 4, 5, 6, 7]
    assert ids(chosen.over_budget) == [8, 9, 10]
    assert chosen.left_fen == 29_999 and not chosen.held and not chosen.rejected


def test_a_new_list_hit_is_held_and_an_earlier_award_rejected():
    chosen = select_grants(
        [candidate(1, new_hit=True, earlier_award=True), candidate(2, earlier_award=True), candidate(3)],
        amount_fen=100,
        remaining_fen=1_000,
        one_per_family=True,
    )
    assert (ids(chosen.held), ids(chosen.rejected), ids(chosen.granted)) == ([1], [2], [3])
    assert chosen.left_fen == 900


def test_one_award_per_split_family_in_a_run():
    parent, child = candidate(1), candidate(2, split_from=uuid.UUID(int=1))
    chosen = select_grants([parent, child], amount_fen=100, remaining_fen=1_000, one_per_family=True)
    assert ids(chosen.granted) == [1] and ids(chosen.rejected) == [2]
    # The child first: the parent is the one refused.
    chosen = select_grants([child, parent], amount_fen=100, remaining_fen=1_000, one_per_family=True)
    assert ids(chosen.granted) == [2] and ids(chosen.rejected) == [1]
    # Two households split from the same one are not each other's family.
    sibling = candidate(3, split_from=uuid.UUID(int=1))
    chosen = select_grants([child, sibling], amount_fen=100, remaining_fen=1_000, one_per_family=True)
    assert ids(chosen.granted) == [2, 3]


def test_a_relative_over_budget_still_refuses_the_later_one():
    # Today's behaviour, kept on purpose: the family rule runs before the budget cut.
    parent, child = candidate(1), candidate(2, split_from=uuid.UUID(int=1))
    chosen = select_grants([candidate(0), parent, child], amount_fen=100, remaining_fen=100, one_per_family=True)
    assert ids(chosen.granted) == [0] and ids(chosen.over_budget) == [1] and ids(chosen.rejected) == [2]


def test_xiaokang_grants_ignore_the_family_rule():
    parent, child = candidate(1, earlier_award=True), candidate(2, split_from=uuid.UUID(int=1))
    chosen = select_grants([parent, child], amount_fen=100, remaining_fen=1_000, one_per_family=False)
    assert ids(chosen.granted) == [1, 2] and not chosen.rejected


def test_nothing_fits_an_empty_budget_and_bad_figures_are_refused():
    chosen = select_grants([candidate(1)], amount_fen=100, remaining_fen=99, one_per_family=True)
    assert not chosen.granted and ids(chosen.over_budget) == [1] and chosen.left_fen == 99
    assert select_grants([], amount_fen=100, remaining_fen=0, one_per_family=True).left_fen == 0
    with pytest.raises(ValueError):
        select_grants([], amount_fen=0, remaining_fen=100, one_per_family=True)
    with pytest.raises(ValueError):
        select_grants([], amount_fen=100, remaining_fen=-1, one_per_family=True)


# ---- grant selection: properties -------------------------------------------------------------------


@st.composite
def runs(draw):
    n = draw(st.integers(0, 25))
    households = [uuid.UUID(int=i + 1) for i in range(n)]
    outside = uuid.UUID(int=10_000)
    candidates = []
    for i, household in enumerate(households):
        split_from = draw(st.one_of(st.none(), st.just(outside), st.sampled_from(households)))
        if split_from == household:
            split_from = None
        candidates.append(
            GrantCandidate(
                application_id=uuid.UUID(int=100_000 + i),
                household_id=household,
                split_from=split_from,
                new_hit=draw(st.booleans()),
                earlier_award=draw(st.booleans()),
            )
        )
    return candidates


@settings(max_examples=500, deadline=None)
@given(
    candidates=runs(),
    amount=st.integers(1, 100_000),
    remaining=st.integers(0, 2_000_000),
    one_per_family=st.booleans(),
)
def test_grant_selection_properties(candidates, amount, remaining, one_per_family):
    chosen = select_grants(candidates, amount_fen=amount, remaining_fen=remaining, one_per_family=one_per_family)
    buckets = (chosen.granted, chosen.held, chosen.rejected, chosen.over_budget)
    everyone = [c for bucket in buckets for c in bucket]
    # Each candidate lands in exactly one bucket, and each bucket keeps the order of application.
    assert sorted(everyone, key=candidates.index) == candidates
    for bucket in buckets:
        assert list(bucket) == sorted(bucket, key=candidates.index)
    # Never more committed than remains; what is left is exact and cannot pay one more.
    assert len(chosen.granted) * amount <= remaining
    assert chosen.left_fen == remaining - len(chosen.granted) * amount >= 0
    if chosen.over_budget:
        assert chosen.left_fen < amount
    # Held are exactly the new list hits.
    assert list(chosen.held) == [c for c in candidates if c.new_hit]
    # First applied first: the granted are the head of those neither held nor rejected.
    waiting = [c for c in candidates if c not in chosen.held and c not in chosen.rejected]
    assert list(chosen.granted) + list(chosen.over_budget) == waiting
    assert len(chosen.granted) == min(len(waiting), remaining // amount)
    if not one_per_family:
        assert not chosen.rejected
        return
    # Exit awards: none to a household with an earlier award, never two in one split family.
    granted = {c.household_id for c in chosen.granted}
    for c in chosen.granted:
        assert not c.earlier_award and c.split_from not in granted
    # Each rejected one had an earlier award or a parent or child (分户) ahead of it in the run.
    for c in chosen.rejected:
        ahead = {w.household_id for w in waiting if candidates.index(w) < candidates.index(c)}
        children = {w.household_id for w in waiting if w.split_from == c.household_id}
        assert c.earlier_award or c.split_from in ahead or children & ahead


# ---- statuses -----------------------------------------------------------------------------------


def exit_facts(**changes) -> EligibilityFacts:
    base = dict(
        kind="exit",
        year=2024,
        status_events=(
            StatusEvent("registered", 2014, date(2014, 6, 1)),
            StatusEvent("exited", 2024, date(2024, 11, 20)),
        ),
        declared_income_fen=520_000,
        poverty_line_fen=400_000,
        xiaokang_line_fen=1_000_000,
    )
    base.update(changes)
    return EligibilityFacts(**base)


def test_status_for_each_outcome():
    assert status_for(check_eligibility(exit_facts())) == ("pending_village", "")
    status, reason = status_for(check_eligibility(exit_facts(declared_income_fen=1, split_after_registration=True)))
    assert status == "rejected" and reason.startswith("未通过资格审查：") and "低于" in reason
    assert "分户" not in reason  # only the rejecting checks are named
    status, reason = status_for(check_eligibility(exit_facts(split_after_registration=True)))
    assert status == "held" and reason == "须乡镇书面核实决定：建档立卡后分户，须核实是否重复享受"


def test_reviews_and_written_decisions():
    assert review_outcome("village", "approve", "") == ("pending_township", "")
    assert review_outcome("township", "approve", "好") == ("approved", "")
    assert review_outcome("village", "reject", "收入不实") == ("rejected", "村级审核不通过：收入不实")
    assert review_outcome("township", "reject", "x") == ("rejected", "乡镇审核不通过：x")
    assert held_decision(True, "属实") == ("pending_village", "乡镇书面决定继续办理：属实")
    assert held_decision(False, "有车") == ("rejected", "乡镇书面决定不予奖励：有车")


def test_application_window():
    day = date(2026, 1, 10)
    assert not outside_window(day, None, None)
    assert not outside_window(day, day, day)
    assert outside_window(day, date(2026, 2, 1), None)
    assert outside_window(day, None, date(2026, 1, 9))


def test_program_problems_name_each_field():
    shares = {"province": 5000, "city": 3000, "county": 2000}
    good = dict(kind="exit", shares=shares, notice_days=7, opens_on=None, closes_on=None, exit_notice_days=7)
    assert program_problems(**good) == []
    bad = {
        **good,
        "shares": {**shares, "county": 1000},
        "notice_days": 5,
        "opens_on": date(2026, 2, 1),
        "closes_on": date(2026, 1, 1),
    }
    assert [e["field"] for e in program_problems(**bad)] == ["cost_shares", "notice_days", "closes_on"]
    assert program_problems(**{**good, "kind": "xiaokang", "notice_days": 1}) == []


# ---- the split of an award by level ------------------------------------------------------------------


def test_level_split_examples():
    assert level_split(30_000, {"province": 5000, "city": 3000, "county": 2000}) == {
        "province": 15_000,
        "city": 9_000,
        "county": 6_000,
    }
    # The fen left over goes to the largest remainder (county's 3334 bp).
    assert level_split(100, {"province": 3333, "city": 3333, "county": 3334}) == {
        "province": 33,
        "city": 33,
        "county": 34,
    }


@st.composite
def shares(draw):
    province = draw(st.integers(0, 10000))
    city = draw(st.integers(0, 10000 - province))
    return {"province": province, "city": city, "county": 10000 - province - city}


@settings(max_examples=1000, deadline=None)
@given(amount=st.integers(0, 10**12), bp=shares())
def test_level_split_sums_exactly_and_stays_within_a_fen(amount, bp):
    parts = level_split(amount, bp)
    assert set(parts) == set(LEVELS)
    assert sum(parts.values()) == amount
    for level in LEVELS:
        assert parts[level] >= 0
        assert abs(parts[level] * 10000 - amount * bp[level]) < 10000
        if bp[level] == 0:
            assert parts[level] == 0


# ---- certificate serials -------------------------------------------------------------------------


def test_serials():
    assert serial_for("exit", "621223000000", 2025, 1) == "TP-621223-2025-000001"
    assert serial_for("xiaokang", "621223000000", 2026, 1234567) == "XK-621223-2026-1234567"
    assert county_of_serial("TP-621223-2025-000001") == "621223000000"
    for bad in ("", "TP-621223-2025", "AB-621223-2025-000001", "TP-62122-2025-000001", "TP-62122x-2025-1", "a-b-c-d-e"):
        assert county_of_serial(bad) is None, bad


@given(
    kind=st.sampled_from(sorted(SERIAL_PREFIX)),
    county=st.from_regex(r"[0-9]{6}000000", fullmatch=True),
    year=st.integers(2000, 2100),
    number=st.integers(1, 10**7),
)
def test_a_serial_names_its_county(kind, county, year, number):
    serial = serial_for(kind, county, year, number)
    assert serial.startswith(SERIAL_PREFIX[kind] + "-")
    assert county_of_serial(serial) == county


@given(st.text(max_size=40))
def test_county_of_any_text_is_none_or_a_county(text):
    county = county_of_serial(text)
    assert county is None or (len(county) == 12 and county.endswith("000000"))


# ---- cross-check lists ----------------------------------------------------------------------------


def test_source_aliases():
    assert source_of("vehicle") == "vehicle"
    assert source_of(" Business ") == "business_registration"
    assert source_of("PAYROLL") == "public_payroll"
    assert source_of("public_payroll") == "public_payroll"
    assert source_of("boat") is None and source_of("") is None
    assert set(SOURCE_ALIASES.values()) == set(SOURCE_WORDS)


def test_listed_hit_reads_for_the_reviewer():
    hit = listed_hit("vehicle", datetime(2026, 1, 9, 23, 30, tzinfo=UTC))
    assert hit.source == "vehicle" and hit.detail == "户主身份证号在车辆登记名单中（2026-01-09 导入）"
